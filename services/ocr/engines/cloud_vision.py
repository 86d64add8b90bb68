"""Google Cloud Vision `images:annotate` (TEXT_DETECTION) as a page reader.

The endpoint and key come from configuration, so tests point it at a local fake on loopback and a
deployment at `https://vision.googleapis.com/v1/images:annotate` with a real key.
"""

from __future__ import annotations

import base64
import io
import logging

import httpx
import numpy as np
from PIL import Image

from services.ocr.engines import EngineUnavailable, TextLine

logger = logging.getLogger("malgeul.ocr.cloud_vision")
GOOGLE_VISION_URL = "https://vision.googleapis.com/v1/images:annotate"


class CloudVisionEngine:
    """Sends the whole image once and returns its words with boxes (in the sent image's pixels)."""

    name = "google-vision"

    def __init__(self, url: str, key: str, timeout: float = 5.0, language_hints: tuple[str, ...] = ("ko", "en")) -> None:
        self.url = url or GOOGLE_VISION_URL
        self._key = key
        self._timeout = timeout
        self._hints = list(language_hints)

    def read_page(self, image: np.ndarray) -> list[TextLine]:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "PNG")
        body = {"requests": [{
            "image": {"content": base64.b64encode(buffer.getvalue()).decode("ascii")},
            "features": [{"type": "TEXT_DETECTION"}],
            "imageContext": {"languageHints": self._hints},
        }]}
        try:
            response = httpx.post(self.url, params={"key": self._key}, json=body, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"cloud OCR unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise EngineUnavailable(f"cloud OCR answered HTTP {response.status_code}")
        try:
            answer = response.json()["responses"][0]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise EngineUnavailable("cloud OCR answered something that is not an annotate response") from exc
        if "error" in answer:
            raise EngineUnavailable(f"cloud OCR error: {answer['error'].get('message', 'unknown')}")
        return _words(answer)


def _words(answer: dict) -> list[TextLine]:
    """Word annotations (the first textAnnotation is the whole text; the rest are words)."""
    lines = []
    for item in answer.get("textAnnotations", [])[1:]:
        vertices = item.get("boundingPoly", {}).get("vertices", [])
        if not vertices or not item.get("description"):
            continue
        xs = [v.get("x", 0) for v in vertices]
        ys = [v.get("y", 0) for v in vertices]
        box = (min(xs), min(ys), max(1, max(xs) - min(xs)), max(1, max(ys) - min(ys)))
        # TEXT_DETECTION gives no per-word confidence; a word it returns is taken as sure.
        lines.append(TextLine(item["description"], float(item.get("confidence", 0.95)), box))
    return lines
