"""A database schema as the assistant sees it: tables, columns, keys, and their Korean annotations.

The schema is read from the live database (SQLAlchemy inspection); annotations add Korean names and
synonyms (see docs/seq2sql.md for the format). Columns without annotations are still usable by name.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, inspect

Kind = Literal["number", "text", "date", "key"]


class ColumnNotes(BaseModel):
    """Korean names of a column, value synonyms, and words meaning 'high'/'low' for numbers."""

    names: list[str] = Field(default_factory=list)
    values: dict[str, list[str]] = Field(default_factory=dict, description="stored value -> words people use")
    high: list[str] = Field(default_factory=list, description="adjectives meaning 'more of it' (비싼)")
    low: list[str] = Field(default_factory=list, description="adjectives meaning 'less of it' (싼)")
    unit: str = ""
    link_values: bool | None = None
    measure: bool | None = None


class TableNotes(BaseModel):
    """Korean names of a table (the first is used in answers), its display column and its columns."""

    names: list[str] = Field(default_factory=list)
    display: str | None = None
    counter: str = "개"
    columns: dict[str, ColumnNotes] = Field(default_factory=dict)


class ContestNotes(BaseModel):
    """A table of contests between two sides with a winner (matches): enables wins, losses, head-to-head."""

    table: str
    sides: tuple[str, str]
    winner: str
    scores: tuple[str, str] | None = None
    date: str | None = None
    names: list[str] = Field(default_factory=list)


class Annotations(BaseModel):
    """The annotations body of `POST /v1/sql/databases`."""

    tables: dict[str, TableNotes] = Field(default_factory=dict)
    contest: ContestNotes | None = None
    hidden: list[str] = Field(default_factory=list, description="tables the assistant must not read")


@dataclass
class Column:
    table: str
    name: str
    kind: Kind
    names: list[str]
    pk: bool = False
    fk: tuple[str, str] | None = None
    values: dict[str, list[str]] = field(default_factory=dict)
    high: list[str] = field(default_factory=list)
    low: list[str] = field(default_factory=list)
    unit: str = ""
    link_values: bool = False
    measure: bool = False

    @property
    def ref(self) -> str:
        return f"{self.table}.{self.name}"

    @property
    def ko(self) -> str:
        return self.names[0]


@dataclass
class Table:
    name: str
    names: list[str]
    display: str
    counter: str
    columns: dict[str, Column]
    pk: list[str]

    @property
    def ko(self) -> str:
        return self.names[0]


_NUMERIC = ("INT", "REAL", "FLOAT", "DOUBLE", "NUMERIC", "DECIMAL")
_DATES = ("DATE", "TIME")


def _kind(type_name: str) -> Kind:
    upper = type_name.upper()
    if any(t in upper for t in _DATES):
        return "date"
    if any(t in upper for t in _NUMERIC):
        return "number"
    return "text"


class Schema:
    """Tables and foreign keys of one database, with Korean names; finds join paths along foreign keys."""

    def __init__(self, tables: dict[str, Table], contest: ContestNotes | None) -> None:
        self.tables = tables
        self.contest = contest
        self.edges: dict[str, list[tuple[str, str, str, str]]] = {t: [] for t in tables}
        for table in tables.values():
            for column in table.columns.values():
                if column.fk and column.fk[0] in tables:
                    if contest and table.name == contest.table and column.fk[0] == self.contest_entity:
                        continue  # three keys to teams: contest sketches say which one is meant
                    parent, parent_col = column.fk
                    self.edges[table.name].append((table.name, column.name, parent, parent_col))
                    self.edges[parent].append((parent, parent_col, table.name, column.name))

    @property
    def contest_entity(self) -> str | None:
        if not self.contest:
            return None
        table = self.tables.get(self.contest.table)
        column = table.columns.get(self.contest.winner) if table else None
        return column.fk[0] if column and column.fk else None

    def column(self, ref: str) -> Column:
        table, name = ref.split(".", 1)
        return self.tables[table].columns[name]

    def all_columns(self) -> list[Column]:
        return [c for t in self.tables.values() for c in t.columns.values()]

    def measures(self) -> list[Column]:
        return [c for c in self.all_columns() if c.measure]

    def join_path(self, start: str, goal: str) -> list[tuple[str, str, str, str]] | None:
        """The shortest chain of foreign-key joins from ``start`` to ``goal`` (empty when equal)."""
        if start == goal:
            return []
        seen = {start}
        queue: deque[tuple[str, list[tuple[str, str, str, str]]]] = deque([(start, [])])
        while queue:
            node, path = queue.popleft()
            for edge in self.edges.get(node, []):
                nxt = edge[2]
                if nxt in seen:
                    continue
                if nxt == goal:
                    return path + [edge]
                seen.add(nxt)
                queue.append((nxt, path + [edge]))
        return None

    def children(self, table: str) -> list[tuple[str, str]]:
        """(child table, its key column) pairs of tables that point at ``table``."""
        out = []
        for other in self.tables.values():
            for column in other.columns.values():
                if column.fk and column.fk[0] == table and other.name != table:
                    out.append((other.name, column.name))
        return out

    def fingerprint(self) -> str:
        """A hash of everything a trained model depends on (names, kinds, keys, annotations)."""
        payload = {
            t.name: [t.names, t.display, [(c.name, c.kind, c.names, c.fk, sorted(c.values), c.high, c.low,
                                           c.link_values, c.measure) for c in t.columns.values()]]
            for t in sorted(self.tables.values(), key=lambda t: t.name)
        }
        payload["__contest__"] = self.contest.model_dump() if self.contest else None  # type: ignore[assignment]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]

    def describe_ko(self) -> str:
        """A sentence listing what can be asked, for 422 answers."""
        parts = []
        for table in self.tables.values():
            cols = [c.ko for c in table.columns.values() if c.kind != "key"]
            parts.append(f"{table.ko}({', '.join(cols[:6])})")
        return "물어볼 수 있는 것: " + "; ".join(parts)


def read_schema(engine: Engine, annotations: Annotations | dict[str, Any] | None) -> Schema:
    """Inspect the live database and merge the annotations into a :class:`Schema`."""
    notes = annotations if isinstance(annotations, Annotations) else Annotations.model_validate(annotations or {})
    inspector = inspect(engine)
    tables: dict[str, Table] = {}
    for name in sorted(inspector.get_table_names()):  # one order on every backend: features and labels depend on it
        if name in notes.hidden or name.startswith(("sqlite_", "_")):
            continue
        tnotes = notes.tables.get(name, TableNotes())
        pk = list(inspector.get_pk_constraint(name).get("constrained_columns") or [])
        fks = {}
        for fk in inspector.get_foreign_keys(name):
            for local, remote in zip(fk["constrained_columns"], fk["referred_columns"], strict=False):
                fks[local] = (fk["referred_table"], remote)
        columns: dict[str, Column] = {}
        for info in inspector.get_columns(name):
            cname = info["name"]
            cnotes = tnotes.columns.get(cname, ColumnNotes())
            kind: Kind = "key" if (cname in fks or (cname in pk and _kind(str(info["type"])) == "number")) \
                else _kind(str(info["type"]))
            column = Column(
                table=name, name=cname, kind=kind, names=cnotes.names or [cname], pk=cname in pk,
                fk=fks.get(cname), values=cnotes.values, high=cnotes.high, low=cnotes.low, unit=cnotes.unit,
            )
            column.link_values = cnotes.link_values if cnotes.link_values is not None else kind == "text"
            column.measure = cnotes.measure if cnotes.measure is not None else kind == "number"
            columns[cname] = column
        display = tnotes.display or next(
            (c for c in columns if c in ("name", "nickname", "title")),
            next((c.name for c in columns.values() if c.kind == "text"), pk[0] if pk else next(iter(columns))),
        )
        tables[name] = Table(name=name, names=tnotes.names or [name], display=display, counter=tnotes.counter,
                             columns=columns, pk=pk)
    contest = notes.contest if notes.contest and notes.contest.table in tables else None
    return Schema(tables, contest)
