"""FAQ chatbot routes: `/v1/faq` (Korean/English FAQ answers across languages, with abstention)."""

from __future__ import annotations

from fastapi import APIRouter

from common.errors import ProblemError, problem_responses
from common.health import Readiness
from common.service import create_service_app
from services.chatbot.schemas import AskRequest, AskResponse, CollectionInfo, CollectionUpload

readiness = Readiness("retriever")
readiness.set("retriever", "ready")
router = APIRouter(prefix="/v1/faq", tags=["faq"], responses=problem_responses(400, 404, 422, 501, 503))

_NOT_BUILT = "The FAQ chatbot is not built yet (issue #3)."


@router.put("/collections/{collection}", response_model=CollectionInfo)
async def put_collection(collection: str, body: CollectionUpload) -> CollectionInfo:
    """Replace a collection atomically with the uploaded entries (JSON, or CSV `id,question,answer`)."""
    raise ProblemError(501, _NOT_BUILT)


@router.get("/collections", response_model=list[CollectionInfo])
async def list_collections() -> list[CollectionInfo]:
    """Every collection with its entry count and version."""
    raise ProblemError(501, _NOT_BUILT)


@router.delete("/collections/{collection}", status_code=204)
async def delete_collection(collection: str) -> None:
    """Delete a collection."""
    raise ProblemError(501, _NOT_BUILT)


@router.post("/collections/{collection}/ask", response_model=AskResponse)
async def ask(collection: str, body: AskRequest) -> AskResponse:
    """Answer a question from a collection, in Korean or English, or abstain."""
    raise ProblemError(501, _NOT_BUILT)


app = create_service_app(
    name="chatbot",
    title="Malgeul FAQ chatbot",
    description="Korean/English FAQ answers by hybrid retrieval, across languages, with abstention.",
    readiness=readiness,
    routers=[router],
)
