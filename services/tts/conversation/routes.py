"""Conversation-practice routes: `/v1/conversation` (English role-play by topic, by text or voice, with feedback)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from common.errors import ProblemError, problem_responses
from common.health import Readiness
from common.uploads import read_upload
from services.tts.conversation.config import ConversationSettings
from services.tts.conversation.practice import ConversationPractice, Speech
from services.tts.conversation.schemas import (
    BotReply,
    HistoryLine,
    SessionCreate,
    SessionCreated,
    SessionInfo,
    TopicInfo,
    TurnFeedback,
    TurnResult,
    TurnText,
    Understanding,
)

logger = logging.getLogger("malgeul.tts.conversation")
COMPONENT = "conversation"


def _build(app: FastAPI, readiness: Readiness) -> None:
    try:
        app.state.conversation = ConversationPractice(ConversationSettings())
        readiness.set(COMPONENT, "ready")
    except Exception as exc:  # noqa: BLE001 - reported by /readyz, never crashes the process
        logger.exception("conversation practice failed to load")
        readiness.set(COMPONENT, "failed", str(exc))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load scripts and the sentence encoder before the port opens (the encoder's loader holds the GIL for
    seconds: behind an open port every request of the service would stall meanwhile)."""
    readiness: Readiness = app.state.readiness
    readiness.set(COMPONENT, "loading")
    await run_in_threadpool(_build, app, readiness)
    yield
    practice = getattr(app.state, "conversation", None)
    if practice is not None:
        practice.close()


router = APIRouter(
    prefix="/v1/conversation",
    tags=["conversation"],
    lifespan=lifespan,
    responses=problem_responses(503),
)


def get_practice(request: Request) -> ConversationPractice:
    request.app.state.readiness.require(COMPONENT, "Conversation practice")
    return request.app.state.conversation


def get_speech(request: Request) -> Speech | None:
    return getattr(request.app.state, "speech", None)


PracticeDep = Annotated[ConversationPractice, Depends(get_practice)]
SpeechDep = Annotated[Speech | None, Depends(get_speech)]
SessionId = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/topics", response_model=list[TopicInfo])
async def list_topics(practice: PracticeDep) -> list[TopicInfo]:
    """The role-play topics (restaurant, hotel, airport, ...) with their Korean titles and levels."""
    return [TopicInfo(**t) for t in practice.topics()]


@router.post("/sessions", response_model=SessionCreated, responses=problem_responses(404, 422))
async def start_session(body: SessionCreate, practice: PracticeDep, speech: SpeechDep) -> SessionCreated:
    """Start a role-play: the bot opens the first scene ("Good evening... Table for how many?")."""
    state, audio_url = await practice.start(body.topic, body.voice, speech)
    return SessionCreated(session_id=state.id, reply=BotReply(text=state.last_bot, audio_url=audio_url))


_TURN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": TurnText.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["audio"],
                    "properties": {"audio": {"type": "string", "format": "binary",
                                             "description": "The learner's recording: wav, webm/opus, ogg, mp3..."}},
                }
            },
        },
    }
}


async def _read_turn(request: Request, limit: int) -> tuple[str | None, bytes | None]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
        upload = form.get("audio")
        if not isinstance(upload, UploadFile):
            raise ProblemError(422, "Send the recording as the multipart field 'audio' (or JSON {\"text\": ...}).")
        return None, await read_upload(upload, limit, "recording")  # type: ignore[arg-type]
    if content_type.startswith("application/json") or not content_type:
        try:
            body = TurnText.model_validate(json.loads(await request.body() or b"null"))
        except (ValueError, ValidationError) as exc:
            raise ProblemError(422, "Send JSON {\"text\": \"...\"} with 1 to 2000 characters, "
                                    "or a multipart form with the recording in 'audio'.") from exc
        return body.text, None
    raise ProblemError(415, f"Unsupported content type {content_type!r}: use application/json or multipart/form-data.")


@router.post(
    "/sessions/{session_id}/turns",
    response_model=TurnResult,
    openapi_extra=_TURN_BODY,
    responses=problem_responses(400, 404, 410, 413, 415, 422),
)
async def take_turn(session_id: SessionId, request: Request, practice: PracticeDep, speech: SpeechDep) -> TurnResult:
    """Say something in the role-play, as JSON `{"text": ...}` or a multipart `audio` recording.

    Returns what was heard, the bot's reply (text and audio) and feedback: a more natural phrasing
    of what the learner meant and short notes (spelling, articles, tense, word choice).
    """
    text, audio = await _read_turn(request, practice.settings.max_upload_bytes)
    state, transcript, outcome, audio_url = await practice.turn(session_id, speech, text=text, audio=audio)
    understood = outcome.interpretation
    return TurnResult(
        transcript=transcript,
        reply=BotReply(text=outcome.reply, audio_url=audio_url),
        feedback=TurnFeedback(suggestion=outcome.feedback.suggestion, notes=outcome.feedback.notes),
        understood=Understanding(
            intent=understood.intent.id if understood.intent else None,
            kind=understood.kind,
            score=round(understood.score, 3),
            small_talk=outcome.small_talk,
        ),
        scene=state.scene,
        finished=state.finished,
    )


@router.get("/sessions/{session_id}", response_model=SessionInfo, responses=problem_responses(404, 410, 422))
async def get_session(session_id: SessionId, practice: PracticeDep) -> SessionInfo:
    """A session's topic, scene and history (sessions expire when idle)."""
    state = practice.store.get(session_id)
    return SessionInfo(
        session_id=state.id,
        topic=state.topic,
        scene=state.scene,
        voice=state.voice,
        finished=state.finished,
        history=[HistoryLine(**line) for line in state.history],  # type: ignore[arg-type]
        expires_in_seconds=round(max(0.0, state.updated + practice.store.ttl - time.time()), 1),
    )


@router.delete("/sessions/{session_id}", status_code=204, response_class=Response,
               responses=problem_responses(404, 410, 422))
async def end_session(session_id: SessionId, practice: PracticeDep) -> Response:
    """End a session now and delete its audio."""
    practice.store.get(session_id)
    practice.store.delete(session_id)
    return Response(status_code=204)


@router.get(
    "/sessions/{session_id}/audio/{turn}.wav",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
                     "description": "The bot's reply of that turn as a WAV file."},
               **problem_responses(404, 410, 422)},
)
async def reply_audio(session_id: SessionId, turn: Annotated[int, Path(ge=0, le=100000)],
                      practice: PracticeDep) -> FileResponse:
    """The bot's spoken reply of turn ``turn`` (0 is the opening line)."""
    practice.store.get(session_id)
    path = practice.store.audio_path(session_id, turn)
    if not path.exists():
        raise ProblemError(404, f"No reply audio for turn {turn} of this session.")
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "private, max-age=3600"})
