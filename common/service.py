"""One way to build and run a service process: the same middleware, errors, health and metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI

from common.errors import install_problem_handlers
from common.health import Readiness, health_router
from common.logging import RequestIdMiddleware, configure_logging
from common.metrics import instrument
from common.settings import ServiceSettings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


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
    return app


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
    )
