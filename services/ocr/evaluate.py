"""Scoring match records against generated ground truth, for `malgeul eval ocr` and the benchmarks.

Fields: team name, score and result per team; nickname, kills, deaths, assists per player (teams and
players aligned by screen position, a missing one counts as wrong). An image is perfect when every
one of those fields is right. Title and map are scored too but kept out of the overall figure.
"""

from __future__ import annotations

import io
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from services.ocr.layout import Segment, group_rows, merge_words
from services.ocr.parse import analyse
from services.ocr.schemas import MatchRecord
from services.ocr.synthetic import SyntheticCase

FIELDS = ("team_name", "score", "result", "nickname", "kills", "deaths", "assists")


@dataclass
class Score:
    """Per-field right/total counts, perfect images, fallbacks and latencies."""

    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    images: int = 0
    perfect: int = 0
    fallbacks: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    by_group: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def add(self, truth: dict, got: MatchRecord | None, groups: list[str], ms: float, fallback: bool = False,
            cpu_ms: float | None = None) -> bool:
        marks = compare(truth, got)
        for name, ok in marks:
            self.total[name] += 1
            self.right[name] += int(ok)
        perfect = all(ok for name, ok in marks if name in FIELDS)
        self.images += 1
        self.perfect += int(perfect)
        self.fallbacks += int(fallback)
        self.latencies_ms.append(ms)
        if cpu_ms is not None:
            self.cpu_ms.append(cpu_ms)
        for group in groups:
            self.by_group[group][0] += int(perfect)
            self.by_group[group][1] += 1
        return perfect

    def accuracy(self, name: str) -> float:
        return self.right[name] / self.total[name] if self.total[name] else 0.0

    def overall(self) -> float:
        right = sum(self.right[f] for f in FIELDS)
        total = sum(self.total[f] for f in FIELDS)
        return right / total if total else 0.0

    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    def lines(self, label: str) -> list[str]:
        fields = " ".join(f"{name}={self.accuracy(name):.3f}" for name in FIELDS)
        extra = " ".join(f"{name}={self.accuracy(name):.3f}" for name in ("title", "map"))
        return [
            f"{label}: images={self.images} overall={self.overall():.3f} perfect_images={self.perfect / max(1, self.images):.3f} "
            f"fallback_rate={self.fallbacks / max(1, self.images):.3f} p50_ms={self.p50():.0f}"
            + (f" p50_cpu_ms={statistics.median(self.cpu_ms):.0f}" if self.cpu_ms else ""),
            f"{label}: fields {fields} ({extra})",
            f"{label}: perfect by group " + " ".join(
                f"{g}={r}/{t}" for g, (r, t) in sorted(self.by_group.items())),
        ]


def compare(truth: dict, got: MatchRecord | None) -> list[tuple[str, bool]]:
    """(field, right?) for every ground-truth field."""
    marks: list[tuple[str, bool]] = []
    record = got.model_dump() if got is not None else {"title": None, "map": None, "teams": []}
    marks.append(("title", record["title"] == truth["title"]))
    marks.append(("map", record["map"] == truth["map"]))
    for index, team in enumerate(truth["teams"]):
        other = record["teams"][index] if index < len(record["teams"]) else {"name": None, "score": None, "result": None, "players": []}
        marks.append(("team_name", other["name"] == team["name"]))
        marks.append(("score", other["score"] == team["score"]))
        marks.append(("result", other["result"] == team["result"]))
        for row, player in enumerate(team["players"]):
            read = other["players"][row] if row < len(other["players"]) else {}
            for name, key in (("nickname", "nickname"), ("kills", "kills"), ("deaths", "deaths"), ("assists", "assists")):
                marks.append((name, read.get(key) == player[key]))
    return marks


def misses(truth: dict, got: MatchRecord | None) -> list[str]:
    """Each wrong field as `team 2 player 3 nickname: '빛바_92' -> '빚바_92'` (what `--misses` prints)."""
    found: list[str] = []
    record = got.model_dump() if got is not None else {"teams": []}
    for index, team in enumerate(truth["teams"]):
        other = record["teams"][index] if index < len(record["teams"]) else {"players": []}
        for key in ("name", "score", "result"):
            if other.get(key) != team[key]:
                found.append(f"team {index + 1} {key}: {team[key]!r} -> {other.get(key)!r}")
        for row, player in enumerate(team["players"]):
            read = other["players"][row] if row < len(other["players"]) else {}
            for key in ("nickname", "kills", "deaths", "assists"):
                if read.get(key) != player[key]:
                    found.append(f"team {index + 1} player {row + 1} {key}: {player[key]!r} -> {read.get(key)!r}")
    return found


def case_groups(case: SyntheticCase) -> list[str]:
    style = case.style
    groups = [f"layout:{style.layout}", f"kda:{style.kda}", f"score:{style.score}", f"lang:{style.lang}",
              f"theme:{style.theme}", "clean" if not style.degraded else "degraded"]
    if style.jpeg_quality:
        groups.append("deg:jpeg")
    if style.blur:
        groups.append("deg:blur")
    if style.scale != 1.0:
        groups.append("deg:small")
    if style.rotation:
        groups.append("deg:rotation")
    if style.perspective:
        groups.append("deg:perspective")
    return groups


def decode(case: SyntheticCase) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(case.image)).convert("RGB"))


def whole_page_tesseract(lang: str = "Hangul+eng") -> Callable[[np.ndarray], MatchRecord]:
    """The baseline: one plain pytesseract pass over the page, its words fed to the same parser."""
    import pytesseract

    def read(rgb: np.ndarray) -> MatchRecord:
        data = pytesseract.image_to_data(Image.fromarray(rgb), lang=lang, output_type=pytesseract.Output.DICT)
        words = []
        for text, conf, x, y, w, h in zip(data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"]):
            if text and text.strip():
                words.append(Segment((x, y, w, h), text.strip(), max(0.0, float(conf)) / 100.0, "tesseract-page"))
        if not words:
            return MatchRecord()
        height = float(np.percentile([w.box[3] for w in words], 75))
        return analyse(group_rows(merge_words(words, height)), height).record()

    return read


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - started) * 1000


def timed_cpu(fn: Callable[[], object]) -> tuple[object, float, float]:
    """Value, wall ms and this thread's CPU ms (the CPU figure holds up when the machine is shared)."""
    started, cpu = time.perf_counter(), time.thread_time()
    value = fn()
    return value, (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000
