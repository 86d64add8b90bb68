"""A short Korean sentence that answers the question from the rows, with correct particles."""

from __future__ import annotations

from typing import Any

from services.seq2sql.korean import particle
from services.seq2sql.program import Program
from services.seq2sql.schema import Schema

_AGG_KO = {"sum": "합계", "avg": "평균", "max": "최댓값", "min": "최솟값", "count": "개수"}


def _fmt(value: Any) -> str:
    if value is None:
        return "없음"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _listing(rows: list[list[Any]], limit: int = 10) -> str:
    shown = ", ".join(" ".join(_fmt(v) for v in row) if len(row) > 1 else _fmt(row[0]) for row in rows[:limit])
    return shown + (f" 외 {len(rows) - limit}개" if len(rows) > limit else "")


def korean_answer(program: Program, schema: Schema, rows: list[list[Any]]) -> str:
    """One or two sentences in polite Korean; never invents anything the rows do not say."""
    sketch = program.sketch
    table = schema.tables.get(program.table or "")
    team = program.teams[0] if program.teams else ""
    first = rows[0][0] if rows and rows[0] else None
    if sketch in ("count",) and table:
        return f"{_fmt(first)}{table.counter}입니다."
    if sketch == "wins":
        return f"{particle(team, '은')} {_fmt(first)}번 이겼습니다."
    if sketch == "losses":
        return f"{particle(team, '은')} {_fmt(first)}번 졌습니다."
    if sketch == "games":
        return f"{particle(team, '은')} {_fmt(first)}경기를 치렀습니다."
    if sketch == "win_rate":
        return f"{particle(team, '의')} 승률은 {_fmt(first)}%입니다." if first is not None else f"{team}의 경기가 없습니다."
    if sketch == "agg" and program.column:
        column = program.column.split(".")[1]
        name = schema.column(program.column).ko if column != "*" else "개수"
        return f"{name} {_AGG_KO.get(program.agg, '')}: {_fmt(first)}입니다."
    if sketch == "h2h":
        if not rows:
            return f"{particle(program.teams[0], '과')} {program.teams[1]}의 승부가 난 맞대결이 없습니다."
        return "맞대결 승수: " + ", ".join(f"{r[0]} {_fmt(r[1])}승" for r in rows) + "입니다."
    if not rows:
        return "조건에 맞는 결과가 없습니다."
    if sketch in ("top", "group_top", "most_wins"):
        head = rows[0]
        rest = f" (상위 {len(rows)}개: {_listing(rows)})" if len(rows) > 1 else ""
        return f"1위는 {head[0]}({_fmt(head[1])})입니다.{rest}"
    if sketch == "lookup":
        return f"{particle(_listing(rows), '입니다')[:-3]}입니다."
    if sketch == "recent":
        return f"최근 {len(rows)}경기: " + "; ".join(
            f"{str(r[0])[:10]} {r[1]} {_fmt(r[3]) if len(r) > 3 else ''}:{_fmt(r[4]) if len(r) > 4 else ''} {r[2]}" for r in rows
        ) + "."
    counter = table.counter if table else "개"
    return f"{len(rows)}{counter}입니다: {_listing(rows)}."
