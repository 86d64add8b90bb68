"""The gateway forwards to the right service, streams both ways, and maps failures to clear errors."""

from __future__ import annotations

import hashlib
import os
import time

import httpx
import pytest

from tests.processes import ServiceProcess

MB = 1024 * 1024


def test_routes_each_prefix_to_its_service(gateway: ServiceProcess) -> None:
    expected = {
        "/v1/faq/collections": "chatbot",
        "/v1/ocr/text": "ocr",
        "/v1/matches/7": "ocr",
        "/v1/sql/ask": "seq2sql",
        "/v1/audio/voices": "tts",
        "/v1/conversation/topics": "tts",
    }
    for path, service in expected.items():
        body = httpx.get(gateway.url + path, params={"q": "말글 1"}).json()
        assert body["service"] == service, path
        assert body["path"] == path
        assert body["query"] == "q=%EB%A7%90%EA%B8%80+1"


def test_unknown_route_is_a_problem_404(gateway: ServiceProcess) -> None:
    response = httpx.get(gateway.url + "/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_large_upload_is_streamed_through_not_buffered(
    gateway: ServiceProcess, backends: dict[str, ServiceProcess]
) -> None:
    chunk = os.urandom(MB)
    digest = hashlib.sha256()
    seen_by_backend_early = []

    def body():
        for i in range(6):
            digest.update(chunk)
            yield chunk
            if i == 1:
                # The backend must already hold data while the client is still sending.
                deadline = time.monotonic() + 5
                received = 0
                while time.monotonic() < deadline and received == 0:
                    received = httpx.get(backends["ocr"].url + "/openapi-test/received").json()["received"]
                    time.sleep(0.05)
                seen_by_backend_early.append(received)

    response = httpx.post(gateway.url + "/v1/ocr/upload", content=body(), timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {"bytes": 6 * MB, "sha256": digest.hexdigest()}
    assert seen_by_backend_early[0] > 0


def test_response_is_streamed_as_the_backend_produces_it(gateway: ServiceProcess) -> None:
    started = time.monotonic()
    with httpx.stream("GET", gateway.url + "/v1/audio/drip", timeout=10) as response:
        chunks = response.iter_raw()
        first = next(chunks)
        first_at = time.monotonic() - started
        rest = b"".join(chunks)
    assert first.startswith(b"first chunk")
    assert first_at < 1.5
    assert rest.endswith(b"second chunk\n")


def test_a_response_that_stalls_midway_reaches_the_client_as_broken(gateway: ServiceProcess) -> None:
    """Headers are sent, then the service stalls past the route's timeout (1.5 s): the client must not get what
    looks like a complete answer (say, a WAV header and no audio)."""
    with httpx.stream("GET", gateway.url + "/v1/faq/drip", params={"pause": 5}, timeout=10) as response:
        assert response.status_code == 200
        chunks = response.iter_raw()
        assert next(chunks).startswith(b"first chunk")
        with pytest.raises(httpx.RemoteProtocolError):
            b"".join(chunks)
    assert httpx.get(gateway.url + "/v1/faq/ping", timeout=10).status_code == 200  # the gateway carries on


def test_slow_backend_gives_504_at_the_route_timeout(gateway: ServiceProcess) -> None:
    started = time.monotonic()
    response = httpx.get(gateway.url + "/v1/faq/slow", params={"seconds": 5}, timeout=10)
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert "chatbot" in response.json()["detail"]
    assert 1.4 <= elapsed < 3.0
    # A route with a longer timeout still answers.
    assert httpx.get(gateway.url + "/v1/sql/slow", params={"seconds": 2}, timeout=10).status_code == 200


def test_a_small_answer_that_stalls_halfway_gives_504_at_the_route_timeout(gateway: ServiceProcess) -> None:
    """Headers and half of a short JSON body, then nothing: the service is slow, not gone (504, not 503)."""
    started = time.monotonic()
    response = httpx.get(gateway.url + "/v1/faq/stall-body", params={"pause": 5}, timeout=10)
    assert response.status_code == 504
    assert "did not answer within" in response.json()["detail"]
    assert time.monotonic() - started < 4.0


def test_upload_over_the_limit_is_413_by_header_and_while_streaming(gateway: ServiceProcess) -> None:
    too_big = b"x" * (9 * MB)
    declared = httpx.post(gateway.url + "/v1/ocr/upload", content=too_big, timeout=30)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"

    def undeclared():
        for _ in range(9):
            yield b"y" * MB

    streamed = httpx.post(gateway.url + "/v1/ocr/upload", content=undeclared(), timeout=30)
    assert streamed.status_code == 413
    assert "limit" in streamed.json()["detail"]


def test_request_id_is_echoed_forwarded_and_generated(gateway: ServiceProcess) -> None:
    response = httpx.get(gateway.url + "/v1/faq/whoami", headers={"X-Request-ID": "test-req-42"})
    assert response.headers["x-request-id"] == "test-req-42"
    assert response.json()["request_id"] == "test-req-42"
    generated = httpx.get(gateway.url + "/v1/faq/whoami")
    assert len(generated.headers["x-request-id"]) >= 16
    assert generated.json()["request_id"] == generated.headers["x-request-id"]
    assert httpx.get(gateway.url + "/healthz").headers["x-request-id"]


def test_metrics_count_forwarded_requests(gateway: ServiceProcess) -> None:
    httpx.get(gateway.url + "/v1/matches")
    text = httpx.get(gateway.url + "/metrics").text
    assert 'malgeul_gateway_upstream_requests_total{outcome="200",service="ocr"}' in text


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_methods_pass_through(gateway: ServiceProcess, method: str) -> None:
    response = httpx.request(method, gateway.url + "/v1/faq/collections/demo", json={"entries": []})
    assert response.json()["method"] == method
