"""match-result recorder routes (not built yet: every route answers 501 until issue #4 lands)."""

from __future__ import annotations

from fastapi import APIRouter

from common.errors import ProblemError, problem_responses
from common.health import Readiness
from common.service import create_service_app

readiness = Readiness("engine")
readiness.set("engine", "ready")
router = APIRouter(responses=problem_responses(501))
_NOT_BUILT = "The match-result recorder is not built yet (issue #4)."


@router.post("/v1/ocr/match-results", include_in_schema=False)
async def post_v1_ocr_match_results() -> None:
    raise ProblemError(501, _NOT_BUILT)


@router.post("/v1/ocr/text", include_in_schema=False)
async def post_v1_ocr_text() -> None:
    raise ProblemError(501, _NOT_BUILT)


@router.get("/v1/matches", include_in_schema=False)
async def get_v1_matches() -> None:
    raise ProblemError(501, _NOT_BUILT)


@router.get("/v1/matches/{match_id}", include_in_schema=False)
async def get_v1_matches_match_id() -> None:
    raise ProblemError(501, _NOT_BUILT)


app = create_service_app(name="ocr", title="Malgeul match-result recorder", description="match-result recorder.", readiness=readiness, routers=[router])
