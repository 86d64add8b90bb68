"""The requests a user sends, route by route, and closed-loop clients that send them and record every answer.

Chaos and load runs share this: each client is one user of one feature (FAQ, SQL, speech, transcription,
OCR) who sends a request, waits for the whole answer, checks it is what a user would accept, and sends the
next one. Bodies come from the repo's own data: FAQ dev questions, the SQL dev questions, synthetic
match-result screens, and a WAV the speech service itself reads aloud.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from common.settings import DATA_DIR

FAQ_COLLECTION = "esports-rules"
# Longest a client waits for one answer; past every gateway timeout, so a slow route shows up as the gateway's 504.
CLIENT_TIMEOUT = 330.0
# A client whose request failed waits this long before the next one, as a person or an app would (a down
# service's 503s take milliseconds; without a pause its clients would flood the gateway).
RETRY_PAUSE = 0.5
# The mixed workload's features, in the order clients are dealt to them (client i uses ROUTES[i % 5]).
ROUTES = ("faq", "sql", "tts", "stt", "ocr")
# Which service answers each feature, and a cheap route of each service for probing it.
SERVICE_OF = {"faq": "chatbot", "sql": "seq2sql", "tts": "tts", "stt": "tts", "ocr": "ocr"}
PROBES = {
    "chatbot": ("GET", "/v1/faq/collections"),
    "seq2sql": ("GET", "/v1/sql/databases"),
    "tts": ("GET", "/v1/audio/voices"),
    "ocr": ("GET", "/v1/matches?limit=1"),
}
SPOKEN = (
    "Please book a table for two at seven tonight.",
    "The final match starts at three in the afternoon.",
    "Could you tell me where the nearest station is?",
)
READ_ALOUD = {
    "en": ("Good luck in the final round.", "The match starts in ten minutes."),
    "ko": ("결승전은 오후 세 시에 시작합니다.", "오늘 경기 결과를 알려 드릴게요."),
}


@dataclass
class Sample:
    """One answered (or failed) request."""

    route: str
    started: float  # time.monotonic()
    seconds: float
    status: int  # HTTP status; 0 when no response arrived (connection error, client timeout)
    ok: bool  # 2xx and a body a user would accept
    detail: str = ""

    @property
    def ended(self) -> float:
        return self.started + self.seconds


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class RouteFigures:
    route: str
    count: int
    errors: int
    p50: float
    p90: float
    p99: float
    max: float
    per_second: float

    def line(self) -> str:
        return (
            f"{self.route:6s} {self.count:6d} {self.errors:6d} {self.per_second:7.2f} "
            f"{self.p50:8.3f} {self.p90:8.3f} {self.p99:8.3f} {self.max:8.3f}"
        )


FIGURES_HEADER = f"{'route':6s} {'count':>6s} {'errors':>6s} {'req/s':>7s} {'p50 s':>8s} {'p90 s':>8s} {'p99 s':>8s} {'max s':>8s}"


def figures(samples: list[Sample], seconds: float, routes: Iterable[str] = ROUTES) -> list[RouteFigures]:
    """Per-route count, errors and latency percentiles (seconds) over ``samples``."""
    rows = []
    for route in routes:
        mine = [s for s in samples if s.route == route]
        times = [s.seconds for s in mine]
        rows.append(
            RouteFigures(
                route,
                len(mine),
                sum(not s.ok for s in mine),
                percentile(times, 50),
                percentile(times, 90),
                percentile(times, 99),
                max(times, default=math.nan),
                len(mine) / seconds if seconds > 0 else math.nan,
            )
        )
    return rows


def _check_json(route: str, body: bytes) -> str:
    """Empty when the body is what a user of ``route`` expects, else why not."""
    try:
        data = json.loads(body)
    except ValueError:
        return "the body is not JSON"
    expected = {"faq": "abstained", "sql": "rows", "ocr": "match", "stt": "text"}[route]
    if expected not in data:
        return f"no {expected!r} in the answer"
    if route == "stt" and not data["text"].strip():
        return "an empty transcript of speech"
    return ""


@dataclass
class Workload:
    """Request bodies for each feature, cycled so that consecutive requests differ."""

    faq_questions: list[str]
    sql_questions: list[str]
    speech_inputs: list[dict[str, Any]]
    wavs: list[bytes]
    screens: list[bytes]
    _cycles: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    async def prepare(cls, session: aiohttp.ClientSession, base_url: str, screens: int = 3) -> Workload:
        """Build the bodies: questions from data/, screens from the OCR generator, WAVs read by the product."""
        from services.ocr.synthetic import random_case  # heavy (fonts, PIL): only when a workload is built

        rng = random.Random(8)
        dev = json.loads((DATA_DIR / "faq" / "esports-rules-dev.json").read_text(encoding="utf-8"))
        faq = [q["text"] for q in dev["queries"]]
        rng.shuffle(faq)
        sql: list[str] = []
        for line in (DATA_DIR / "seq2sql" / "dev-matches.txt").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                category, question, _ = (part.strip() for part in line.split(" || ", 2))
                if category != "refuse":
                    sql.append(question)
        rng.shuffle(sql)  # every category, not the first few
        async with session.get(base_url + "/v1/audio/voices") as response:
            response.raise_for_status()
            voices = await response.json()
        by_language: dict[str, list[str]] = {}
        for voice in voices:
            by_language.setdefault(voice["language"], []).append(voice["id"])
        speech = [
            {"input": text, "voice": by_language[lang][i % len(by_language[lang])], "response_format": "wav"}
            for lang in ("en", "ko")
            for i, text in enumerate(READ_ALOUD[lang])
        ]
        english = "en-joe" if "en-joe" in by_language.get("en", []) else by_language["en"][0]
        wavs = []
        for text in SPOKEN:
            async with session.post(base_url + "/v1/audio/speech", json={"input": text, "voice": english}) as response:
                response.raise_for_status()
                wavs.append(await response.read())
        images = [random_case(2000 + i, degraded=False).image for i in range(screens)]
        workload = cls(faq, sql, speech, wavs, images)
        await workload.keep_answerable_sql(session, base_url)
        return workload

    async def keep_answerable_sql(self, session: aiohttp.ClientSession, base_url: str, limit: int = 24) -> None:
        """Keep ``limit`` SQL questions the model answers (a 422 'cannot map' is a correct answer, not load)."""
        kept: list[str] = []
        for question in self.sql_questions:
            if len(kept) >= limit:
                break
            async with session.post(base_url + "/v1/sql/ask", json={"question": question}) as response:
                await response.read()
                if response.status == 200:
                    kept.append(question)
        if not kept:
            raise RuntimeError("the SQL service answered none of the dev questions")
        self.sql_questions = kept

    def _next(self, name: str, items: list[Any]) -> Any:
        if name not in self._cycles:
            self._cycles[name] = itertools.cycle(items)
        return next(self._cycles[name])

    def request(self, route: str) -> tuple[str, str, dict[str, Any]]:
        """(method, path, aiohttp keyword arguments) of the next request of ``route``."""
        if route == "faq":
            question = self._next("faq", self.faq_questions)
            return "POST", f"/v1/faq/collections/{FAQ_COLLECTION}/ask", {"json": {"question": question}}
        if route == "sql":
            return "POST", "/v1/sql/ask", {"json": {"question": self._next("sql", self.sql_questions)}}
        if route == "tts":
            return "POST", "/v1/audio/speech", {"json": self._next("tts", self.speech_inputs)}
        if route == "stt":
            form = aiohttp.FormData()
            form.add_field("file", self._next("stt", self.wavs), filename="turn.wav", content_type="audio/wav")
            form.add_field("model", "whisper-1")
            return "POST", "/v1/audio/transcriptions", {"data": form}
        if route == "ocr":
            form = aiohttp.FormData()
            form.add_field("image", self._next("ocr", self.screens), filename="screen.png", content_type="image/png")
            return "POST", "/v1/ocr/match-results", {"data": form}
        raise ValueError(f"unknown route {route!r}")


async def send(
    session: aiohttp.ClientSession, base_url: str, route: str, method: str, path: str, **kwargs: Any
) -> Sample:
    """Send one request and wait for its whole body; a probe route (not in ROUTES) only needs a 2xx."""
    started = time.monotonic()
    try:
        async with session.request(
            method, base_url + path, timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT), **kwargs
        ) as response:
            body = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Sample(route, started, time.monotonic() - started, 0, False, type(exc).__name__)
    seconds = time.monotonic() - started
    if not 200 <= status < 300:
        try:
            detail = json.loads(body).get("detail", "")
        except (ValueError, AttributeError):
            detail = body[:200].decode("utf-8", "replace")
        return Sample(route, started, seconds, status, False, str(detail))
    problem = ""
    if route == "tts":
        problem = "" if len(body) > 1000 and body[:4] == b"RIFF" else "not a WAV with sound"
    elif route in ("faq", "sql", "stt", "ocr"):
        problem = _check_json(route, body)
    return Sample(route, started, seconds, status, not problem, problem)


class Clients:
    """Closed-loop clients against the gateway; every answer lands in ``samples``."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, workload: Workload) -> None:
        self.session = session
        self.base_url = base_url
        self.workload = workload
        self.samples: list[Sample] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.paused: set[str] = set()  # routes whose clients wait instead of sending

    def start(self, count: int, routes: tuple[str, ...] = ROUTES) -> None:
        """``count`` clients, dealt to ``routes`` in turn (staggered over the first second)."""
        for i in range(count):
            self._tasks.append(asyncio.create_task(self._client(routes[i % len(routes)], i * 1.0 / max(1, count))))

    async def _client(self, route: str, delay: float) -> None:
        await asyncio.sleep(delay)
        while not self._stop.is_set():
            if route in self.paused:
                await asyncio.sleep(0.1)
                continue
            method, path, kwargs = self.workload.request(route)
            sample = await send(self.session, self.base_url, route, method, path, **kwargs)
            self.samples.append(sample)
            if not sample.ok:
                await asyncio.sleep(RETRY_PAUSE)

    async def stop(self) -> None:
        """Stop sending; requests in flight finish (and are recorded)."""
        self._stop.set()
        await asyncio.gather(*self._tasks)
        self._tasks.clear()

    def between(self, start: float, end: float, routes: Iterable[str] | None = None) -> list[Sample]:
        """Samples that started within [start, end)."""
        wanted = set(routes) if routes is not None else None
        return [s for s in self.samples if start <= s.started < end and (wanted is None or s.route in wanted)]


def session(connections: int = 64) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections, force_close=False))


def describe_errors(samples: list[Sample], limit: int = 5) -> list[str]:
    """A few distinct failures, for the report."""
    seen: dict[tuple[str, int, str], int] = {}
    for s in samples:
        if not s.ok:
            key = (s.route, s.status, s.detail[:120])
            seen[key] = seen.get(key, 0) + 1
    return [f"{route} {status} x{n}: {detail}" for (route, status, detail), n in list(seen.items())[:limit]]
