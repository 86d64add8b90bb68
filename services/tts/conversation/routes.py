"""Conversation-practice routes: `/v1/conversation` (not built yet: 501 until issue #7 lands)."""

from __future__ import annotations

from fastapi import APIRouter

from common.errors import ProblemError, problem_responses

router = APIRouter(prefix="/v1/conversation", tags=["conversation"], responses=problem_responses(501))
_NOT_BUILT = "English conversation practice is not built yet (issue #7)."


@router.get("/topics", include_in_schema=False)
async def list_topics() -> None:
    raise ProblemError(501, _NOT_BUILT)


@router.post("/sessions", include_in_schema=False)
async def start_session() -> None:
    raise ProblemError(501, _NOT_BUILT)


@router.post("/sessions/{session_id}/turns", include_in_schema=False)
async def take_turn(session_id: str) -> None:
    raise ProblemError(501, _NOT_BUILT)
