"""One way to build and run a service process: the same middleware, errors, health and metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI

from common.errors import PROBLEM_MEDIA_TYPE, Problem, install_problem_handlers
from common.health import Readiness, health_router
from common.logging import RequestIdMiddleware, configure_logging
from common.metrics import instrument
from common.settings import ServiceSettings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]

# How long a service keeps an idle HTTP connection open. It must outlast the gateway's pool
# (gateway.proxy.POOL_IDLE_SECONDS): with uvicorn's default of 5 s a service could close a connection just as
# the gateway sent a request on it, and the user got a 503 for a service that was up.
KEEP_ALIVE_SECONDS = 75


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    readiness: Readiness,
    routers: Sequence[APIRouter],
    lifespan: Lifespan | None = None,
    version: str = "1.0.0",
) -> FastAPI:
    """A FastAPI app with request ids, JSON access logs, problem+json errors, health and metrics."""
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    app.state.service_name = name
    app.state.readiness = readiness
    install_problem_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health_router(readiness))
    for router in routers:
        app.include_router(router)
    instrument(app)
    _document_unreadable_bodies(app)
    return app


def _document_unreadable_bodies(app: FastAPI) -> None:
    """Every operation that reads a body answers 400 to one it cannot parse (JSON that is not UTF-8, a broken
    multipart form): FastAPI does so but does not document it, so the API document says it here."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        problem = {"$ref": "#/components/schemas/Problem"}
        for item in document.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    operation.setdefault("responses", {}).setdefault(
                        "400",
                        {"description": "The body cannot be parsed", "content": {PROBLEM_MEDIA_TYPE: {"schema": problem}}},
                    )
                    schemas = document.setdefault("components", {}).setdefault("schemas", {})
                    schemas.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def run(app_path: str, name: str, settings: ServiceSettings, **overrides: Any) -> None:
    """Run ``app_path`` (``module:attr``) under uvicorn with our logging."""
    configure_logging(name, settings.log_level)
    uvicorn.run(
        app_path,
        host=overrides.get("host") or settings.host,
        port=overrides.get("port") or settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
