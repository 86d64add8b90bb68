"""The bad-file corpus (generated here, deterministic) and a run of it against every upload route.

Each file is sent to every route that takes an upload of its kind: files as multipart to the OCR,
transcription and conversation-turn routes, bodies as they are to the FAQ upload and the JSON routes.
Every one must get a clean problem+json 4xx (a few odd but valid files may also get a 200 that fits its
schema), within a bounded time and memory, and the target service must still be the same process and
ready afterwards (the launcher would hide a crash by restarting it, so the process id is compared).
"""

from __future__ import annotations

import io
import random
import struct
import threading
import time
import wave
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

# Every request of the corpus gets an answer within this (the gateway's longest timeout is 300 s).
REQUEST_TIMEOUT_S = 90.0
# How much a service's resident memory may grow while it handles one bad file.
MAX_RSS_GROWTH_BYTES = 1024 * 1024 * 1024
LARGE_BODY_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class BadFile:
    """One file of the corpus: its bytes, how it is named and typed, and where it is sent."""

    name: str
    make: Callable[[], bytes]
    filename: str
    content_type: str
    kinds: tuple[str, ...]  # "image", "audio" (multipart file routes), "body" (raw-body routes)
    may_succeed: bool = False  # odd but valid: a 200 that fits the schema is fine too
    chunked: bool = False  # sent without Content-Length, so only the streaming limit can stop it
    slow: bool = False  # takes a second or more to build: kept in the cache folder


@dataclass(frozen=True)
class UploadRoute:
    """One route that takes an upload: files go in multipart ``field``, bodies are sent as they are."""

    name: str
    method: str
    path: str
    service: str
    kind: str  # "file" (multipart) or "body"
    field: str = ""


ROUTES: tuple[UploadRoute, ...] = (
    UploadRoute("ocr-match", "POST", "/v1/ocr/match-results", "ocr", "file", "image"),
    UploadRoute("ocr-text", "POST", "/v1/ocr/text", "ocr", "file", "image"),
    UploadRoute("transcription", "POST", "/v1/audio/transcriptions", "tts", "file", "file"),
    UploadRoute("conversation-turn", "POST", "/v1/conversation/sessions/{session}/turns", "tts", "file", "audio"),
    UploadRoute("faq-upload", "PUT", "/v1/faq/collections/badfiles", "chatbot", "body"),
    UploadRoute("sql-ask", "POST", "/v1/sql/ask", "seq2sql", "body"),
    UploadRoute("sql-register", "POST", "/v1/sql/databases", "seq2sql", "body"),
    UploadRoute("speech", "POST", "/v1/audio/speech", "tts", "body"),
    UploadRoute("conversation-start", "POST", "/v1/conversation/sessions", "tts", "body"),
)


# --- images ----------------------------------------------------------------------------------------


def _screenshot(fmt: str) -> bytes:
    """A small but real picture with some text-like strokes, in ``fmt``."""
    rng = np.random.default_rng(8)
    pixels = np.full((120, 320, 3), 235, dtype=np.uint8)
    for row in range(10, 110, 20):
        pixels[row : row + 6, 20 : 20 + int(rng.integers(80, 280))] = 30
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt, **({"quality": 90} if fmt != "PNG" else {}))
    return out.getvalue()


def _truncated(fmt: str) -> bytes:
    data = _screenshot(fmt)
    return data[: len(data) // 2]


def _corrupt(fmt: str) -> bytes:
    """The header intact, the compressed pixels overwritten with noise."""
    data = bytearray(_screenshot(fmt))
    rng = random.Random(8)
    start = {"PNG": 60, "JPEG": 400, "WEBP": 40}[fmt]
    for i in range(start, len(data) - 16):
        data[i] = rng.randrange(256)
    return bytes(data)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _blank_png(width: int, height: int, bit_depth: int) -> bytes:
    """A grayscale PNG of zeros, compressed row by row so building it never holds the pixels."""
    row = b"\x00" + bytes((width * bit_depth + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def _one_pixel() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1, 1), (255, 0, 0)).save(out, format="PNG")
    return out.getvalue()


# --- audio -----------------------------------------------------------------------------------------


def _wav(samples: np.ndarray, rate: int = 16000, width: int = 2) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


def _raw_wav(format_tag: int, channels: int, rate: int, bits: int, payload: bytes) -> bytes:
    """A RIFF/WAVE file with exactly the header fields given, however wrong."""
    block = max(1, channels * bits // 8)
    fmt = struct.pack("<HHIIHH", format_tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _noise(seconds: float, rate: int = 16000) -> np.ndarray:
    return np.random.default_rng(8).normal(0, 0.1, int(seconds * rate))


def _float64_wav() -> bytes:
    """One second of quiet noise as 64-bit float samples (format tag 3), a format few decoders expect."""
    return _raw_wav(3, 1, 16000, 64, _noise(1.0).astype("<f8").tobytes())


def _two_hours_flac() -> bytes:
    """Two hours of near-silence at 8 kHz in FLAC: a few hundred KB whose header says 7,200 s."""
    import soundfile as sf

    out = io.BytesIO()
    rate, block = 8000, 8000 * 60
    with sf.SoundFile(out, "w", samplerate=rate, channels=1, format="FLAC", subtype="PCM_16") as audio:
        for _ in range(120):
            audio.write(np.zeros(block, dtype=np.int16))
    return out.getvalue()


# --- bodies ----------------------------------------------------------------------------------------


def _deep_json(depth: int = 10_000) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def _deep_object(depth: int = 10_000) -> bytes:
    return ('{"question": ' * depth + '"x"' + "}" * depth).encode()


def _broken_csv() -> bytes:
    return (
        'id,question,answer\n1,"경기 규칙은?,"5판 3선승제입니다\n2,"unterminated, "quote\n"3",x"y,z\n'
        + '4,"' + "열린 따옴표" * 200 + "\n"
    ).encode()


def _invalid_utf8_json() -> bytes:
    return b'{"question": "\xff\xfe\xc3\x28 \xed\xa0\x80 T1 \xf8\x88\x80\x80\x80", "input": "\xc0\xaf", "topic": "\xff"}'


def _invalid_utf8_csv() -> bytes:
    return b"id,question,answer\n1,\xff\xfe\xc3\x28,\xed\xa0\x80\n"


def _random_bytes(size: int = 1024 * 1024) -> bytes:
    return random.Random(8).randbytes(size)


def _large_body() -> bytes:
    return b"\x00" * LARGE_BODY_BYTES


CORPUS: tuple[BadFile, ...] = (
    BadFile("png-truncated", lambda: _truncated("PNG"), "shot.png", "image/png", ("image", "audio")),
    BadFile("png-corrupt", lambda: _corrupt("PNG"), "shot.png", "image/png", ("image", "audio")),
    BadFile("jpeg-truncated", lambda: _truncated("JPEG"), "shot.jpg", "image/jpeg", ("image", "audio")),
    BadFile("jpeg-corrupt", lambda: _corrupt("JPEG"), "shot.jpg", "image/jpeg", ("image", "audio")),
    BadFile("webp-truncated", lambda: _truncated("WEBP"), "shot.webp", "image/webp", ("image", "audio")),
    BadFile("webp-corrupt", lambda: _corrupt("WEBP"), "shot.webp", "image/webp", ("image", "audio")),
    BadFile("png-bomb-50000x50000", lambda: _blank_png(50_000, 50_000, 1), "bomb.png", "image/png", ("image",),
            slow=True),
    BadFile("png-20000x20000", lambda: _blank_png(20_000, 20_000, 8), "huge.png", "image/png", ("image",),
            slow=True),
    BadFile("png-1x1", _one_pixel, "dot.png", "image/png", ("image", "audio")),
    BadFile("empty", lambda: b"", "empty.bin", "application/octet-stream", ("image", "audio", "body")),
    BadFile("random-bytes", _random_bytes, "random.bin", "application/octet-stream", ("image", "audio", "body")),
    BadFile("wav-empty", lambda: _wav(np.zeros(0, dtype=np.int16)), "empty.wav", "audio/wav", ("audio", "image")),
    BadFile("wav-zero-channels", lambda: _raw_wav(1, 0, 16000, 16, bytes(32000)), "zero.wav", "audio/wav", ("audio",)),
    BadFile("wav-zero-rate", lambda: _raw_wav(1, 1, 0, 16, bytes(32000)), "zero.wav", "audio/wav", ("audio",)),
    BadFile("wav-unknown-format", lambda: _raw_wav(0x1234, 1, 16000, 16, _random_bytes(32000)), "odd.wav",
            "audio/wav", ("audio",)),
    BadFile("wav-float64", _float64_wav, "f64.wav", "audio/wav", ("audio",), may_succeed=True),
    BadFile("wav-8bit", lambda: _wav(((_noise(1.0) + 1) * 127).astype(np.uint8), width=1), "u8.wav", "audio/wav",
            ("audio",), may_succeed=True),
    BadFile("flac-2-hours", _two_hours_flac, "long.flac", "audio/flac", ("audio",), slow=True),
    BadFile("png-named-wav", lambda: _screenshot("PNG"), "speech.wav", "audio/wav", ("audio",)),
    BadFile("csv-broken-quoting", _broken_csv, "faq.csv", "text/csv", ("body",)),
    BadFile("csv-invalid-utf8", _invalid_utf8_csv, "faq.csv", "text/csv", ("body",)),
    BadFile("json-nested-10000-list", _deep_json, "deep.json", "application/json", ("body",)),
    BadFile("json-nested-10000-object", _deep_object, "deep.json", "application/json", ("body",)),
    BadFile("json-invalid-utf8", _invalid_utf8_json, "bad.json", "application/json", ("body",)),
    BadFile("body-50mb", _large_body, "big.bin", "application/json", ("image", "audio", "body")),
    BadFile("body-50mb-chunked", _large_body, "big.bin", "application/json", ("image", "audio", "body"),
            chunked=True),
)

# Open bugs in services whose owners are changing them now (strict xfail tests in tests/reliability).
KNOWN_BUGS: dict[tuple[str, str], str] = {}

_ROUTE_KINDS = {"ocr-match": "image", "ocr-text": "image", "transcription": "audio", "conversation-turn": "audio"}


# One upload route per service: where the quick run sends what is handled the same way on all of them
# (the 50 MB bodies stop at the gateway; the valid odd audio is transcribed the same way by both audio routes).
_QUICK_ROUTES = {"ocr-match", "transcription", "faq-upload", "sql-ask"}


def cases(
    corpus: tuple[BadFile, ...] = CORPUS, routes: tuple[UploadRoute, ...] = ROUTES, quick: bool = False
) -> Iterator[tuple[BadFile, UploadRoute]]:
    """Every (file, route) pair the corpus sends; ``quick`` sends the slow or repetitive ones to fewer routes."""
    for item in corpus:
        for route in routes:
            if _ROUTE_KINDS.get(route.name, "body") not in item.kinds:
                continue
            if quick and (item.may_succeed or item.name.startswith("body-50mb")) and route.name not in _QUICK_ROUTES:
                continue
            yield item, route


def load(item: BadFile, cache: Path | None = None) -> bytes:
    """The item's bytes, built once and kept under ``cache`` (the bombs take a second or two to build)."""
    if cache is None or not item.slow:
        return item.make()
    path = cache / item.name
    if path.exists():
        return path.read_bytes()
    data = item.make()
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data


# --- running it ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one (file, route) request got."""

    item: str
    route: str
    status: int | None
    seconds: float
    rss_growth: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class MemoryWatch:
    """Samples the resident memory of the product's processes in a thread; keeps each one's peak."""

    def __init__(self, sample: Callable[[], dict[str, int]], interval: float = 0.2) -> None:
        self.sample = sample
        self.interval = interval
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-watch", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.observe()
            self._stop.wait(self.interval)

    def observe(self) -> dict[str, int]:
        try:
            now = self.sample()
        except Exception:  # noqa: BLE001 - a process restarting between two samples
            return {}
        for name, size in now.items():
            self.peak[name] = max(self.peak.get(name, 0), size)
        return now

    def reset(self) -> None:
        self.peak = {}

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _chunks(data: bytes, size: int = 1024 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def send(client: httpx.Client, item: BadFile, data: bytes, route: UploadRoute, session: str) -> httpx.Response:
    """One request of ``item`` to ``route``."""
    path = route.path.format(session=session)
    if route.kind == "file":
        if item.chunked:
            # A multipart body of unknown length, so the size is only learnt while streaming.
            boundary = "malgeul-badfile"
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{route.field}"; filename="{item.filename}"\r\n'
                f"Content-Type: {item.content_type}\r\n\r\n"
            ).encode()
            tail = f"\r\n--{boundary}--\r\n".encode()
            return client.request(
                route.method, path, content=iter([head, *_chunks(data), tail]),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
        return client.request(route.method, path, files={route.field: (item.filename, data, item.content_type)})
    content: bytes | Iterator[bytes] = iter(list(_chunks(data))) if item.chunked else data
    return client.request(route.method, path, content=content, headers={"Content-Type": item.content_type})


def check_response(response: httpx.Response, item: BadFile) -> list[str]:
    """What is wrong with the answer to a bad file (nothing, for a clean 4xx)."""
    problems: list[str] = []
    status = response.status_code
    if 200 <= status < 300 and item.may_succeed:
        return problems
    if not 400 <= status < 500:
        problems.append(f"status {status}, expected a 4xx")
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        problems.append(f"content-type {response.headers.get('content-type')!r}, expected application/problem+json")
        return problems
    try:
        body = response.json()
    except ValueError:
        return [*problems, "the problem body is not JSON"]
    detail = str(body.get("detail", ""))
    if not detail or body.get("status") != status:
        problems.append("the problem body lacks a detail or the right status")
    if "Traceback" in detail or "/work/" in detail or ".py" in detail or "site-packages" in detail:
        problems.append(f"the detail leaks internals: {detail[:200]!r}")
    return problems


def start_conversation(client: httpx.Client) -> str:
    """A conversation session for the turn route (bad recordings are sent as its turns)."""
    topics = client.get("/v1/conversation/topics")
    topics.raise_for_status()
    created = client.post("/v1/conversation/sessions", json={"topic": topics.json()[0]["id"]})
    created.raise_for_status()
    return created.json()["session_id"]


def run(
    base_url: str,
    processes: Callable[[], dict[str, int]],
    rss: Callable[[], dict[str, int]],
    headers: dict[str, str] | None = None,
    cache: Path | None = None,
    selected: list[tuple[BadFile, UploadRoute]] | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> tuple[list[Outcome], dict[str, int]]:
    """Send the corpus; returns each request's outcome and the peak RSS of every process over the run.

    ``processes`` gives each process's pid by name (to see that none restarted), ``rss`` their memory.
    """
    outcomes: list[Outcome] = []
    with (
        httpx.Client(base_url=base_url, headers=headers or {}, timeout=REQUEST_TIMEOUT_S) as client,
        MemoryWatch(rss) as whole_run,
    ):
        session = start_conversation(client)
        for item, route in selected if selected is not None else list(cases()):
            data = load(item, cache)
            pids_before = processes()
            before = rss().get(route.service, 0)
            with MemoryWatch(rss, interval=0.05) as watch:
                started = time.perf_counter()
                try:
                    response = send(client, item, data, route, session)
                    status, problems = response.status_code, check_response(response, item)
                except httpx.HTTPError as exc:
                    status, problems = None, [f"no answer: {type(exc).__name__}: {exc}"]
                seconds = time.perf_counter() - started
            growth = max(0, watch.peak.get(route.service, before) - before)
            if growth > MAX_RSS_GROWTH_BYTES:
                problems.append(f"{route.service} grew by {growth / 2**20:.0f} MB")
            if seconds > REQUEST_TIMEOUT_S:
                problems.append(f"took {seconds:.0f} s")
            problems += _still_healthy(client, route.service, pids_before, processes)
            outcome = Outcome(item.name, route.name, status, seconds, growth, problems)
            outcomes.append(outcome)
            log(f"{item.name:28s} -> {route.name:20s} {status}  {seconds:6.2f} s  "
                f"+{growth / 2**20:5.0f} MB  {'ok' if outcome.ok else '; '.join(problems)}")
    return outcomes, whole_run.peak


def _still_healthy(
    client: httpx.Client, service: str, pids_before: dict[str, int], processes: Callable[[], dict[str, int]],
    wait: float = 10.0,
) -> list[str]:
    """The service that got the file is the same process and ready (within ``wait`` s: on a busy machine its
    readiness probe may miss the gateway's 1 s deadline once); the other services are not its business."""
    problems = []
    if processes().get(service) != pids_before.get(service):
        problems.append(f"{service} restarted (it crashed)")
    deadline = time.monotonic() + wait
    while True:
        states = client.get("/readyz", timeout=10).json().get("services", {})
        if states.get(service) == "ready":
            return problems
        if time.monotonic() > deadline:
            return [*problems, f"{service} is {states.get(service)!r} after the request, not ready"]
        time.sleep(0.5)
