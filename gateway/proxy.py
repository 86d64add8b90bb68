"""The reverse proxy: streams requests to a service and its response back, with limits and timeouts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL
from prometheus_client import Counter, Histogram
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from common.errors import problem_response
from common.logging import request_id_var
from gateway.routing import SERVICE_TITLES, Route

logger = logging.getLogger("malgeul.gateway.proxy")

# How long an idle connection to a service stays in the pool; shorter than the services keep it
# (common.service.KEEP_ALIVE_SECONDS), so the gateway never reuses one the service is closing.
POOL_IDLE_SECONDS = 30

# Headers that describe one hop, not the message (RFC 9110 section 7.6.1), plus ones we set ourselves.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "x-request-id",
    }
)
# The API key stays at the gateway: services never see it, so it cannot end up in their logs.
_REQUEST_DROP = HOP_BY_HOP | {"authorization"}
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
# Answers up to this size with a declared length are relayed whole; larger or open-ended ones stream.
_BUFFER_BYTES = 256 * 1024
# Characters a path may carry as they are (RFC 3986 pchar and "/"); "%" keeps the client's escapes.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def _upstream_path(request: Request) -> str:
    """The path as the client escaped it: forwarding the decoded one would turn %3F into a query, %23 into a
    fragment, and a space or non-ASCII letter into a request line the service's parser rejects."""
    raw = request.scope.get("raw_path")
    return quote(raw if raw else request.url.path.encode(), safe=_PATH_SAFE)


UPSTREAM_REQUESTS = Counter(
    "malgeul_gateway_upstream_requests_total", "Requests forwarded to a service", ["service", "outcome"]
)
UPSTREAM_SECONDS = Histogram(
    "malgeul_gateway_upstream_seconds", "Time until a service's response headers arrived", ["service"]
)


async def _release(response: aiohttp.ClientResponse) -> None:
    # An async callable: starlette runs a sync one (as `response.release` is) in its thread pool, which at 64
    # concurrent requests cost the gateway half its throughput.
    response.release()


class UpstreamBrokeOff(Exception):
    """A service's streamed answer broke off after its headers were relayed."""


class _RelayResponse(StreamingResponse):
    """A streamed answer that, when the service breaks off, is left incomplete: uvicorn then closes the connection
    without the closing chunk, which is how the client learns the answer is broken."""

    def __init__(self, content: AsyncIterator[bytes], *, upstream: aiohttp.ClientResponse, **kwargs: Any) -> None:
        super().__init__(content, background=BackgroundTask(_release, upstream), **kwargs)
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except UpstreamBrokeOff:
            self.upstream.release()


class UploadTooLarge(Exception):
    """The request body passed the configured limit while it was being streamed."""


async def _limited(stream: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise UploadTooLarge
        yield chunk


def _too_large(limit: int) -> Response:
    return problem_response(413, f"The request body is larger than the limit of {limit // (1024 * 1024)} MB.")


class Proxy:
    """Forwards to the services over one pooled aiohttp session; errors become problem+json naming the service.

    aiohttp rather than httpx on this hot path: it measured ~40% less gateway CPU per request
    (docs/performance.md), which is what bounds latency on a 2-core machine.
    """

    def __init__(self, service_urls: dict[str, str], connect_timeout: float, max_connections: int, max_upload: int):
        self.service_urls = service_urls
        self.max_upload = max_upload
        self.connect_timeout = connect_timeout
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=POOL_IDLE_SECONDS),
            auto_decompress=False,  # bodies pass through as the service encoded them
            skip_auto_headers=("Accept-Encoding", "User-Agent"),
        )

    async def aclose(self) -> None:
        await self.session.close()

    def _upstream_headers(self, request: Request, principal: str) -> list[tuple[str, str]]:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _REQUEST_DROP]
        headers.append(("x-request-id", request_id_var.get() or ""))
        client = request.client.host if request.client else ""
        forwarded = request.headers.get("x-forwarded-for")
        headers.append(("x-forwarded-for", f"{forwarded}, {client}" if forwarded else client))
        headers.append(("x-malgeul-principal", principal))
        return headers

    async def forward(self, request: Request, route: Route, principal: str) -> Response:
        service = route.service
        title = SERVICE_TITLES.get(service, service)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_upload:
            UPSTREAM_REQUESTS.labels(service, "too_large").inc()
            return _too_large(self.max_upload)

        has_body = request.method not in _NO_BODY_METHODS or bool(declared and declared != "0")
        url = self.service_urls[service] + _upstream_path(request)
        if request.url.query:
            url += "?" + request.url.query
        started = time.perf_counter()
        try:
            # asyncio.timeout rather than wait_for: no extra task per request on the hot path.
            async with asyncio.timeout(route.timeout):
                response = await self.session.request(
                    request.method,
                    URL(url, encoded=True),
                    headers=self._upstream_headers(request, principal),
                    data=_limited(request.stream(), self.max_upload) if has_body else None,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout, sock_read=route.timeout),
                )
        except UploadTooLarge:
            UPSTREAM_REQUESTS.labels(service, "too_large").inc()
            return _too_large(self.max_upload)
        except ClientDisconnect:
            UPSTREAM_REQUESTS.labels(service, "client_gone").inc()
            return problem_response(400, "The client closed the connection before the request was complete.")
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            if isinstance(exc, aiohttp.ConnectionTimeoutError):
                return self._unavailable(service, title, "did not accept a connection in time")
            return self._timed_out(service, title, route.timeout)
        except aiohttp.ClientError as exc:
            if isinstance(exc.__cause__, UploadTooLarge) or isinstance(exc.__context__, UploadTooLarge):
                UPSTREAM_REQUESTS.labels(service, "too_large").inc()
                return _too_large(self.max_upload)
            return self._unavailable(service, title, f"is unreachable ({type(exc).__name__})")
        UPSTREAM_SECONDS.labels(service).observe(time.perf_counter() - started)
        UPSTREAM_REQUESTS.labels(service, str(response.status)).inc()
        headers = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
        length = response.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) <= _BUFFER_BYTES:
            # A small body of known length (most JSON answers) is read whole and sent in one piece:
            # streaming it costs the gateway a task and several sends for nothing.
            try:
                body = await response.read()
            except (TimeoutError, aiohttp.ServerTimeoutError):
                return self._timed_out(service, title, route.timeout)
            except aiohttp.ClientError:
                return self._unavailable(service, title, "broke off its answer")
            finally:
                response.release()
            # Response sets the length itself, whatever spelling the service used.
            headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
            return Response(body, status_code=response.status, headers=headers)
        return _RelayResponse(
            self._relay(response, service),
            status_code=response.status,
            headers=headers,
            upstream=response,
        )

    async def _relay(self, response: aiohttp.ClientResponse, service: str) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Headers are already sent: the connection is aborted (no closing chunk), so the client sees a broken
            # answer rather than a complete-looking one, such as a WAV header with no audio.
            logger.warning("service response broke off", extra={"service": service, "error": type(exc).__name__})
            raise UpstreamBrokeOff(service) from None

    def _timed_out(self, service: str, title: str, timeout: float) -> Response:
        """504: the service is there but slow (before its headers, or in the middle of a small answer)."""
        UPSTREAM_REQUESTS.labels(service, "timeout").inc()
        logger.warning("service timed out", extra={"service": service, "timeout_s": timeout})
        return problem_response(504, f"The {title} service ({service}) did not answer within {timeout:g} s.")

    def _unavailable(self, service: str, title: str, why: str) -> Response:
        UPSTREAM_REQUESTS.labels(service, "unavailable").inc()
        logger.warning("service unavailable", extra={"service": service, "why": why})
        return problem_response(
            503,
            f"The {title} service ({service}) {why}; the other services keep working.",
            headers={"Retry-After": "5"},
        )
