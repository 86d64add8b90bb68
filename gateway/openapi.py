"""The gateway's `/openapi.json`: its own routes plus every service's, fetched over HTTP and merged.

Each service's document is cached once fetched, so the gateway keeps documenting a service that
is down for a while. Public routes gain the errors the gateway itself answers (401, 413, 429, 503, 504).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from typing import Any

import httpx

from common.errors import PROBLEM_MEDIA_TYPE

logger = logging.getLogger("malgeul.gateway.openapi")

_GATEWAY_ERRORS = {
    "401": "API key missing or invalid",
    "413": "Request body too large",
    "429": "Rate limit exceeded",
    "503": "The service is down or still loading",
    "504": "The service did not answer in time",
}
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[1]
                out[key] = "#/components/schemas/" + renames.get(name, name)
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def merge(base: dict[str, Any], documents: dict[str, dict[str, Any]], secured: bool) -> dict[str, Any]:
    """Merge service documents into ``base``; schema names that clash with a different schema get a prefix."""
    merged = copy.deepcopy(base)
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    merged["components"]["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for service, document in documents.items():
        theirs = document.get("components", {}).get("schemas", {})
        renames = {
            name: f"{service}_{name}"
            for name, schema in theirs.items()
            if name in schemas and json.dumps(schemas[name], sort_keys=True) != json.dumps(schema, sort_keys=True)
        }
        for name, schema in _rename_refs(theirs, renames).items():
            schemas[renames.get(name, name)] = schema
        for path, item in _rename_refs(document.get("paths", {}), renames).items():
            if not path.startswith("/v1/"):
                continue  # a service's own health and metrics routes are not public
            for method, operation in item.items():
                if method not in _HTTP_METHODS:
                    continue
                operation.setdefault("tags", [service])
                responses = operation.setdefault("responses", {})
                for status, description in _GATEWAY_ERRORS.items():
                    if status == "401" and not secured:
                        continue
                    responses.setdefault(
                        status, {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}}
                    )
                if secured:
                    operation["security"] = [{"bearerAuth": []}]
            merged.setdefault("paths", {})[path] = item
    return merged


class ServiceDocs:
    """Fetches and caches each service's OpenAPI document."""

    def __init__(self, client: httpx.AsyncClient, service_urls: dict[str, str], timeout: float = 2.0):
        self.client = client
        self.service_urls = service_urls
        self.timeout = timeout
        self.cache: dict[str, dict[str, Any]] = {}

    async def _fetch(self, service: str) -> None:
        try:
            response = await self.client.get(self.service_urls[service] + "/openapi.json", timeout=self.timeout)
            response.raise_for_status()
            self.cache[service] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            logger.info("service document not available", extra={"service": service, "error": type(exc).__name__})

    async def documents(self, refresh: bool = False) -> dict[str, dict[str, Any]]:
        wanted = [s for s in self.service_urls if refresh or s not in self.cache]
        await asyncio.gather(*(self._fetch(s) for s in wanted))
        return {s: self.cache[s] for s in self.service_urls if s in self.cache}
