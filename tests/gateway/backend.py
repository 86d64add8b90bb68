"""A small real backend for gateway tests: counts streamed uploads, streams slowly, sleeps, toggles readiness."""

from __future__ import annotations

import asyncio
import hashlib
import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

app = FastAPI()
state = {"received": 0, "ready": os.environ.get("BACKEND_READY", "ready")}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/readyz")
async def readyz() -> JSONResponse:
    status = state["ready"]
    return JSONResponse({"status": status, "components": {}}, status_code=200 if status == "ready" else 503)


@app.get("/openapi-test/received")
async def received() -> dict[str, int]:
    return {"received": state["received"]}


@app.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
async def anything(path: str, request: Request):  # noqa: ANN201 - test backend
    if path.endswith("/upload"):
        state["received"] = 0
        digest = hashlib.sha256()
        async for chunk in request.stream():
            state["received"] += len(chunk)
            digest.update(chunk)
        return {"bytes": state["received"], "sha256": digest.hexdigest()}
    if path.endswith("/slow"):
        await asyncio.sleep(float(request.query_params.get("seconds", "3")))
        return {"slept": True}
    if path.endswith("/stall-body"):  # a small answer of declared length whose body stalls halfway
        pause = float(request.query_params.get("pause", "5"))

        async def halves():
            yield b'{"half": '
            await asyncio.sleep(pause)
            yield b'"done"}'

        return StreamingResponse(halves(), media_type="application/json", headers={"content-length": "16"})
    if path.endswith("/drip"):

        pause = float(request.query_params.get("pause", "2"))

        async def drip():
            yield b"first chunk\n"
            await asyncio.sleep(pause)
            yield b"second chunk\n"

        return StreamingResponse(drip(), media_type="text/plain")
    return {
        "path": request.url.path,
        "query": request.url.query,
        "method": request.method,
        "request_id": request.headers.get("x-request-id"),
        "authorization": request.headers.get("authorization"),
        "service": os.environ.get("BACKEND_NAME", "backend"),
    }
