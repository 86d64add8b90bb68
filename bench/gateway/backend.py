"""The backend the gateway benchmark calls: one small JSON route, optionally with simulated service time."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}


@app.get("/v1/faq/ping")
async def ping(work_ms: float = 0.0) -> dict[str, object]:
    if work_ms > 0:
        await asyncio.sleep(work_ms / 1000)
    return {"ok": True, "answer": "경기 시작 30분 전까지 체크인하세요."}
