"""Execution accuracy on the hand-written dev sets: a prediction is right when its rows equal the gold
rows (order ignored, numbers rounded to 2 places); extra columns are allowed when the gold columns are
all present (e.g. the name and the value where gold asked only for the name)."""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.settings import DATA_DIR
from services.seq2sql.assistant import Assistant, CannotAnswer
from services.seq2sql.readonly import ReadOnlyDatabase

DEV_DIR = DATA_DIR / "seq2sql"
SHOP_SQL = DEV_DIR / "shop" / "shop.sql"
SHOP_ANNOTATIONS = DEV_DIR / "shop" / "annotations.json"
REFUSE = "REFUSE"


@dataclass
class DevItem:
    category: str
    question: str
    sql: str


@dataclass
class Outcome:
    item: DevItem
    correct: bool
    refused: bool
    ms: float
    predicted: str


def load_dev(name: str) -> list[DevItem]:
    """`matches` or `shop`: data/seq2sql/dev-<name>.txt, lines `category || question || sql`."""
    items = []
    for line in (DEV_DIR / f"dev-{name}.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, question, sql = (part.strip() for part in line.split(" || ", 2))
        items.append(DevItem(category, question, sql))
    return items


def create_shop_sqlite(path: Path) -> Path:
    """The demo shop as a SQLite file (tests and eval register it through the API)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    conn.executescript(SHOP_SQL.read_text(encoding="utf-8"))
    conn.commit()
    conn.close()
    return path


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return round(float(value), 2)
    return "" if value is None else str(value)


def same_result(gold: list[list[Any]], pred: list[list[Any]]) -> bool:
    """Rows equal as multisets, allowing extra predicted columns."""
    gold_rows = [tuple(_norm(v) for v in row) for row in gold]
    pred_rows = [tuple(_norm(v) for v in row) for row in pred]
    if Counter(gold_rows) == Counter(pred_rows):
        return True
    if len(gold_rows) != len(pred_rows) or not gold_rows:
        return False
    width = len(gold_rows[0])
    pred_cols = list(zip(*pred_rows, strict=True)) if pred_rows else []
    chosen = []
    for j in range(width):
        gold_col = sorted(map(str, (r[j] for r in gold_rows)))
        match = [k for k, col in enumerate(pred_cols) if sorted(map(str, col)) == gold_col and k not in chosen]
        if not match:
            return False
        chosen.append(match[0])
    projected = [tuple(row[k] for k in chosen) for row in pred_rows]
    return Counter(projected) == Counter(gold_rows)


def evaluate(assistant: Assistant, items: list[DevItem], gold_db: ReadOnlyDatabase) -> list[Outcome]:
    outcomes = []
    with gold_db.session() as session:
        for item in items:
            started = time.perf_counter()
            try:
                answer = assistant.ask(item.question, max_rows=1000)
                refused, rows, predicted = False, answer.rows, answer.sql
            except CannotAnswer as exc:
                refused, rows, predicted = True, [], f"422 {exc.detail[:60]}"
            ms = (time.perf_counter() - started) * 1000
            if item.sql == REFUSE:
                correct = refused
            elif refused:
                correct = False
            else:
                _, gold_rows = session.fetch(item.sql, 10_000)
                correct = same_result(gold_rows, rows)
            outcomes.append(Outcome(item, correct, refused, ms, predicted))
    return outcomes


def report(name: str, outcomes: list[Outcome], train_seconds: float | None) -> list[str]:
    """The lines `malgeul eval sql` prints."""
    by_cat: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        by_cat[o.item.category].append(o.correct)
    answerable = [o for o in outcomes if o.item.sql != REFUSE]
    accuracy = sum(o.correct for o in outcomes) / len(outcomes)
    refused = sum(o.refused for o in answerable) / max(1, len(answerable))
    p50 = statistics.median(o.ms for o in outcomes)
    lines = [f"[{name}] execution accuracy {accuracy:.3f} ({sum(o.correct for o in outcomes)}/{len(outcomes)}); "
             f"422 rate on answerable questions {refused:.3f}; p50 latency {p50:.0f} ms; "
             f"training time {train_seconds if train_seconds is not None else 'n/a'} s"]
    lines += [f"[{name}]   {cat:<10} {sum(v) / len(v):.3f} ({sum(v)}/{len(v)})" for cat, v in sorted(by_cat.items())]
    return lines
