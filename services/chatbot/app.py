"""FAQ chatbot routes: `/v1/faq` (Korean/English FAQ answers across languages, with abstention)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from common.errors import ProblemError, problem_responses
from common.health import Readiness
from common.service import create_service_app
from services.chatbot.config import ChatbotSettings
from services.chatbot.schemas import AskRequest, AskResponse, CollectionInfo, CollectionUpload
from services.chatbot.startup import finish_start, load
from services.chatbot.store import CollectionStore
from services.chatbot.upload import parse_collection

settings = ChatbotSettings()
readiness = Readiness("models", "collections")
_state: dict[str, CollectionStore] = {}  # filled by the lifespan before the port opens

CollectionName = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$", description="Letters, digits, '_', '.', '-' (64 at most).")
]
router = APIRouter(prefix="/v1/faq", tags=["faq"])


def _inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema with its local ``$defs`` inlined, so it can sit inside an OpenAPI request body."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline_schema(CollectionUpload.model_json_schema())},
            "text/csv": {
                "schema": {"type": "string"},
                "example": "id,question,answer,alt_questions,lang\nfee,참가비가 있나요?,예선은 무료입니다.,돈 내야 돼요?|등록비 얼마예요?,ko\n",
            },
        },
    }
}


def _store() -> CollectionStore:
    readiness.require("models", "The FAQ models")
    store = _state.get("store")
    if store is None:
        raise ProblemError(503, "Saved collections are still loading; try again in a few seconds.", headers={"Retry-After": "2"})
    return store


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ProblemError(413, f"The collection is larger than the limit of {limit // 1024} KB.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProblemError(413, f"The collection is larger than the limit of {limit // 1024} KB.")
        chunks.append(chunk)
    return b"".join(chunks)


@router.put(
    "/collections/{collection}",
    response_model=CollectionInfo,
    openapi_extra=_UPLOAD_BODY,
    responses={
        202: {"model": CollectionInfo, "description": "Still building after the wait; the previous version answers meanwhile"},
        **problem_responses(400, 413, 415, 422, 500, 503),
    },
)
async def put_collection(collection: CollectionName, request: Request) -> JSONResponse:
    """Replace a collection atomically with the uploaded entries (JSON, or CSV `id,question,answer`).

    JSON: `{"entries": [{"id", "question", "answer", "alt_questions", "lang", "translation_of"}],
    "off_topic": [...]}` (`off_topic`, optional: questions the collection must refuse, and any question
    nearer one of them than its answer). CSV: a
    header row naming `id,question,answer` and optionally `alt_questions` (separated by `|`), `lang` and
    `translation_of` (the id of the entry's translation in the other language: the pair answers in the
    asker's language). The new version is
    built in the background (engines, a StarSpace model trained on it, tuned fusion) while the previous
    version keeps answering; the answer is 200 once it is live, or 202 if it takes longer than
    `MALGEUL_CHATBOT_PUT_WAIT_SECONDS` (it goes live by itself when ready). Invalid uploads change nothing.
    """
    store = _store()
    body = await _read_body(request, settings.max_collection_bytes)
    upload = parse_collection(body, request.headers.get("content-type", ""), settings.max_entries)
    ticket = store.submit(collection, upload.entries, off_topic=upload.off_topic)
    try:
        await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(ticket.future)), timeout=settings.put_wait_seconds)
    except TimeoutError:
        return JSONResponse(ticket.info.model_dump(), status_code=202)
    except Exception:
        raise ProblemError(500, "Building the collection failed; the previous version is still answering. See the service log.") from None
    return JSONResponse(ticket.info.model_dump(), status_code=200)


@router.get("/collections", response_model=list[CollectionInfo], responses=problem_responses(503))
async def list_collections() -> list[CollectionInfo]:
    """Every collection that answers now, with its entry count and version."""
    return _store().infos()


@router.delete("/collections/{collection}", status_code=204, responses=problem_responses(404, 422, 503))
async def delete_collection(collection: CollectionName) -> Response:
    """Delete a collection (and stop a build of it)."""
    if not _store().delete(collection):
        raise ProblemError(404, f"There is no collection named {collection!r}.")
    return Response(status_code=204)


@router.post("/collections/{collection}/ask", response_model=AskResponse, responses=problem_responses(404, 422, 503))
async def ask(collection: CollectionName, body: AskRequest) -> Response:
    """Answer a question from a collection, in Korean or English, or abstain.

    The question may be in either language whatever the language of the entries. `answer` is the best
    entry, or null with `abstained: true` when the fused score is below the collection's tuned threshold
    (the collection does not cover the question); `candidates` are the `top_k` best entries either way.
    """
    store = _store()
    faq = store.get(collection)
    if faq is None:
        if store.is_building(collection):
            raise ProblemError(503, f"The collection {collection!r} is being built; try again shortly.", headers={"Retry-After": "5"})
        raise ProblemError(404, f"There is no collection named {collection!r}.")
    # The models run on a worker thread; the answer is written here as JSON, not validated again: FastAPI
    # validates a returned model once more, on a second worker thread (0.45 of the 1.85 ms a question spent
    # in the app outside the models at 1,000 entries, docs/performance.md).
    result = await run_in_threadpool(faq.ask, body.question, body.top_k)
    answer = AskResponse(
        answer=None if result.abstained else result.candidates[0],
        candidates=result.candidates,
        abstained=result.abstained,
    )
    return Response(answer.model_dump_json(), media_type="application/json")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the models and saved collections before the port opens (a restarted service answers at once);
    a missing default collection is built in the background, /readyz saying loading until it answers."""
    await run_in_threadpool(load, settings, readiness, _state)
    threading.Thread(target=finish_start, args=(settings, readiness, _state), name="faq-startup", daemon=True).start()
    yield
    if "store" in _state:
        _state["store"].shutdown()


app = create_service_app(
    name="chatbot",
    title="Malgeul FAQ chatbot",
    description="Korean/English FAQ answers by hybrid retrieval, across languages, with abstention.",
    readiness=readiness,
    routers=[router],
    lifespan=lifespan,
)
