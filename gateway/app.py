"""Gateway routes: health, readiness, metrics, the merged API document, the demo pages, and `/v1/*`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from common.errors import ProblemError, install_problem_handlers
from common.health import Liveness
from common.logging import RequestIdMiddleware
from common.metrics import instrument
from gateway import openapi, readiness
from gateway.auth import KeyAuthenticator, RateLimiter
from gateway.config import GatewaySettings
from gateway.demo import router as demo_router
from gateway.proxy import Proxy
from gateway.routing import RouteTable

STATIC_DIR = Path(__file__).with_name("static")
settings = GatewaySettings()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.proxy = Proxy(
        settings.service_urls(), settings.connect_timeout, settings.max_connections, settings.max_upload_bytes
    )
    # Readiness probes and API documents: a separate small client, off the proxying hot path.
    app.state.control = httpx.AsyncClient(timeout=httpx.Timeout(2.0, connect=settings.connect_timeout))
    app.state.docs = openapi.ServiceDocs(app.state.control, settings.service_urls())
    yield
    await app.state.proxy.aclose()
    await app.state.control.aclose()


app = FastAPI(
    title="Malgeul",
    version="1.0.0",
    description=(
        "Korean/English FAQ answers, match-result OCR, Korean text-to-SQL, speech and English "
        "conversation practice, behind one gateway. Errors are `application/problem+json`."
    ),
    lifespan=lifespan,
    openapi_url=None,
    docs_url=None,
    redoc_url=None,
)
install_problem_handlers(app)
app.add_middleware(RequestIdMiddleware)
if settings.cors_origins:
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "Retry-After"],
    )
instrument(app)
routes = RouteTable(overrides=settings.timeouts)
authenticator = KeyAuthenticator(settings.keys)
limiter = RateLimiter(settings.rate_limit, settings.anonymous_rate_limit, settings.rate_limit_storage)


@app.get("/healthz", response_model=Liveness, tags=["health"])
async def healthz() -> Liveness:
    """200 while the gateway process runs."""
    return Liveness()


@app.get(
    "/readyz",
    response_model=readiness.ProductReadiness,
    tags=["health"],
    responses={503: {"model": readiness.ProductReadiness, "description": "Some service is down or loading"}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when every service is ready, else 503; the body gives each service's state."""
    report = await readiness.check(request.app.state.control, settings.service_urls(), settings.readiness_timeout)
    return JSONResponse(report.model_dump(), status_code=200 if report.status == "ready" else 503)


@app.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> JSONResponse:
    """The gateway's routes and every service's public routes with their models."""
    base = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    documents = await request.app.state.docs.documents()
    return JSONResponse(openapi.merge(base, documents, secured=authenticator.enabled))


@app.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Malgeul API")


@app.get("/", include_in_schema=False)
async def index() -> Response:
    return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"))


@app.api_route(
    "/v1/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def forward(request: Request, path: str) -> Response:
    """Authenticate, rate-limit and stream the request to the service that owns the path."""
    principal = authenticator.authenticate(request)
    route = routes.match(request.url.path)
    if route is None:
        raise ProblemError(404, "No such route. See /openapi.json for the routes this server offers.")
    await limiter.hit(principal)
    return await request.app.state.proxy.forward(request, route, principal)


app.include_router(demo_router)
app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
