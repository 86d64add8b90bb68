"""OCR engines behind two small protocols: read one cropped line, or read a whole page.

`tesseract.py` is the primary engine (in-process, both protocols); `rapid.py` (RapidOCR, local ONNX) and
`cloud_vision.py` (Google Cloud Vision `images:annotate`) are fallbacks. Any engine that returns
`TextLine`s with boxes can feed the same parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

# What a cropped region is expected to hold: chooses the model and the character whitelist.
# `hangul`: a part known to be Korean (`hangul_script`: a second Hangul model); `latin`: Latin letters and digits.
FieldKind = Literal["text", "hangul", "hangul_script", "latin", "digits", "kda", "score"]


@dataclass
class Reading:
    """One engine's reading of a cropped line: text and confidence in [0, 1]."""

    text: str
    confidence: float
    engine: str


@dataclass
class TextLine:
    """A line of text on a page with its box (x, y, w, h) in the page's pixel coordinates."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]


class EngineUnavailable(RuntimeError):
    """The engine cannot answer now (a cloud endpoint down, a model missing)."""


@runtime_checkable
class LineReader(Protocol):
    """Reads one cropped line (grayscale, dark text on light) of a known kind."""

    name: str

    def read_line(self, image: np.ndarray, kind: FieldKind) -> Reading: ...


@runtime_checkable
class PageReader(Protocol):
    """Reads a whole page (RGB) into lines with boxes."""

    name: str

    def read_page(self, image: np.ndarray) -> list[TextLine]: ...
