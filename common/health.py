"""Liveness and readiness: `/healthz` answers while the process runs, `/readyz` once models are loaded."""

from __future__ import annotations

import threading
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from common.errors import ProblemError

ComponentState = Literal["loading", "ready", "failed"]


class Liveness(BaseModel):
    """The process is running."""

    status: Literal["ok"] = "ok"


class ReadinessReport(BaseModel):
    """Whether every component (model, index, database) is ready to serve."""

    status: Literal["ready", "loading", "failed"]
    components: dict[str, ComponentState]
    detail: str | None = None


class Readiness:
    """Thread-safe record of each component's state; the service is ready when all are."""

    def __init__(self, *components: str) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, ComponentState] = {name: "loading" for name in components}
        self._details: dict[str, str] = {}

    def set(self, component: str, state: ComponentState, detail: str | None = None) -> None:
        with self._lock:
            self._states[component] = state
            if detail:
                self._details[component] = detail
            else:
                self._details.pop(component, None)

    def state(self, component: str) -> ComponentState:
        with self._lock:
            return self._states.get(component, "loading")

    def report(self) -> ReadinessReport:
        with self._lock:
            states = dict(self._states)
            details = dict(self._details)
        if any(s == "failed" for s in states.values()):
            status: Literal["ready", "loading", "failed"] = "failed"
        elif all(s == "ready" for s in states.values()):
            status = "ready"
        else:
            status = "loading"
        detail = "; ".join(f"{k}: {v}" for k, v in details.items()) or None
        return ReadinessReport(status=status, components=states, detail=detail)

    def require(self, component: str, what: str) -> None:
        """Raise a 503 problem unless ``component`` is ready (``what`` names it for a person)."""
        state = self.state(component)
        if state == "ready":
            return
        if state == "failed":
            raise ProblemError(503, f"{what} failed to load; see the service log.")
        raise ProblemError(503, f"{what} is still loading; try again in a few seconds.", headers={"Retry-After": "5"})


def health_router(readiness: Readiness) -> APIRouter:
    """`/healthz` and `/readyz` for a service."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=Liveness, summary="Liveness")
    async def healthz() -> Liveness:
        """200 while the process runs."""
        return Liveness()

    @router.get(
        "/readyz",
        response_model=ReadinessReport,
        summary="Readiness",
        responses={503: {"model": ReadinessReport, "description": "Still loading or failed"}},
    )
    async def readyz() -> JSONResponse:
        """200 once every component is ready, else 503 with the state of each."""
        report = readiness.report()
        return JSONResponse(report.model_dump(), status_code=200 if report.status == "ready" else 503)

    return router
