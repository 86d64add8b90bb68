"""Prometheus metrics at `/metrics`, the same way in every process."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_fastapi_instrumentator import Instrumentator


def instrument(app: FastAPI) -> None:
    """Count and time every route (by its template) and expose `/metrics`."""
    Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=["/metrics", "/healthz"],
    ).instrument(app).expose(app, endpoint="/metrics", include_in_schema=False)
