"""The gate every statement passes before it runs: one SELECT, known tables and columns, a row limit."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from services.seq2sql.schema import Schema

_FORBIDDEN = (exp.Insert, exp.Update, exp.Delete, exp.Drop, exp.Create, exp.Alter, exp.Command,
              exp.Merge, exp.Into, exp.TruncateTable, exp.Pragma, exp.Set, exp.Transaction, exp.Commit,
              exp.Rollback)
# People ask to change data in these words; the assistant only reads.
WRITE_WORDS = re.compile(
    r"(삭제|지워|취소해|지우|없애|제거|수정해|수정하|바꿔|바꾸|변경|업데이트|추가해|추가하|넣어|등록해|입력해|생성해|만들어|초기화|"
    r"\bdelete\b|\bupdate\b|\bdrop\b|\binsert\b|\btruncate\b|\balter\b|\bcreate\b|\bgrant\b)",
    re.IGNORECASE,
)


class UnsafeSQL(ValueError):
    """The statement is not a single bounded SELECT over known tables and columns."""


def check_select(sql: str, schema: Schema, dialect: str, max_rows: int) -> str:
    """Parse ``sql`` and return it when it is safe to run; raise :class:`UnsafeSQL` otherwise."""
    read = "sqlite" if dialect == "sqlite" else "postgres"
    try:
        statements = [s for s in sqlglot.parse(sql, read=read) if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise UnsafeSQL(f"not parseable: {str(exc)[:200]}") from exc
    if len(statements) != 1:
        raise UnsafeSQL("exactly one statement is allowed")
    tree = statements[0]
    if not isinstance(tree, exp.Select | exp.Union):
        raise UnsafeSQL("only SELECT statements are allowed")
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN):
            raise UnsafeSQL(f"{type(node).__name__} is not allowed")
    aliases = {a.alias for a in tree.find_all(exp.Alias)}
    tables = {}
    for table in tree.find_all(exp.Table):
        if table.name not in schema.tables:
            raise UnsafeSQL(f"unknown table {table.name!r}")
        tables[table.alias_or_name] = table.name
    known = {c for t in schema.tables.values() for c in t.columns}
    for column in tree.find_all(exp.Column):
        if column.name in aliases and not column.table:
            continue
        owner = tables.get(column.table) if column.table else None
        if column.table and owner is None:
            raise UnsafeSQL(f"unknown table reference {column.table!r}")
        if owner is not None and column.name not in schema.tables[owner].columns:
            raise UnsafeSQL(f"unknown column {owner}.{column.name}")
        if owner is None and column.name not in known:
            raise UnsafeSQL(f"unknown column {column.name!r}")
    limit = tree.args.get("limit")
    if limit is None:
        raise UnsafeSQL("a LIMIT is required")
    value = limit.expression if isinstance(limit, exp.Limit) else None
    if not isinstance(value, exp.Literal) or not value.is_int or int(value.this) > max_rows:
        raise UnsafeSQL(f"the LIMIT must be a number <= {max_rows}")
    return sql
