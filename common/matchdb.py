"""The match database: written by the OCR service, read by the text-to-SQL assistant.

SQLite under var/ by default; PostgreSQL (or any SQLAlchemy URL) through ``MALGEUL_DATABASE_URL``.
The schema (``common/sql/matches-schema.sql``) is portable SQL and is created when missing.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text

SCHEMA_FILE = Path(__file__).with_name("sql") / "matches-schema.sql"
TABLES = ("teams", "players", "matches", "match_players")


def schema_statements() -> list[str]:
    """The CREATE TABLE statements of the schema file, comments removed."""
    sql = re.sub(r"--[^\n]*", "", SCHEMA_FILE.read_text(encoding="utf-8"))
    return [s.strip() for s in sql.split(";") if s.strip()]


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and foreign keys on."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    return engine


def ensure_schema(engine: Engine) -> None:
    """Create the match tables that do not exist yet (existing ones are left as they are)."""
    existing = set(inspect(engine).get_table_names())
    if set(TABLES) <= existing:
        return
    with engine.begin() as conn:
        for statement in schema_statements():
            name = re.search(r"CREATE TABLE (\w+)", statement)
            if name and name.group(1) not in existing:
                conn.execute(text(statement))
