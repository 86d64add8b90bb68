"""The intermediate program (a SQL sketch with filled slots) and its compilation to SQL along foreign keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.seq2sql.schema import Schema

# Sketches that work on any schema, then those enabled by a contest annotation (matches with a winner).
GENERIC_SKETCHES = ["list", "count", "lookup", "agg", "top", "group_top", "group", "having", "never"]
CONTEST_SKETCHES = ["wins", "losses", "games", "win_rate", "h2h", "most_wins", "never_won", "recent"]
REFUSE = "unknown"
AGGS = ["none", "count", "sum", "avg", "max", "min"]
ORDERS = ["desc", "asc"]


class CompileError(ValueError):
    """The slots do not make a query on this schema (e.g. no join path); the candidate is dropped."""


@dataclass
class Program:
    """A sketch and its slots; the model predicts sketch/table/column/agg/group/order, linking the rest."""

    sketch: str
    table: str | None = None
    column: str | None = None  # "table.column", or "table.*" for counting rows of a table
    agg: str = "none"
    group: str | None = None
    order: str = "desc"
    limit: int | None = None
    filters: list[tuple[str, str, Any]] = field(default_factory=list)
    having: tuple[str, float] | None = None
    date_range: tuple[str | None, str | None] | None = None
    teams: list[str] = field(default_factory=list)


def literal(value: Any) -> str:
    """A SQL literal; strings have their quotes doubled so text inside names is never code."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(int(value)) if float(value).is_integer() else repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


class _From:
    """FROM clause built from a base table, adding joins along foreign keys as tables are needed."""

    def __init__(self, schema: Schema, base: str) -> None:
        self.schema = schema
        self.base = base
        self.joined = {base}
        self.joins: list[str] = []

    def need(self, table: str) -> None:
        if table in self.joined:
            return
        path = self.schema.join_path(self.base, table)
        if path is None:
            raise CompileError(f"no join path from {self.base} to {table}")
        for left, lcol, right, rcol in path:
            if right in self.joined:
                continue
            self.joins.append(f"JOIN {right} ON {left}.{lcol} = {right}.{rcol}")
            self.joined.add(right)

    def sql(self) -> str:
        return " ".join([f"FROM {self.base}", *self.joins])


def _entity_ids(schema: Schema, names: list[str]) -> str:
    entity = schema.tables[schema.contest_entity]  # type: ignore[index]
    values = ", ".join(literal(n) for n in names)
    return f"(SELECT {entity.pk[0]} FROM {entity.name} WHERE {entity.display} IN ({values}))"


def _conditions(schema: Schema, frm: _From, program: Program, skip_entity: bool = False) -> list[str]:
    out: list[str] = []
    by_column: dict[tuple[str, str], list[Any]] = {}
    for ref, op, value in program.filters:
        by_column.setdefault((ref, op), []).append(value)
    contest = schema.contest
    entity = schema.contest_entity
    for (ref, op), values in by_column.items():
        table, column = ref.split(".", 1)
        if contest and table == entity and frm.base == contest.table:
            if skip_entity:
                continue
            ids = _entity_ids(schema, values)
            a, b = contest.sides
            out.append(f"({contest.table}.{a} IN {ids} OR {contest.table}.{b} IN {ids})")
            continue
        frm.need(table)
        if op == "=" and len(values) > 1:
            out.append(f"{ref} IN ({', '.join(literal(v) for v in values)})")
        else:
            out.extend(f"{ref} {op} {literal(v)}" for v in values)
    if program.date_range:
        date_col = _date_column(schema, frm)
        start, end = program.date_range
        if start:
            out.append(f"{date_col} >= {literal(start)}")
        if end:
            out.append(f"{date_col} < {literal(end)}")
    return out


def _date_column(schema: Schema, frm: _From) -> str:
    if schema.contest and schema.contest.date:
        preferred = [(schema.contest.table, schema.contest.date)]
    else:
        preferred = []
    candidates = preferred + [(t.name, c.name) for t in schema.tables.values() for c in t.columns.values()
                              if c.kind == "date"]
    for table, column in sorted(candidates, key=lambda tc: (tc[0] not in frm.joined,
                                                           len(schema.join_path(frm.base, tc[0]) or [1] * 9))):
        if schema.join_path(frm.base, table) is not None:
            frm.need(table)
            return f"{table}.{column}"
    raise CompileError("no date column reachable")


def _where(conds: list[str]) -> str:
    return f" WHERE {' AND '.join(conds)}" if conds else ""


def _agg_expr(agg: str, column: str | None) -> str:
    if agg == "count" or column is None or column.endswith(".*"):
        return "COUNT(*)"
    if agg == "none":
        raise CompileError("an aggregate is needed")
    return f"{agg.upper()}({column})"


def _measure(schema: Schema, program: Program) -> tuple[str, str | None]:
    """(base table, column ref or None for row counts) of the measured column."""
    if not program.column:
        raise CompileError("no column")
    table, name = program.column.split(".", 1)
    if name == "*":
        return table, None
    if schema.column(program.column).kind not in ("number", "date") and program.agg in ("sum", "avg"):
        raise CompileError("sum/avg of a non-number")
    return table, program.column


def compile_program(program: Program, schema: Schema, max_rows: int) -> str:
    """SQL for ``program`` on ``schema`` (portable between SQLite and PostgreSQL), with a LIMIT."""
    sketch = program.sketch
    if sketch in CONTEST_SKETCHES:
        return _compile_contest(program, schema, max_rows)
    if sketch == "agg":
        base, column = _measure(schema, program)
        frm = _From(schema, base)
        conds = _conditions(schema, frm, program)
        return f"SELECT {_agg_expr(program.agg, column)} {frm.sql()}{_where(conds)} LIMIT 1"
    if sketch == "group":
        if not program.group:
            raise CompileError("group needs a column")
        base, column = _measure(schema, program)
        frm = _From(schema, base)
        frm.need(program.group.split(".")[0])
        conds = _conditions(schema, frm, program)
        agg = _agg_expr(program.agg if program.agg != "none" else "count", column)
        return f"SELECT {program.group}, {agg} {frm.sql()}{_where(conds)} GROUP BY {program.group} LIMIT {max_rows}"
    if not program.table or program.table not in schema.tables:
        raise CompileError("no table")
    table = schema.tables[program.table]
    display = f"{table.name}.{table.display}"
    if sketch == "list":
        frm = _From(schema, table.name)
        conds = _conditions(schema, frm, program)
        extra = ""
        if program.having and program.column and not program.column.endswith(".*"):
            frm.need(program.column.split(".")[0])
            conds.append(f"{program.column} {program.having[0]} {literal(program.having[1])}")
            extra = f", {program.column}"
        return f"SELECT DISTINCT {display}{extra} {frm.sql()}{_where(conds)} LIMIT {max_rows}"
    if sketch == "count":
        frm = _From(schema, table.name)
        conds = _conditions(schema, frm, program)
        if program.having and program.column and not program.column.endswith(".*"):
            frm.need(program.column.split(".")[0])
            conds.append(f"{program.column} {program.having[0]} {literal(program.having[1])}")
        counted = f"COUNT(DISTINCT {table.name}.{table.pk[0]})" if len(table.pk) == 1 else "COUNT(*)"
        return f"SELECT {counted} {frm.sql()}{_where(conds)} LIMIT 1"
    if sketch == "lookup":
        if not program.column or program.column.endswith(".*"):
            raise CompileError("lookup needs a column")
        if not program.filters:
            raise CompileError("lookup needs a value")
        frm = _From(schema, table.name)
        frm.need(program.column.split(".")[0])
        conds = _conditions(schema, frm, program)
        return f"SELECT DISTINCT {program.column} {frm.sql()}{_where(conds)} LIMIT {max_rows}"
    if sketch == "top":
        base, column = _measure(schema, program)
        if column is None:
            raise CompileError("top needs a column")
        frm = _From(schema, base)
        frm.need(table.name)
        conds = _conditions(schema, frm, program) + [f"{column} IS NOT NULL"]
        direction = "DESC" if program.order == "desc" else "ASC"
        return (f"SELECT {display}, {column} {frm.sql()}{_where(conds)} ORDER BY {column} {direction} "
                f"LIMIT {min(program.limit or 1, max_rows)}")
    if sketch in ("group_top", "having"):
        base, column = _measure(schema, program)
        frm = _From(schema, base)
        frm.need(table.name)
        conds = _conditions(schema, frm, program)
        agg = _agg_expr(program.agg if program.agg != "none" else "sum", column)
        keys = ", ".join([f"{table.name}.{k}" for k in table.pk] + [display])
        if sketch == "having":
            if not program.having:
                raise CompileError("having needs a number")
            op, number = program.having
            return (f"SELECT {display}, {agg} {frm.sql()}{_where(conds)} GROUP BY {keys} "
                    f"HAVING {agg} {op} {literal(number)} LIMIT {max_rows}")
        direction = "DESC" if program.order == "desc" else "ASC"
        return (f"SELECT {display}, {agg} AS value {frm.sql()}{_where(conds)} GROUP BY {keys} "
                f"ORDER BY value {direction} LIMIT {min(program.limit or 1, max_rows)}")
    if sketch == "never":
        fact = (program.column or "").split(".")[0]
        links = [c for child, c in schema.children(table.name) if child == fact]
        if not links:
            raise CompileError("never needs a table that points at the subject")
        sub = _From(schema, fact)
        conds = _conditions(schema, sub, program) + [f"{fact}.{links[0]} IS NOT NULL"]
        return (f"SELECT {display} FROM {table.name} WHERE {table.name}.{table.pk[0]} NOT IN "
                f"(SELECT {fact}.{links[0]} {sub.sql()}{_where(conds)}) LIMIT {max_rows}")
    raise CompileError(f"unknown sketch {sketch}")


def _compile_contest(program: Program, schema: Schema, max_rows: int) -> str:
    contest = schema.contest
    if contest is None:
        raise CompileError("this database has no contests")
    entity = schema.tables[schema.contest_entity]  # type: ignore[index]
    c, (a, b), w = contest.table, contest.sides, contest.winner
    for ref, _, _ in program.filters:
        if ref.split(".", 1)[0] not in (c, entity.name):
            raise CompileError(f"a contest question cannot be filtered by {ref}")
    frm = _From(schema, c)
    conds = _conditions(schema, frm, program, skip_entity=True)
    teams = program.teams
    sketch = program.sketch
    if sketch in ("wins", "losses", "games", "win_rate", "recent"):
        if not teams:
            raise CompileError(f"{sketch} needs a team")
        ids = _entity_ids(schema, teams[:1])
        if len(teams) > 1:
            opp = _entity_ids(schema, teams[1:])
            conds.append(f"({c}.{a} IN {opp} OR {c}.{b} IN {opp})")
        side = f"({c}.{a} IN {ids} OR {c}.{b} IN {ids})"
        if sketch == "wins":
            return f"SELECT COUNT(*) {frm.sql()}{_where([f'{c}.{w} IN {ids}', *conds])} LIMIT 1"
        if sketch == "losses":
            cond = [side, f"{c}.{w} IS NOT NULL", f"{c}.{w} NOT IN {ids}", *conds]
            return f"SELECT COUNT(*) {frm.sql()}{_where(cond)} LIMIT 1"
        if sketch == "games":
            return f"SELECT COUNT(*) {frm.sql()}{_where([side, *conds])} LIMIT 1"
        if sketch == "win_rate":
            rate = f"ROUND(100.0 * SUM(CASE WHEN {c}.{w} IN {ids} THEN 1 ELSE 0 END) / COUNT(*), 1)"
            return f"SELECT {rate} {frm.sql()}{_where([side, *conds])} LIMIT 1"
        date = f"{c}.{contest.date}" if contest.date else f"{c}.{a}"
        scores = f", {c}.{contest.scores[0]}, {c}.{contest.scores[1]}" if contest.scores else ""
        frm.joins += [f"JOIN {entity.name} ta ON ta.{entity.pk[0]} = {c}.{a}",
                      f"JOIN {entity.name} tb ON tb.{entity.pk[0]} = {c}.{b}"]
        return (f"SELECT {date}, ta.{entity.display}, tb.{entity.display}{scores} {frm.sql()}"
                f"{_where([side, *conds])} ORDER BY {date} DESC LIMIT {min(program.limit or 5, max_rows)}")
    if sketch == "h2h":
        if len(teams) < 2:
            raise CompileError("head-to-head needs two teams")
        x, y = _entity_ids(schema, teams[:1]), _entity_ids(schema, teams[1:2])
        conds.append(f"(({c}.{a} IN {x} AND {c}.{b} IN {y}) OR ({c}.{a} IN {y} AND {c}.{b} IN {x}))")
        frm.joins.append(f"JOIN {entity.name} ON {entity.name}.{entity.pk[0]} = {c}.{w}")
        return (f"SELECT {entity.name}.{entity.display}, COUNT(*) AS wins {frm.sql()}{_where(conds)} "
                f"GROUP BY {entity.name}.{entity.display} LIMIT {max_rows}")
    if sketch == "most_wins":
        frm.joins.append(f"JOIN {entity.name} ON {entity.name}.{entity.pk[0]} = {c}.{w}")
        direction = "DESC" if program.order == "desc" else "ASC"
        return (f"SELECT {entity.name}.{entity.display}, COUNT(*) AS wins {frm.sql()}{_where(conds)} "
                f"GROUP BY {entity.name}.{entity.display} ORDER BY wins {direction} "
                f"LIMIT {min(program.limit or 1, max_rows)}")
    if sketch == "never_won":
        conds.append(f"{c}.{w} IS NOT NULL")
        return (f"SELECT {entity.display} FROM {entity.name} WHERE {entity.pk[0]} NOT IN "
                f"(SELECT {c}.{w} {frm.sql()}{_where(conds)}) LIMIT {max_rows}")
    raise CompileError(f"unknown sketch {sketch}")
