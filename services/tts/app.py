"""Speech routes: `/v1/audio` (OpenAI-compatible text-to-speech, voices, speech-to-text) and the
conversation-practice routes mounted from `services.tts.conversation`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, StreamingResponse

from common.errors import problem_responses
from common.health import Readiness
from common.service import create_service_app
from common.uploads import read_upload
from services.tts.audio import MEDIA_TYPES, encode_stream
from services.tts.config import TtsSettings
from services.tts.conversation.routes import router as conversation_router
from services.tts.schemas import (
    SpeechRequest,
    TranscriptFormat,
    Transcription,
    TranscriptionVerbose,
    TranscriptSegment,
    TranscriptWord,
    VoiceInfo,
)
from services.tts.speech import SpeechService
from services.tts.subtitles import to_srt, to_vtt

logger = logging.getLogger("malgeul.tts")
readiness = Readiness("voices", "recognizer")
router = APIRouter(prefix="/v1/audio", tags=["audio"], responses=problem_responses(400, 413, 422, 503))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Put the speech core on `app.state.speech` and load its models before the port opens.

    The native loaders hold the GIL for long stretches: loaded behind an open port, requests would hang
    (measured: >1 s for a 503 after a crash); with the port still closed the gateway answers 503 at once.
    """
    speech = SpeechService(TtsSettings(), readiness)
    app.state.speech = speech
    await run_in_threadpool(speech.load)
    yield


def get_speech(request: Request) -> SpeechService:
    return request.app.state.speech


SpeechDep = Annotated[SpeechService, Depends(get_speech)]


@router.post(
    "/speech",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Audio bytes, streamed sentence by sentence.",
            "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in MEDIA_TYPES.values()},
        }
    },
)
async def create_speech(body: SpeechRequest, speech: SpeechDep) -> StreamingResponse:
    """Read `input` aloud in `voice` (OpenAI `audio.speech.create`). Long text is split into sentences and
    streamed: the first audio arrives while the rest is still being synthesized. `wav` is streamed with an
    open-ended header; `pcm` is raw 16-bit mono at 24 kHz."""
    spec, engine, sentences = await run_in_threadpool(
        speech.plan, body.input, body.voice, body.speed, body.language
    )
    chunks = speech.stream(spec, engine, sentences, body.speed)
    return StreamingResponse(
        encode_stream(chunks, speech.settings.sample_rate, body.response_format),
        media_type=MEDIA_TYPES[body.response_format],
        headers={"X-Voice": spec.id, "X-Sample-Rate": str(speech.settings.sample_rate)},
    )


@router.get("/voices", response_model=list[VoiceInfo])
async def list_voices(speech: SpeechDep) -> list[VoiceInfo]:
    """Every voice: several distinct Korean speakers, English formant voices and a neural English voice."""
    return speech.voices()


@router.post(
    "/transcriptions",
    response_model=Transcription | TranscriptionVerbose,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "JSON for json/verbose_json; plain text for text, srt and vtt.",
        }
    },
)
async def create_transcription(
    speech: SpeechDep,
    file: Annotated[
        UploadFile, File(description="Audio: wav, flac, mp3, ogg/opus, webm, m4a; any rate and channels.")
    ],
    model: Annotated[str | None, Form(description="Accepted for compatibility (e.g. `whisper-1`).")] = None,
    language: Annotated[str | None, Form(description="`en` (or `ko` with a multilingual model).")] = None,
    prompt: Annotated[str | None, Form(description="Accepted for compatibility; not used.")] = None,
    response_format: Annotated[TranscriptFormat, Form()] = "json",
    temperature: Annotated[float | None, Form(ge=0, le=1)] = None,
    timestamp_granularities: Annotated[
        list[str] | None, Form(alias="timestamp_granularities[]", description="`segment` and/or `word`.")
    ] = None,
):
    """Transcribe speech (OpenAI `audio.transcriptions.create`). Silence gives an empty text."""
    data = await read_upload(file, speech.settings.max_upload_bytes, "audio file")
    words = response_format == "verbose_json" and "word" in (timestamp_granularities or [])
    result = await run_in_threadpool(speech.transcribe_detailed, data, (language or None), words)
    if response_format == "json":
        return Transcription(text=result.text)
    if response_format == "text":
        return PlainTextResponse(result.text + "\n" if result.text else "")
    if response_format == "srt":
        return PlainTextResponse(to_srt(result.segments))
    if response_format == "vtt":
        return PlainTextResponse(to_vtt(result.segments), media_type="text/vtt")
    return TranscriptionVerbose(
        language={"en": "english", "ko": "korean"}.get(result.language, result.language),
        duration=round(result.duration, 3),
        text=result.text,
        segments=[
            TranscriptSegment(
                id=i,
                start=round(s.start, 3),
                end=round(s.end, 3),
                text=" " + s.text,
                avg_logprob=s.avg_logprob,
                no_speech_prob=s.no_speech_prob,
            )
            for i, s in enumerate(result.segments)
        ],
        words=[
            TranscriptWord(word=w.word, start=round(w.start, 3), end=round(w.end, 3))
            for s in result.segments
            for w in s.words
        ]
        if words
        else None,
    )


app = create_service_app(
    name="tts",
    title="Malgeul speech service",
    description="Korean/English text-to-speech in many voices and English speech-to-text, in OpenAI's audio API "
    "shapes; English conversation practice.",
    readiness=readiness,
    routers=[router, conversation_router],
    lifespan=lifespan,
)
