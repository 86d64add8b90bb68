"""API keys and per-key rate limits for `/v1/*`."""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from limits import parse
from limits.storage import storage_from_string
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.requests import Request

from common.errors import ProblemError


class KeyAuthenticator:
    """Checks `Authorization: Bearer <key>` against the configured keys in constant time.

    Returns a principal id (a hash prefix, never the key itself) to rate-limit and log by.
    """

    def __init__(self, keys: list[str]) -> None:
        self._keys = [k.encode() for k in keys]

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def authenticate(self, request: Request) -> str:
        if not self._keys:
            client = request.client.host if request.client else "unknown"
            return f"addr:{client}"
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ProblemError(
                401,
                "This server requires an API key: send 'Authorization: Bearer <key>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        candidate = token.strip().encode()
        # Compare against every key so the time taken does not depend on which one matched.
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(candidate, key)
        if not matched:
            raise ProblemError(401, "The API key is not valid.", headers={"WWW-Authenticate": "Bearer"})
        return "key:" + hashlib.sha256(candidate).hexdigest()[:12]


class RateLimiter:
    """A moving-window limit per principal (per key, or per address when configured for anonymous use)."""

    def __init__(self, key_limit: str, anonymous_limit: str, storage_uri: str) -> None:
        self._key_limit = parse(key_limit) if key_limit else None
        self._anonymous_limit = parse(anonymous_limit) if anonymous_limit else None
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    async def hit(self, principal: str) -> None:
        limit = self._key_limit if principal.startswith("key:") else self._anonymous_limit
        if limit is None:
            return
        if await self._limiter.hit(limit, principal):
            return
        reset_at, _ = await self._limiter.get_window_stats(limit, principal)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise ProblemError(
            429,
            f"Rate limit of {limit} exceeded for this client; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
