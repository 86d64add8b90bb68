"""speech service routes (not built yet: every route answers 501 until issue #6 lands)."""

from __future__ import annotations

from fastapi import APIRouter

from common.errors import ProblemError, problem_responses
from common.health import Readiness
from common.service import create_service_app
from services.tts.conversation.routes import router as conversation_router

readiness = Readiness("engine")
readiness.set("engine", "ready")
router = APIRouter(responses=problem_responses(501))
_NOT_BUILT = "The speech service is not built yet (issue #6)."


@router.post("/v1/audio/speech", include_in_schema=False)
async def post_v1_audio_speech() -> None:
    raise ProblemError(501, _NOT_BUILT)


@router.get("/v1/audio/voices", include_in_schema=False)
async def get_v1_audio_voices() -> None:
    raise ProblemError(501, _NOT_BUILT)


@router.post("/v1/audio/transcriptions", include_in_schema=False)
async def post_v1_audio_transcriptions() -> None:
    raise ProblemError(501, _NOT_BUILT)





app = create_service_app(name="tts", title="Malgeul speech service", description="speech service.", readiness=readiness, routers=[router, conversation_router])
