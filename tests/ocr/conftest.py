"""Fixtures of the OCR tests: an in-process reader, a fake Cloud Vision server on loopback, a running service."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from services.ocr.engines.tesseract import TesseractPool
from services.ocr.reader import MatchReader
from services.ocr.synthetic import SyntheticCase

TESSDATA = "/usr/share/tesseract-ocr/5/tessdata/"


@pytest.fixture(scope="session")
def tesseract_pool() -> Iterator[TesseractPool]:
    pool = TesseractPool(TESSDATA, workers=1)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def reader(tesseract_pool: TesseractPool) -> MatchReader:
    """Tesseract only, no fallbacks: what the primary engine and the layout analysis get right alone."""
    return MatchReader(tesseract_pool)


class FakeVision(ThreadingHTTPServer):
    """A local stand-in for `images:annotate`: it answers with the generator's true words for images it
    was told about (matched by pixel size), as a perfect cloud OCR would; `mode="error"` answers 500."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _VisionHandler)
        self.words: dict[tuple[int, int], list[tuple[str, list[int]]]] = {}
        self.requests: list[dict] = []
        self.key = "test-key"
        self.mode = "ok"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/images:annotate"

    def learn(self, case: SyntheticCase) -> None:
        assert case.words is not None, "the fake needs exact word boxes (no rotation or perspective)"
        size = Image.open(io.BytesIO(case.image)).size
        self.words[size] = case.words


class _VisionHandler(BaseHTTPRequestHandler):
    server: FakeVision

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "body": body})
        if f"key={self.server.key}" not in self.path:
            self._answer(403, {"error": {"code": 403, "message": "API key not valid", "status": "PERMISSION_DENIED"}})
            return
        if self.server.mode == "error":
            self._answer(500, {"error": {"code": 500, "message": "backend error"}})
            return
        request = body["requests"][0]
        assert request["features"][0]["type"] == "TEXT_DETECTION"
        image = Image.open(io.BytesIO(base64.b64decode(request["image"]["content"])))
        words = self.server.words.get(image.size, [])
        annotations = [{"locale": "ko", "description": " ".join(w for w, _ in words),
                        "boundingPoly": {"vertices": [{"x": 0, "y": 0}, {"x": image.width, "y": 0},
                                                      {"x": image.width, "y": image.height}, {"x": 0, "y": image.height}]}}]
        for text, (x, y, w, h) in words:
            annotations.append({"description": text, "boundingPoly": {"vertices": [
                {"x": x, "y": y}, {"x": x + w, "y": y}, {"x": x + w, "y": y + h}, {"x": x, "y": y + h}]}})
        self._answer(200, {"responses": [{"textAnnotations": annotations}]})


@pytest.fixture(scope="session")
def fake_vision() -> Iterator[FakeVision]:
    server = FakeVision()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def upload(case: SyntheticCase) -> dict:
    """The multipart `image` field of a generated screen."""
    suffix = "jpg" if case.media_type == "image/jpeg" else "png"
    return {"image": (f"screen.{suffix}", case.image, case.media_type)}


def truth_nicknames(case: SyntheticCase) -> list[str]:
    return [p.nickname for t in case.truth.teams for p in t.players]


def numbers(record: dict) -> list:
    """Everything but nicknames: team names, scores, results and each player's K/D/A."""
    return [(t["name"], t["score"], t["result"], [(p["kills"], p["deaths"], p["assists"]) for p in t["players"]])
            for t in record["teams"]]


@pytest.fixture(scope="session")
def full_reader(tesseract_pool: TesseractPool) -> MatchReader:
    """Tesseract with the RapidOCR fallback, as the service runs by default."""
    from services.ocr.engines.rapid import RapidOcrEngine

    return MatchReader(tesseract_pool, line_fallbacks=[RapidOcrEngine()])
