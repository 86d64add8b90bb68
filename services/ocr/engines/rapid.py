"""RapidOCR (PP-OCR det/rec on onnxruntime, models inside the wheel): the local fallback for digits and
Latin text. Its packaged recogniser knows Chinese and English only, so readings with CJK ideographs
or Hangul-shaped guesses are rejected for nicknames."""

from __future__ import annotations

import logging
import re
import threading

import numpy as np

from services.ocr.engines import FieldKind, Reading, TextLine

logger = logging.getLogger("malgeul.ocr.rapidocr")
_NOT_LATIN = re.compile(r"[^\x20-\x7e]")
_ALLOWED = {"digits": re.compile(r"^\d{1,3}$"), "kda": re.compile(r"^\d{1,3}/\d{1,3}/\d{1,3}$"),
            "score": re.compile(r"^\d{1,3}\s*[:\-]\s*\d{1,3}$")}


class RapidOcrEngine:
    """RapidOCR behind the line and page protocols; one lock because the sessions are shared."""

    name = "rapidocr"

    def __init__(self, threads: int = 1) -> None:
        from rapidocr import RapidOCR  # heavy import, only when the fallback is enabled

        self._engine = RapidOCR(params={"Global.log_level": "error",
                                        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                                        "EngineConfig.onnxruntime.inter_op_num_threads": 1})
        self._lock = threading.Lock()

    def read_line(self, image: np.ndarray, kind: FieldKind) -> Reading:
        rgb = np.stack([image] * 3, axis=-1) if image.ndim == 2 else image
        with self._lock:
            result = self._engine(rgb, use_det=False, use_cls=False, use_rec=True)
        texts = list(result.txts or ())
        if not texts:
            return Reading("", 0.0, self.name)
        text = " ".join(texts[0].split())
        confidence = float(result.scores[0])
        if kind in ("text", "hangul") and _NOT_LATIN.search(text):
            return Reading("", 0.0, self.name)  # a Chinese guess at Hangul: useless here
        if kind in _ALLOWED and not _ALLOWED[kind].match(text.replace(" ", "")):
            confidence = min(confidence, 0.3)
        return Reading(text, confidence, self.name)

    def read_page(self, image: np.ndarray) -> list[TextLine]:
        with self._lock:
            result = self._engine(image)
        lines = []
        for box, text, score in zip(result.boxes if result.boxes is not None else [], result.txts or (), result.scores or ()):
            pts = np.asarray(box)
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            lines.append(TextLine(text, float(score), (int(x0), int(y0), int(x1 - x0), int(y1 - y0))))
        return lines
