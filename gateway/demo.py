"""The demo pages: small static HTML+JS pages (no build step) that call the public API through the gateway."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

STATIC_DIR = Path(__file__).with_name("static")
PAGES = {"voice": "voice.html", "ocr": "ocr.html", "faq": "faq.html", "sql": "sql.html"}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> HTMLResponse:
    return HTMLResponse((STATIC_DIR / name).read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"})


@router.get("/demo/voice")
async def voice_page() -> HTMLResponse:
    """English conversation practice by voice or text."""
    return _page(PAGES["voice"])


@router.get("/demo/ocr")
async def ocr_page() -> HTMLResponse:
    """Upload a match-result screenshot and save the parsed record."""
    return _page(PAGES["ocr"])


@router.get("/demo/faq")
async def faq_page() -> HTMLResponse:
    """Chat with a FAQ collection in Korean or English."""
    return _page(PAGES["faq"])


@router.get("/demo/sql")
async def sql_page() -> HTMLResponse:
    """Ask the match database in Korean; see the SQL and the rows."""
    return _page(PAGES["sql"])
