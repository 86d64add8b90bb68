"""Conversation practice assembled: scripts, understanding, small talk, feedback, sessions and speech.

Speech comes from the speech service's core on ``app.state.speech`` (``synthesize`` -> WAV bytes,
``transcribe`` -> text); without it replies are text only and audio turns are refused with a 503.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from fastapi.concurrency import run_in_threadpool

from common.encoders import load_encoder
from common.errors import ProblemError
from services.tts.conversation.config import ConversationSettings
from services.tts.conversation.dialogue import Dialogue, TurnOutcome
from services.tts.conversation.feedback import FeedbackWriter, Source
from services.tts.conversation.scripts import ScriptBook, load_scripts
from services.tts.conversation.sessions import SessionState, SessionStore
from services.tts.conversation.smalltalk import SmallTalk, load_pairs
from services.tts.conversation.spoken_lines import SpokenLineCache
from services.tts.conversation.understanding import IntentMatcher

logger = logging.getLogger("malgeul.tts.conversation")
DEFAULT_VOICE = "en-joe"  # the speech service's neural English voice (it falls back to espeak without piper)
_PURGE_EVERY = 60.0  # seconds between sweeps of expired sessions


class Speech(Protocol):
    """What conversation practice needs from the speech service."""

    def synthesize(self, text: str, voice: str, speed: float = 1.0, language: str | None = None) -> bytes: ...

    def transcribe(self, audio: bytes, language: str | None = None) -> str: ...


class ConversationPractice:
    """Starts sessions and takes turns; one instance per process, built at start-up."""

    def __init__(self, settings: ConversationSettings) -> None:
        started = time.perf_counter()
        self.settings = settings
        self.book: ScriptBook = load_scripts(settings.scripts_dir)
        encoder = load_encoder(settings.encoder)
        matcher = IntentMatcher(self.book, encoder, settings.matcher())
        small_talk = SmallTalk(load_pairs(settings.scripts_dir / "smalltalk.yaml"), encoder, settings.smalltalk_threshold)
        self.dialogue = Dialogue(self.book, matcher, small_talk, FeedbackWriter(self.book))
        self.store = SessionStore(settings.service_dir("tts") / "conversation", settings.session_ttl_minutes * 60,
                                  settings.max_sessions)
        self.spoken = SpokenLineCache(settings.audio_cache_mb * 1024 * 1024)
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_purge = 0.0
        logger.info("conversation practice ready", extra={"topics": len(self.book.topics), "encoder": encoder.name,
                                                          "s": round(time.perf_counter() - started, 2)})

    def _lock(self, session_id: str) -> asyncio.Lock:
        return self._locks.setdefault(session_id, asyncio.Lock())

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now - self._last_purge > _PURGE_EVERY:
            self._last_purge = now
            for gone in [s for s in self._locks if not self._locks[s].locked()]:
                self._locks.pop(gone, None)
            self.store.purge()

    async def start(self, topic: str, voice: str | None, speech: Speech | None) -> tuple[SessionState, str | None]:
        """A new session on ``topic``; returns it and the audio URL of the opening line (or None)."""
        if topic not in self.book.topics:
            known = ", ".join(sorted(self.book.topics))
            raise ProblemError(404, f"No topic {topic!r}. Topics: {known}.")
        await run_in_threadpool(self._maybe_purge)
        state = SessionState(id=self.store.new_id(), topic=topic, scene="", voice=voice)
        opening = self.dialogue.start(state)
        audio_url = await self._speak(state, opening, speech, strict=voice is not None)
        await run_in_threadpool(self.store.save, state)
        return state, audio_url

    async def turn(self, session_id: str, speech: Speech | None, text: str | None = None,
                   audio: bytes | None = None) -> tuple[SessionState, str, TurnOutcome, str | None]:
        """Take one learner turn (typed ``text`` or recorded ``audio``)."""
        async with self._lock(session_id):
            state = await run_in_threadpool(self.store.get, session_id)
            source: Source = "text"
            if audio is not None:
                if speech is None:
                    raise ProblemError(503, "Speech recognition is not available in this process; send the turn as text.",
                                       headers={"Retry-After": "5"})
                text = await run_in_threadpool(speech.transcribe, audio, "en")
                source = "speech"
            transcript = (text or "").strip()
            if source == "text" and len(transcript) > self.settings.max_text_chars:
                raise ProblemError(422, f"The turn has {len(transcript)} characters; the limit is "
                                        f"{self.settings.max_text_chars}. Say one thing at a time.")
            outcome = await run_in_threadpool(self.dialogue.take_turn, state, transcript, source)
            audio_url = await self._speak(state, outcome.reply, speech, strict=False)
            state.history = state.history[-60:]  # enough for the page; bounded for long sessions
            await run_in_threadpool(self.store.save, state)
            return state, transcript, outcome, audio_url

    async def _speak(self, state: SessionState, text: str, speech: Speech | None, strict: bool) -> str | None:
        """Synthesize ``text`` as the session's latest reply; None when speech is unavailable.

        ``strict``: a voice the learner chose that the speech service rejects is the learner's error (4xx).
        """
        if speech is None:
            return None
        voice = state.voice or self.settings.voice or DEFAULT_VOICE
        speed = self.settings.speed
        try:
            wav = self.spoken.get(voice, speed, text)
            if wav is None:
                wav = await run_in_threadpool(speech.synthesize, text, voice, speed, "en")
                self.spoken.put(voice, speed, text, wav)
        except ProblemError as exc:
            if strict and 400 <= exc.status < 500:
                raise ProblemError(422, f"The voice {voice!r} cannot be used: {exc.detail}") from exc
            logger.warning("reply not synthesized", extra={"status": exc.status, "why": exc.detail})
            return None
        except Exception:  # noqa: BLE001 - a reply without audio beats no reply
            logger.exception("reply not synthesized")
            return None
        await run_in_threadpool(self.store.save_audio, state.id, state.turn, wav)
        return f"/v1/conversation/sessions/{state.id}/audio/{state.turn}.wav"

    def topics(self) -> list[dict[str, Any]]:
        return [
            {"id": t.id, "title": t.title, "title_ko": t.title_ko, "level": t.level, "bot_role": t.bot_role,
             "learner_role": t.learner_role, "scenes": len(t.scenes)}
            for t in self.book.topics.values()
        ]

    def close(self) -> None:
        self.store.close()
