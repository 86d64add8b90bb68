"""The speech service's core, shared by the HTTP routes and the conversation bot (`app.state.speech`).

Contract (stable; conversation practice relies on it, both callable from a worker thread):
    synthesize(text, voice, speed=1.0, language=None) -> bytes   a complete WAV file
    transcribe(audio, language=None) -> str                       audio bytes in any format
    voices() -> list[VoiceInfo]
Errors are `common.errors.ProblemError`: 4xx for bad input, 503 while models load.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from common.errors import ProblemError
from common.health import Readiness
from services.tts.audio import (
    AudioInputError,
    CompactSpeech,
    decode_audio,
    resample,
    speech_regions,
    wav_bytes,
)
from services.tts.config import TtsSettings
from services.tts.engines.protocols import (
    RecognitionEngine,
    RecognizedSegment,
    RecognizedWord,
    SynthesisEngine,
    VoiceSpec,
)
from services.tts.schemas import VoiceInfo
from services.tts.textnorm import normalize_english, normalize_korean, split_sentences

logger = logging.getLogger("malgeul.tts.speech")

# OpenAI's voice names, so clients written for OpenAI work unchanged.
OPENAI_VOICE_ALIASES = {
    "alloy": "en-joe",
    "ash": "en-joe",
    "ballad": "en-espeak-male",
    "coral": "en-espeak-female",
    "echo": "en-espeak-male",
    "fable": "en-joe",
    "onyx": "en-espeak-male",
    "nova": "en-espeak-female",
    "sage": "en-espeak-female",
    "shimmer": "en-espeak-female",
    "verse": "en-joe",
}
FALLBACK_ALIASES = {"en-joe": "en-espeak-male"}  # when the neural voice is not installed
_SILENCE_BETWEEN_SENTENCES = 0.12  # seconds
_LANGUAGE_NAMES = {"": None, "en": "en", "english": "en", "ko": "ko", "kor": "ko", "korean": "ko"}
_RECOGNIZER_PAD = 0.5  # seconds of silence around the voiced span


@dataclass(frozen=True)
class TranscriptResult:
    """A transcription with what `verbose_json`, `srt` and `vtt` need."""

    text: str
    language: str
    duration: float
    segments: list[RecognizedSegment]


class SpeechService:
    """Voices, synthesis and recognition; engines are loaded once by `load()` (run in a background thread)."""

    def __init__(self, settings: TtsSettings, readiness: Readiness) -> None:
        self.settings = settings
        self.readiness = readiness
        self._voices: dict[str, tuple[VoiceSpec, SynthesisEngine]] = {}
        self.recognizer: RecognitionEngine | None = None

    # --- start-up -------------------------------------------------------------------------
    def load(self) -> None:
        """Load the synthesis engines, then the recogniser; each sets its readiness component."""
        try:
            self._load_voices()
            self.readiness.set("voices", "ready")
        except Exception as exc:
            logger.exception("voices failed to load")
            self.readiness.set("voices", "failed", str(exc))
        try:
            self.recognizer = self._load_recognizer()
            self.readiness.set("recognizer", "ready")
        except Exception as exc:
            logger.exception("recogniser failed to load")
            self.readiness.set("recognizer", "failed", str(exc))

    def _load_voices(self) -> None:
        from services.tts.engines.espeak import EspeakEngine
        from services.tts.engines.piper import PiperEngine, locate_piper_voice, packaged_voice

        espeak = EspeakEngine(self.settings.espeak_binary)
        for spec in espeak.voices():
            self._voices[spec.id] = (spec, espeak)
        piper = PiperEngine()
        packaged = packaged_voice() if self.settings.packaged_piper else None
        if packaged is not None:
            piper.add_model(packaged[0], "en-joe", "American English man, neural (piper, joe medium)")
        downloads = self.settings.service_dir("tts") / "piper-voices"
        for entry in filter(None, (p.strip() for p in self.settings.piper_voices.split(","))):
            piper.add_model(locate_piper_voice(entry, downloads))
        for spec in piper.voices():
            self._voices[spec.id] = (spec, piper)
        logger.info("voices ready", extra={"voices": len(self._voices)})

    def _load_recognizer(self) -> RecognitionEngine:
        if self.settings.stt_engine == "pocketsphinx":
            from services.tts.engines.pocketsphinx import PocketsphinxEngine

            return PocketsphinxEngine()
        from services.tts.engines.whisper import WhisperEngine, locate_whisper

        return WhisperEngine(
            locate_whisper(self.settings.whisper_model or None),
            compute_type=self.settings.whisper_compute_type,
            threads=self.settings.stt_threads,
            beam_size=self.settings.whisper_beam_size,
        )

    # --- voices ---------------------------------------------------------------------------
    def voices(self) -> list[VoiceInfo]:
        """Every voice, Korean first."""
        self.readiness.require("voices", "The voices")
        specs = sorted((spec for spec, _ in self._voices.values()), key=lambda s: (s.language != "ko", s.id))
        return [
            VoiceInfo(id=s.id, language=s.language, engine=s.engine, description=s.description) for s in specs
        ]

    def resolve_voice(self, voice: str) -> tuple[VoiceSpec, SynthesisEngine]:
        self.readiness.require("voices", "The voices")
        name = voice.strip()
        name = OPENAI_VOICE_ALIASES.get(name.lower(), name)
        if name not in self._voices and name in FALLBACK_ALIASES:
            name = FALLBACK_ALIASES[name]
        if name not in self._voices:
            known = ", ".join(sorted(self._voices))
            raise ProblemError(400, f"Unknown voice {voice!r}. Voices: {known}.")
        return self._voices[name]

    # --- synthesis ------------------------------------------------------------------------
    def check_text(self, text: str, speed: float) -> None:
        if not text or not text.strip():
            raise ProblemError(400, "The input text is empty.")
        if len(text) > self.settings.max_input_chars:
            raise ProblemError(
                400, f"The input has {len(text)} characters; the limit is {self.settings.max_input_chars}."
            )
        if not 0.25 <= speed <= 4.0:
            raise ProblemError(400, "speed must be between 0.25 and 4.0.")

    def plan(
        self, text: str, voice: str, speed: float = 1.0, language: str | None = None
    ) -> tuple[VoiceSpec, SynthesisEngine, list[str]]:
        """Validate and normalise; returns the voice, its engine and the sentences to read."""
        self.check_text(text, speed)
        spec, engine = self.resolve_voice(voice)
        reading = language or spec.language
        normalized = normalize_korean(text) if reading == "ko" else normalize_english(text)
        sentences = split_sentences(normalized)
        if not sentences:
            raise ProblemError(400, "The input has nothing to read aloud (only symbols or spaces).")
        return spec, engine, sentences

    def stream(
        self, spec: VoiceSpec, engine: SynthesisEngine, sentences: list[str], speed: float
    ) -> Iterator[np.ndarray]:
        """Audio at the output rate, one sentence at a time (the first comes back before the rest are made)."""
        rate = self.settings.sample_rate
        gap = np.zeros(int(_SILENCE_BETWEEN_SENTENCES * rate), dtype=np.float32)
        for index, sentence in enumerate(sentences):
            started = time.perf_counter()
            clip = engine.synthesize(sentence, spec, speed)
            samples = resample(clip.samples, clip.sample_rate, rate)
            logger.debug(
                "sentence synthesized",
                extra={
                    "voice": spec.id,
                    "chars": len(sentence),
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            yield samples if index == 0 else np.concatenate([gap, samples])

    def synthesize_samples(
        self, text: str, voice: str, speed: float = 1.0, language: str | None = None
    ) -> np.ndarray:
        spec, engine, sentences = self.plan(text, voice, speed, language)
        parts = list(self.stream(spec, engine, sentences, speed))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def synthesize(self, text: str, voice: str, speed: float = 1.0, language: str | None = None) -> bytes:
        """The whole text read by ``voice``, as a complete 16-bit mono WAV file at the output rate."""
        return wav_bytes(self.synthesize_samples(text, voice, speed, language), self.settings.sample_rate)

    # --- recognition ----------------------------------------------------------------------
    def decode(self, audio: bytes) -> np.ndarray:
        try:
            samples = decode_audio(audio, self.settings.max_audio_seconds)
        except AudioInputError as exc:
            raise ProblemError(exc.status, str(exc)) from exc
        if len(samples) < self.settings.min_audio_seconds * 16000:
            raise ProblemError(
                400,
                f"The audio lasts {len(samples) / 16000:.2f} s; at least "
                f"{self.settings.min_audio_seconds} s is needed.",
            )
        return samples

    def transcribe_detailed(
        self, audio: bytes, language: str | None = None, words: bool = False
    ) -> TranscriptResult:
        """Decode, find speech (VAD), recognise; silence gives an empty text rather than invented words."""
        self.readiness.require("recognizer", "The speech recogniser")
        assert self.recognizer is not None
        language = _LANGUAGE_NAMES.get(
            (language or "").strip().lower().replace("_", "-").split("-")[0], language
        )
        if language and language not in self.recognizer.languages:
            raise ProblemError(
                400,
                f"The recogniser ({self.recognizer.name}) knows {', '.join(self.recognizer.languages)} "
                f"only; set MALGEUL_TTS_WHISPER_MODEL to a multilingual model for {language!r}.",
            )
        samples = self.decode(audio)
        duration = len(samples) / 16000
        regions = speech_regions(samples)
        if not regions:
            return TranscriptResult("", language or self.recognizer.languages[0], duration, [])
        # Whisper invents words in long silences: it gets only the voiced stretches, pauses over 2 s
        # shortened, with 0.5 s of silence around speech (clipped onsets are misheard: padding cut WER on
        # the human clips 0.062 -> 0.052).
        compact = CompactSpeech(samples, regions, pad=_RECOGNIZER_PAD)
        segments = self.recognizer.transcribe(compact.samples, language, words)
        at = compact.original_time

        shifted = [
            RecognizedSegment(
                at(s.start, "start"),
                at(s.end, "end"),
                s.text,
                tuple(RecognizedWord(w.word, at(w.start, "start"), at(w.end, "end"), w.probability) for w in s.words),
                s.avg_logprob,
                s.no_speech_prob,
            )
            for s in segments
            if s.text
        ]
        text = " ".join(s.text for s in shifted).strip()
        return TranscriptResult(text, language or self.recognizer.languages[0], duration, shifted)

    def transcribe(self, audio: bytes, language: str | None = None) -> str:
        """The words spoken in ``audio`` (wav, flac, mp3, ogg/opus, webm...), or '' when nobody speaks."""
        return self.transcribe_detailed(audio, language).text
