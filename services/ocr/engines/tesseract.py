"""Tesseract in-process through tesserocr: one set of `PyTessBaseAPI`s per worker (they are not thread-safe).

Nicknames and words are read with the `Hangul+eng` models (better than `kor+eng` on mixed nicknames);
numbers with `eng` and a digit whitelist.
"""

from __future__ import annotations

import logging
import os
import queue
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from services.ocr.engines import FieldKind, Reading, TextLine

# Tesseract's OpenMP threads fight each other when several workers run; one each is fastest here.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import tesserocr  # noqa: E402  (after OMP_THREAD_LIMIT)

logger = logging.getLogger("malgeul.ocr.tesseract")

# Pages are scaled so text is ~26 px tall; the `kor` model reads Hangul better at ~16 px.
HANGUL_INK_HEIGHT = 16.0
HANGUL_SURE, HANGUL_SECOND_SIZE = 0.9, 1.25
# Index of the LSTM character set among a traineddata file's components (tessdatamanager.h).
LSTM_UNICHARSET = 21
WHITELISTS: dict[str, str] = {"digits": "0123456789", "kda": "0123456789/", "score": "0123456789:-"}


def model_characters(tessdata: str, lang: str) -> set[str]:
    """The characters a traineddata's LSTM model can output (its `lstm-unicharset` component), empty when the
    file cannot be read. Tesseract's fast Korean models know ~1,150 Hangul syllables, not all 11,172."""
    path = Path(tessdata) / f"{lang}.traineddata"
    try:
        data = path.read_bytes()
        count = struct.unpack("<i", data[:4])[0]
        offsets = struct.unpack(f"<{count}q", data[4 : 4 + 8 * count])
        start = offsets[LSTM_UNICHARSET]
        end = min([o for o in offsets[LSTM_UNICHARSET + 1 :] if o > 0] + [len(data)])
        lines = data[start:end].decode("utf-8").splitlines()[1:]
    except (OSError, struct.error, IndexError, UnicodeDecodeError):
        return set()
    return {line.split(" ", 1)[0] for line in lines if line}


def _hangul_scale(image: np.ndarray) -> float:
    """The factor that brings a line's ink to HANGUL_INK_HEIGHT (team names are drawn bigger than nicknames)."""
    _, ink = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    rows = np.nonzero(ink.any(axis=1))[0]
    height = rows[-1] - rows[0] + 1 if len(rows) else HANGUL_INK_HEIGHT / 0.6
    return float(np.clip(HANGUL_INK_HEIGHT / height, 0.3, 1.0))


class TesseractWorker:
    """The Tesseract APIs of one worker: words (`Hangul+eng`), numbers (`eng` + whitelist) and pages."""

    name = "tesseract"

    def __init__(self, tessdata: str, text_lang: str = "Hangul+eng") -> None:
        self._text = tesserocr.PyTessBaseAPI(path=tessdata, lang=text_lang, psm=tesserocr.PSM.SINGLE_LINE)
        self._text.SetVariable("preserve_interword_spaces", "1")
        self._numbers = {
            kind: tesserocr.PyTessBaseAPI(path=tessdata, lang="eng", psm=tesserocr.PSM.SINGLE_LINE)
            for kind in WHITELISTS
        }
        for kind, api in self._numbers.items():
            api.SetVariable("tessedit_char_whitelist", WHITELISTS[kind])
        self._page = tesserocr.PyTessBaseAPI(path=tessdata, lang=text_lang, psm=tesserocr.PSM.AUTO)
        # For a part of a nickname known not to be Latin (the eng model turns it into junk): the `kor`
        # model on text shrunk to ~16 px read pure-Hangul nicknames best (226/230 vs 213 for Hangul+eng).
        self._hangul = tesserocr.PyTessBaseAPI(path=tessdata, lang="kor", psm=tesserocr.PSM.SINGLE_LINE)
        self.hangul_characters = model_characters(tessdata, "kor")
        # The Hangul script model at full size: a second opinion on a part the Korean model cannot read.
        self._hangul_script = tesserocr.PyTessBaseAPI(path=tessdata, lang="Hangul", psm=tesserocr.PSM.SINGLE_LINE)
        # For a part known to be Latin: `eng` alone does not turn `G` into a Hangul-looking guess.
        self._latin = tesserocr.PyTessBaseAPI(path=tessdata, lang="eng", psm=tesserocr.PSM.SINGLE_LINE)

    def read_line(self, image: np.ndarray, kind: FieldKind) -> Reading:
        api = {"text": self._text, "hangul": self._hangul, "hangul_script": self._hangul_script,
               "latin": self._latin}.get(kind) or self._numbers[kind]
        if kind != "hangul":
            return self._read(api, image)
        # Two sizes; the surer reading wins (the Korean model's choice between close syllables shifts with size).
        scale = _hangul_scale(image)
        first = self._read(api, cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
        if first.confidence >= HANGUL_SURE:
            return first
        scale = min(1.0, scale * HANGUL_SECOND_SIZE)
        second = self._read(api, cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
        return max(first, second, key=lambda r: r.confidence)

    def _read(self, api: tesserocr.PyTessBaseAPI, image: np.ndarray) -> Reading:
        api.SetImage(Image.fromarray(image))
        text = api.GetUTF8Text().strip()
        confidence = api.MeanTextConf() / 100.0 if text else 0.0
        return Reading(" ".join(text.split()), max(0.0, confidence), self.name)

    def read_symbols(self, image: np.ndarray) -> list[tuple[str, float, int, int]]:
        """Each character of a line with its confidence and x extent (crop pixels)."""
        self._text.SetImage(Image.fromarray(image))
        self._text.Recognize()
        symbols = []
        level = tesserocr.RIL.SYMBOL
        for item in tesserocr.iterate_level(self._text.GetIterator(), level):
            char = item.GetUTF8Text(level)
            box = item.BoundingBox(level)
            if char and box:
                symbols.append((char, item.Confidence(level) / 100.0, box[0], box[2]))
        return symbols

    def read_page(self, image: np.ndarray) -> list[TextLine]:
        self._page.SetImage(Image.fromarray(image))
        self._page.Recognize()
        lines: list[TextLine] = []
        iterator = self._page.GetIterator()
        level = tesserocr.RIL.TEXTLINE
        for item in tesserocr.iterate_level(iterator, level):
            text = (item.GetUTF8Text(level) or "").strip()
            box = item.BoundingBox(level)
            if not text or box is None:
                continue
            x0, y0, x1, y1 = box
            lines.append(TextLine(text, item.Confidence(level) / 100.0, (x0, y0, x1 - x0, y1 - y0)))
        return lines

    def close(self) -> None:
        for api in (self._text, self._page, self._hangul, self._hangul_script, self._latin, *self._numbers.values()):
            api.End()


class TesseractPool:
    """A fixed number of workers; a request borrows one for the whole image."""

    name = "tesseract"

    def __init__(self, tessdata: str, workers: int, text_lang: str = "Hangul+eng") -> None:
        self._idle: queue.Queue[TesseractWorker] = queue.Queue()
        self._all = [TesseractWorker(tessdata, text_lang) for _ in range(max(1, workers))]
        for worker in self._all:
            self._idle.put(worker)
        logger.info("tesseract ready", extra={"workers": len(self._all), "lang": text_lang})

    @contextmanager
    def worker(self) -> Iterator[TesseractWorker]:
        worker = self._idle.get()
        try:
            yield worker
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        for worker in self._all:
            worker.close()
