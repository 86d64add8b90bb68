"""Match-result recorder routes: `/v1/ocr` (result screens -> match records, plain text) and `/v1/matches`."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from common.errors import ProblemError, problem_responses
from common.health import Readiness
from common.matchdb import make_engine
from common.service import create_service_app
from common.uploads import read_upload
from services.ocr.config import OcrSettings
from services.ocr.images import decode_image
from services.ocr.reader import MatchReader
from services.ocr.schemas import MatchList, MatchReadResponse, SavedMatch, TextLineOut, TextResponse
from services.ocr.store import IncompleteRecord, MatchStore

logger = logging.getLogger("malgeul.ocr")
settings = OcrSettings()
readiness = Readiness("engine", "database")


class _State:
    reader: MatchReader | None = None
    store: MatchStore | None = None


state = _State()


def build_reader(config: OcrSettings) -> MatchReader:
    """Tesseract workers plus the fallbacks the configuration enables."""
    from services.ocr.engines.cloud_vision import CloudVisionEngine
    from services.ocr.engines.tesseract import TesseractPool

    pool = TesseractPool(config.tessdata, config.workers, config.text_lang)
    line_fallbacks = []
    if config.rapidocr:
        try:
            from services.ocr.engines.rapid import RapidOcrEngine

            line_fallbacks.append(RapidOcrEngine())
        except Exception as exc:  # noqa: BLE001 - the service still works without its second engine
            logger.warning("rapidocr unavailable", extra={"error": str(exc)})
    page_fallbacks = []
    if config.cloud_key.get_secret_value():
        page_fallbacks.append(CloudVisionEngine(config.cloud_url, config.cloud_key.get_secret_value(), config.cloud_timeout))
    return MatchReader(pool, line_fallbacks, page_fallbacks, config.min_confidence)


def _load() -> None:
    try:
        state.store = MatchStore(make_engine(settings.match_database_url))
        readiness.set("database", "ready")
    except Exception as exc:  # noqa: BLE001
        logger.exception("match database unavailable")
        readiness.set("database", "failed", str(exc)[:200])
    try:
        state.reader = build_reader(settings)
        readiness.set("engine", "ready")
    except Exception as exc:  # noqa: BLE001
        logger.exception("OCR engine failed to load")
        readiness.set("engine", "failed", str(exc)[:200])


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Open the database and load the engines before the port opens: their native loaders hold the GIL, so
    behind an open port requests would stall (over 1 s for a 503 after a crash) instead of being refused."""
    await run_in_threadpool(_load)
    yield
    if state.reader is not None:
        state.reader.tesseract.close()


ocr = APIRouter(prefix="/v1/ocr", tags=["ocr"], responses=problem_responses(400, 413, 415, 422, 503))
matches = APIRouter(prefix="/v1/matches", tags=["matches"], responses=problem_responses(404, 422, 503))


def _roster(raw: str | None) -> list[str] | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ProblemError(422, "roster must be a JSON list of nicknames, e.g. [\"Faker\", \"철수_99\"].") from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > 10000:
        raise ProblemError(422, "roster must be a JSON list of nickname strings (at most 10000).")
    return [v.strip() for v in value if v.strip()]


@ocr.post("/match-results", response_model=MatchReadResponse, summary="Read a match result screen")
async def read_match_result(
    image: Annotated[UploadFile, File(description="Screenshot or photo of a result screen (PNG, JPEG or WebP).")],
    save: Annotated[bool, Form(description="Store the record in the match database.")] = False,
    roster: Annotated[str | None, Form(description="JSON list of known nicknames to correct near misses.")] = None,
) -> MatchReadResponse:
    """Read a team-vs-team result screen into a match record: title, map, both teams with name, score and
    result, and every player's nickname with kills, deaths and assists. Doubtful fields go to fallback
    engines; `engine` and `fallback_used` say who read it. With `save=true` the record is stored (teams
    and players created by name) and `id` is set. Without a roster, players already stored serve as one."""
    names = _roster(roster)
    data = await read_upload(image, settings.max_upload_bytes, "image")
    rgb = await run_in_threadpool(decode_image, data, settings.max_pixels, settings.max_side)
    readiness.require("engine", "The OCR engine")
    reader = state.reader
    assert reader is not None
    min_similarity = settings.roster_min_similarity
    if names is None and state.store is not None:
        names = await run_in_threadpool(state.store.known_nicknames)
        min_similarity = settings.db_roster_min_similarity
    try:
        outcome = await run_in_threadpool(reader.read, rgb, names, min_similarity)
    except Exception as exc:  # noqa: BLE001 - an image that trips the reader is the client's to know, not a 500
        logger.exception("reader failed on an image")
        raise ProblemError(422, "The image could not be read as a result screen (the reader failed on it; "
                                "the failure is logged with this request's id).") from exc
    response = MatchReadResponse(match=outcome.record, engine=outcome.engine, fallback_used=outcome.fallback_used,
                                 confidence=round(outcome.confidence, 3), warnings=outcome.warnings)
    if save:
        readiness.require("database", "The match database")
        assert state.store is not None
        try:
            response.id = await run_in_threadpool(state.store.save, outcome.record, outcome.engine, outcome.confidence)
        except IncompleteRecord as exc:
            response.warnings.append(f"not saved: {exc}")
    logger.info("match read", extra={"engine": outcome.engine, "fallback": outcome.fallback_used,
                                     "ms": round(outcome.ms, 1), "saved": response.id is not None})
    return response


@ocr.post("/text", response_model=TextResponse, summary="Read all text of an image")
async def read_text(
    image: Annotated[UploadFile, File(description="An image (PNG, JPEG or WebP).")],
) -> TextResponse:
    """All text of an image with Tesseract's page layout: the text and each line with its box."""
    data = await read_upload(image, settings.max_upload_bytes, "image")
    # Full size (the pixel limit still applies), so the boxes are in the uploaded image's pixels.
    rgb = await run_in_threadpool(decode_image, data, settings.max_pixels, 1 << 30)
    readiness.require("engine", "The OCR engine")
    assert state.reader is not None
    lines = await run_in_threadpool(state.reader.read_text, rgb)
    return TextResponse(text="\n".join(line.text for line in lines), engine="tesseract",
                        lines=[TextLineOut(text=l.text, confidence=round(l.confidence, 3), box=list(l.box)) for l in lines])


@matches.get("", response_model=MatchList, summary="List saved matches")
async def list_matches(
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> MatchList:
    """Saved match records, newest first."""
    readiness.require("database", "The match database")
    assert state.store is not None
    items = await run_in_threadpool(state.store.list, limit, offset)
    total = await run_in_threadpool(state.store.count)
    return MatchList(items=items, total=total, limit=limit, offset=offset)


@matches.get("/{match_id}", response_model=SavedMatch, summary="One saved match")
async def get_match(match_id: str) -> SavedMatch:
    """A saved match record by id."""
    readiness.require("database", "The match database")
    assert state.store is not None
    found = await run_in_threadpool(state.store.get, match_id)
    if found is None:
        raise ProblemError(404, f"No saved match has id {match_id!r}.")
    return found


app = create_service_app(
    name="ocr",
    title="Malgeul match-result recorder",
    description="Screenshots or photos of game result screens -> structured match records in the match database.",
    readiness=readiness,
    routers=[ocr, matches],
    lifespan=lifespan,
)
