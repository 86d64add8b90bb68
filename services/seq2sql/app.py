"""Korean text-to-SQL routes: `/v1/sql` (questions -> read-only SQL -> rows and a Korean answer)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from common.errors import ProblemError, problem_responses
from common.health import Readiness
from common.service import create_service_app
from services.seq2sql.assistant import CannotAnswer
from services.seq2sql.config import Seq2SqlSettings
from services.seq2sql.databases import BUILTIN, DatabaseRegistry, Registered
from services.seq2sql.readonly import QueryError
from services.seq2sql.schemas import (
    AskRequest,
    AskResponse,
    DatabaseAccepted,
    DatabaseRegistration,
    DatabaseStatus,
)

logger = logging.getLogger("malgeul.seq2sql")
readiness = Readiness("matches-model")
router = APIRouter(prefix="/v1/sql", tags=["sql"])
_state: dict[str, DatabaseRegistry] = {}


def _registry() -> DatabaseRegistry:
    registry = _state.get("registry")
    if registry is None:
        raise ProblemError(503, "The assistant is starting; try again in a few seconds.", headers={"Retry-After": "2"})
    return registry


def _status(entry: Registered) -> DatabaseStatus:
    return DatabaseStatus(name=entry.name, status=entry.status, progress=entry.progress,  # type: ignore[arg-type]
                          detail=entry.detail)


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    settings = Seq2SqlSettings()

    def builtin_ready(status: str) -> None:
        readiness.set("matches-model", "ready" if status == "ready" else "failed",
                      None if status == "ready" else "the match database model failed; see the log")

    registry = DatabaseRegistry(settings, on_builtin_ready=builtin_ready)
    try:
        await run_in_threadpool(registry.warm)
    except Exception:  # the trainer loads them again and reports the failure in the database status
        logger.exception("cannot load the encoder or the morpheme analyser")
    registry.start()  # training/loading runs in a background thread; readiness says 'loading' until then
    _state["registry"] = registry
    yield
    registry.stop()
    _state.clear()


@router.post("/ask", response_model=AskResponse, responses=problem_responses(404, 409, 422, 503))
def ask(body: AskRequest) -> AskResponse:
    """Answer a Korean question about a registered database (default: the match database).

    Only a single read-only SELECT with a row limit is ever run. A question that cannot be mapped to
    the database (or asks to change data) gets a 422 whose `detail` says what can be asked."""
    assistant = _registry().ready_assistant(body.database)
    try:
        result = assistant.ask(body.question, execute=body.execute, max_rows=body.max_rows)
    except CannotAnswer as exc:
        raise ProblemError(422, exc.detail, title="Cannot answer") from exc
    except QueryError as exc:
        raise ProblemError(503, f"The database did not answer: {exc}", headers={"Retry-After": "5"}) from exc
    logger.info("answered", extra={"database": body.database, "sketch": result.program.sketch,
                                   "confidence": result.confidence})
    return AskResponse(sql=result.sql, columns=result.columns, rows=result.rows, answer=result.answer,
                       confidence=min(1.0, max(0.0, result.confidence)))


@router.post("/databases", status_code=202, response_model=DatabaseAccepted,
             responses=problem_responses(403, 409, 422, 503))
def register_database(body: DatabaseRegistration) -> DatabaseAccepted:
    """Register a SQLite or PostgreSQL database with Korean annotations; questions are synthesized
    from its schema and a model is trained for it in the background (see `GET /v1/sql/databases/{name}`).
    Only SQLite files in the folders the operator allows and PostgreSQL databases on allowed hosts can be
    registered (403 otherwise): whoever may ask questions may read the database."""
    entry = _registry().register(body.name, body.url, body.annotations)
    return DatabaseAccepted(name=entry.name, status="training")


@router.get("/databases", response_model=list[DatabaseStatus], responses=problem_responses(503))
def list_databases() -> list[DatabaseStatus]:
    """Every registered database (the match database first) with its training status."""
    entries = sorted(_registry().all(), key=lambda e: (e.name != BUILTIN, e.name))
    return [_status(e) for e in entries]


@router.get("/databases/{name}", response_model=DatabaseStatus, responses=problem_responses(404, 503))
def get_database(name: str) -> DatabaseStatus:
    """The training status and progress of one registered database."""
    return _status(_registry().get(name))


app = create_service_app(
    name="seq2sql",
    title="Malgeul Korean text-to-SQL assistant",
    description="Korean questions -> one safe, read-only SELECT -> rows and a Korean answer, for any registered database.",
    readiness=readiness,
    routers=[router],
    lifespan=lifespan,
)
