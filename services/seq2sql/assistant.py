"""Answering one question: link it to the live database, let the slot model rank sketches and slots,
fill the rest from the links, and keep the best candidate that compiles, passes the safety gate and runs
(execution-guided selection)."""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from services.seq2sql.answer import korean_answer
from services.seq2sql.linking import Linked, ValueIndex, link
from services.seq2sql.program import CONTEST_SKETCHES, REFUSE, CompileError, Program, compile_program
from services.seq2sql.readonly import QueryError, ReadOnlyDatabase
from services.seq2sql.safety import WRITE_WORDS, UnsafeSQL, check_select
from services.seq2sql.schema import Schema
from services.seq2sql.training import HEADS_OF, SlotParser

logger = logging.getLogger("malgeul.seq2sql.assistant")
ASC_WORDS = re.compile(r"(적은|낮은|적게|덜|꼴찌|최저|최소|하위|싼|저렴|작은|못한|못 한|약한)")
ORDERING = re.compile(r"(가장|제일|젤 |최다|최고|최저|1위|꼴찌|top|순위|랭킹|순으로)", re.IGNORECASE)
PER_EVENT = re.compile(r"(한 ?경기|한 ?번에|한 ?판|단일|한 ?건|한 ?주문|1회)")
DESC_WORDS = re.compile(r"(많은|많이|높은|최다|최고|1위|상위|비싼|큰|잘하는|강한)")
RANKING = re.compile(r"(순위|랭킹|순으로|순서|차례)")
AGGS_OF = {"agg": {"sum", "avg", "max", "min"}, "group_top": {"sum", "avg", "count"},
           "having": {"sum", "avg", "count"}, "group": {"sum", "avg", "max", "min", "count"}}
# Words that name an aggregate outright; they raise its probability (the model decides the rest).
AGG_WORDS = {"avg": re.compile(r"평균"), "sum": re.compile(r"(총|합계|합친|합치|누적|총합|합산)"),
             "max": re.compile(r"(최대|최고 기록|최댓값|최대값|최다 킬)"), "min": re.compile(r"(최소|최저|최솟값|최소값)")}
MUST_HAVE_ROWS = {"lookup", "top", "group_top", "agg", "h2h", "most_wins", "recent", "group"}


class CannotAnswer(Exception):
    """The question cannot be mapped to a safe query over this database; ``detail`` says what can be asked."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class Answer:
    sql: str
    columns: list[str]
    rows: list[list[Any]]
    answer: str
    confidence: float
    program: Program
    tried: list[str] = field(default_factory=list)


def _ranked(probs: dict[str, float], k: int, allowed: set[str] | None = None, boost: dict[str, float] | None = None) -> list[tuple[str, float]]:
    items = {c: p * (boost or {}).get(c, 1.0) for c, p in probs.items() if c != "none" and (allowed is None or c in allowed)}
    total = sum(items.values()) or 1.0
    return sorted(((c, p / total) for c, p in items.items()), key=lambda cp: -cp[1])[:k]


class Assistant:
    """Questions in Korean -> one safe SELECT over ``schema`` -> rows and a Korean answer."""

    def __init__(self, schema: Schema, db: ReadOnlyDatabase, parser: SlotParser, *, candidates: int = 10,
                 refuse_below: float = 0.5, default_year: int | None = None) -> None:
        self.schema = schema
        self.db = db
        self.parser = parser
        self.candidates = candidates
        self.refuse_below = refuse_below
        self.default_year = default_year

    def _what_can_be_asked(self) -> str:
        return self.schema.describe_ko()

    def ask(self, question: str, execute: bool = True, max_rows: int = 100) -> Answer:
        if WRITE_WORDS.search(question):
            raise CannotAnswer("이 도우미는 데이터를 읽기만 합니다: 추가·수정·삭제 요청은 처리하지 않습니다. "
                               + self._what_can_be_asked())
        with self.db.session() as session:
            index = ValueIndex.read(session, self.schema)
            linked = link(question, self.schema, index, self.default_year)
            probs = self.parser.predict(linked, self.schema)
            if probs["sketch"].get(REFUSE, 0.0) >= self.refuse_below:
                raise CannotAnswer("이 질문은 이 데이터베이스로 답할 수 없습니다. " + self._what_can_be_asked())
            fallback: Answer | None = None
            tried: list[str] = []
            for program, score in self._candidates(linked, probs):
                if len(tried) >= self.candidates:
                    break
                try:
                    sql = compile_program(program, self.schema, max_rows)
                    check_select(sql, self.schema, self.db.dialect, max_rows)
                except (CompileError, UnsafeSQL) as exc:
                    tried.append(f"{program.sketch}: {exc}")
                    continue
                if not execute:
                    return Answer(sql, [], [], "", round(score, 3), program, tried)
                try:
                    columns, rows = session.fetch(sql, max_rows)
                except QueryError as exc:
                    tried.append(f"{program.sketch}: {exc}")
                    continue
                answer = Answer(sql, columns, rows, korean_answer(program, self.schema, rows), round(score, 3),
                                program, tried)
                empty = not rows or all(v is None for row in rows for v in row)
                if empty and program.sketch in MUST_HAVE_ROWS:
                    fallback = fallback or answer
                    tried.append(f"{program.sketch}: no rows")
                    continue
                return answer
            if fallback is not None:
                return fallback
        raise CannotAnswer("질문을 SQL로 옮기지 못했습니다. 팀·선수 이름이나 조건을 더 분명히 써 주세요. "
                           + self._what_can_be_asked())

    def _candidates(self, linked: Linked, probs: dict[str, dict[str, float]]) -> list[tuple[Program, float]]:
        schema = self.schema
        entity = schema.contest_entity
        entity_display = f"{entity}.{schema.tables[entity].display}" if entity else None
        measures = {c.ref for c in schema.measures()}
        stars = {f"{t}.*" for t in schema.tables}
        mentioned = {ref: 3.0 for ref in linked.columns}
        agg_boost = {agg: 3.0 for agg, pattern in AGG_WORDS.items() if pattern.search(linked.text)}
        agg_boost.setdefault("avg", 0.3)  # an average is said ('평균'), rarely implied
        op_numbers = [n for n in linked.numbers if n.op]
        plain_numbers = [n for n in linked.numbers if not n.op]
        teams = list(dict.fromkeys(v.value for v in linked.values if v.column == entity_display))
        out: list[tuple[Program, float]] = []
        for sketch, p_sketch in _ranked(probs["sketch"], 4, allowed=set(probs["sketch"]) - {REFUSE}):
            heads = HEADS_OF.get(sketch, ())
            tables = _ranked(probs["table"], 3) if "table" in heads else [(None, 1.0)]
            if "column" in heads:
                allowed = measures | stars if sketch in ("group_top", "having", "never", "group") else measures
                if sketch == "lookup":
                    allowed = {c.ref for c in schema.all_columns() if c.kind != "key"} | {
                        f"{t.name}.{t.display}" for t in schema.tables.values()}
                if sketch == "never":
                    allowed = stars
                columns = _ranked(probs["column"], 3, allowed, mentioned)
            else:
                columns = [(None, 1.0)]
            aggs = _ranked(probs["agg"], 3, AGGS_OF.get(sketch), agg_boost) if "agg" in heads else [("none", 1.0)]
            groups = _ranked(probs["group"], 2) if "group" in heads else [(None, 1.0)]
            for (table, pt), (column, pc), (agg, pa), (group, pg) in itertools.product(tables, columns, aggs, groups):
                if group and column and self._pointless_group(group, column):
                    continue
                if column and sketch in ("group_top", "having") and (column.endswith(".*")) != (agg == "count"):
                    continue  # rows are counted; measures are summed or averaged
                program = Program(sketch=sketch, table=table, column=column, agg=agg, group=group)
                if sketch in CONTEST_SKETCHES:
                    program.teams = teams
                    program.filters = [(v.column, "=", v.value) for v in linked.values if v.column != entity_display]
                else:
                    program.filters = [(v.column, "=", v.value) for v in linked.values]
                program.date_range = linked.date_range
                self._numbers(program, linked, probs, op_numbers, plain_numbers, measures)
                score = p_sketch * pt * pc * pa * pg
                # coverage: a program that ignores a measure the question names is unlikely to be meant
                if any(ref in measures for ref in linked.columns) and not ("column" in heads or program.having):
                    score *= 0.3
                if teams and sketch in ("most_wins", "never_won"):
                    score *= 0.5
                ordering = ORDERING.search(linked.text)
                if ordering and (sketch in ("list", "count", "group", "having", "lookup")
                                 or sketch == "agg" and agg in ("sum", "avg")):
                    score *= 0.3  # '가장/제일' asks for an ordering the program would not express
                if any(agg_boost.get(a, 1.0) > 1 for a in ("sum", "avg")) and sketch == "top":
                    score *= 0.3  # '총/평균' asks for an aggregate the per-row ranking would not compute
                if sketch == "agg" and (agg == "min" and DESC_WORDS.search(linked.text)
                                        and not ASC_WORDS.search(linked.text)
                                        or agg == "max" and ASC_WORDS.search(linked.text)):
                    score *= 0.2  # '제일 많은' is not a minimum
                if (sketch == "top" and column and table and column.split(".")[0] != table
                        and not PER_EVENT.search(linked.text)):
                    score *= 0.3  # ranking single records needs '한 경기/한 번에'; otherwise totals are meant
                out.append((program, score))
        out.sort(key=lambda ps: -ps[1])
        return out[: self.candidates * 3]

    def _pointless_group(self, group: str, column: str) -> bool:
        """Grouping rows by their own name (상품 평균 가격 by 상품명) is not a grouping anyone asks for."""
        g_table, g_col = group.split(".", 1)
        return g_table == column.split(".", 1)[0] and g_col == self.schema.tables[g_table].display

    def _numbers(self, program: Program, linked: Linked, probs: dict[str, dict[str, float]], op_numbers: list,
                 plain_numbers: list, measures: set[str]) -> None:
        sketch = program.sketch
        if op_numbers and sketch in ("having", "list", "count"):
            program.having = (op_numbers[0].op, op_numbers[0].value)
            if sketch in ("list", "count"):
                before = [(pos, ref) for ref, pos in linked.columns.items() if ref in measures and pos < op_numbers[0].start]
                by_unit = [c.ref for c in self.schema.measures() if c.unit and c.unit == op_numbers[0].unit]
                if len(by_unit) == 1 and not before:
                    program.column = by_unit[0]  # '5만원 미만' compares the column measured in 원
                elif before:
                    program.column = max(before)[1]
                else:
                    ranked = _ranked(probs["column"], 1, measures)
                    program.column = ranked[0][0] if ranked else None
        if sketch in ("top", "group_top", "most_wins", "recent"):
            limit_numbers = [n for n in plain_numbers if n.counter] or plain_numbers
            if limit_numbers:
                program.limit = max(1, int(limit_numbers[0].value))
            elif RANKING.search(linked.text):
                program.limit = 10
            direction = linked.directions.get(program.column or "")
            if direction:
                program.order = direction
            elif ASC_WORDS.search(linked.text):
                program.order = "asc"
            elif DESC_WORDS.search(linked.text):
                program.order = "desc"
            elif sketch in ("top", "group_top", "most_wins"):
                program.order = "desc" if probs["order"].get("desc", 0.5) >= 0.5 else "asc"
