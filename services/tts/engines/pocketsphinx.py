"""PocketSphinx (CMU): the small fallback recogniser, US English model inside the wheel; much weaker than Whisper."""

from __future__ import annotations

import logging
import threading

import numpy as np

from services.tts.engines.protocols import RecognizedSegment, RecognizedWord

logger = logging.getLogger("malgeul.tts.pocketsphinx")
_FRAMES_PER_SECOND = 100


class PocketsphinxEngine:
    """A Decoder reused for every call (it is not thread-safe, hence the lock)."""

    name = "pocketsphinx"
    languages = ("en",)
    model_name = "pocketsphinx-en-us"

    def __init__(self) -> None:
        from pocketsphinx import Config, Decoder

        config = Config(loglevel="FATAL")
        self.decoder = Decoder(config)
        self._lock = threading.Lock()
        logger.info("pocketsphinx loaded")

    def transcribe(self, samples: np.ndarray, language: str | None, words: bool) -> list[RecognizedSegment]:
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
        with self._lock:
            self.decoder.start_utt()
            self.decoder.process_raw(pcm, full_utt=True)
            self.decoder.end_utt()
            hyp = self.decoder.hyp()
            seg_words = tuple(
                RecognizedWord(
                    s.word.split("(")[0],
                    s.start_frame / _FRAMES_PER_SECOND,
                    (s.end_frame + 1) / _FRAMES_PER_SECOND,
                )
                for s in self.decoder.seg()
                if not s.word.startswith(("<", "[")) and s.word not in ("<sil>",)
            )
        text = hyp.hypstr if hyp is not None else ""
        if not text:
            return []
        start = seg_words[0].start if seg_words else 0.0
        end = seg_words[-1].end if seg_words else len(samples) / 16000
        return [RecognizedSegment(start, end, text, seg_words if words else ())]
