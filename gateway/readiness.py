"""Readiness of the whole product, aggregated from every service's own `/readyz`."""

from __future__ import annotations

import asyncio
from typing import Literal

import httpx
from pydantic import BaseModel

ServiceState = Literal["ready", "loading", "down"]


class ProductReadiness(BaseModel):
    """`ready` when every service is; otherwise `degraded` with each service's state."""

    status: Literal["ready", "degraded"]
    services: dict[str, ServiceState]


async def _probe(client: httpx.AsyncClient, url: str, timeout: float) -> ServiceState:
    try:
        response = await client.get(url + "/readyz", timeout=timeout)
    except httpx.HTTPError:
        return "down"
    if response.status_code == 200:
        return "ready"
    try:
        status = response.json().get("status")
    except ValueError:
        status = None
    return "loading" if status == "loading" else "down"


async def check(client: httpx.AsyncClient, service_urls: dict[str, str], timeout: float) -> ProductReadiness:
    names = list(service_urls)
    states = await asyncio.gather(*(_probe(client, service_urls[n], timeout) for n in names))
    services: dict[str, ServiceState] = dict(zip(names, states, strict=True))
    status: Literal["ready", "degraded"] = "ready" if all(s == "ready" for s in states) else "degraded"
    return ProductReadiness(status=status, services=services)
