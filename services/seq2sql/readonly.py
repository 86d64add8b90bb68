"""Read-only access to a registered database: SQLite opened with ``mode=ro``, PostgreSQL in read-only
transactions, both with a statement timeout. Nothing the assistant runs can change data."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine

logger = logging.getLogger("malgeul.seq2sql.readonly")


class QueryError(RuntimeError):
    """A statement failed (syntax, timeout, missing object); the data is untouched."""


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL or a bare path (``~`` expanded); None for other databases."""
    if url.startswith("sqlite:///"):
        return _expand_home(Path(url[len("sqlite:///"):]))
    if "://" not in url:
        return _expand_home(Path(url))
    return None


def _expand_home(path: Path) -> Path:
    try:
        return path.expanduser()
    except RuntimeError:  # "~name" of a user that does not exist: a path like any other (and no file)
        return path


def dialect_of(url: str) -> str:
    return "sqlite" if sqlite_path(url) is not None else "postgres"


def _pg_conninfo(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql://" + url[len(prefix):]
    return url


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return value


class Session:
    """One read-only connection used for the few statements of one question."""

    def __init__(self, conn: Any, dialect: str, timeout_s: float) -> None:
        self._conn = conn
        self.dialect = dialect
        self._timeout_s = timeout_s

    def fetch(self, sql: str, max_rows: int = 10_000) -> tuple[list[str], list[list[Any]]]:
        """Run one SELECT; returns column names and at most ``max_rows`` rows."""
        deadline = time.monotonic() + self._timeout_s
        try:
            if self.dialect == "sqlite":
                self._conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
                cursor = self._conn.execute(sql)
            else:
                cursor = self._conn.cursor()
                cursor.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            rows = [[_plain(v) for v in row] for row in cursor.fetchmany(max_rows)]
            return columns, rows
        except Exception as exc:  # any driver error means "this candidate does not run"
            if self.dialect == "postgres":
                self._conn.rollback()
                self._begin()
            raise QueryError(str(exc).splitlines()[0][:300]) from exc

    def _begin(self) -> None:
        cursor = self._conn.cursor()
        cursor.execute("BEGIN")
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute(f"SET LOCAL statement_timeout = {int(self._timeout_s * 1000)}")


class ReadOnlyDatabase:
    """A database URL opened only for reading."""

    def __init__(self, url: str, timeout_s: float = 3.0) -> None:
        self.url = url
        self.dialect = dialect_of(url)
        self.timeout_s = timeout_s
        path = sqlite_path(url)
        self.path = path.resolve() if path is not None else None

    def _sqlite_uri(self) -> str:
        return f"file:{quote(str(self.path))}?mode=ro"

    @contextmanager
    def session(self) -> Iterator[Session]:
        if self.dialect == "sqlite":
            if self.path is None or not self.path.exists():
                raise QueryError(f"no SQLite database at {self.path}")
            conn = sqlite3.connect(self._sqlite_uri(), uri=True, timeout=self.timeout_s, check_same_thread=False)
            conn.execute("PRAGMA query_only = ON")
            try:
                yield Session(conn, "sqlite", self.timeout_s)
            finally:
                conn.close()
        else:
            import psycopg

            options = f"-c default_transaction_read_only=on -c statement_timeout={int(self.timeout_s * 1000)}"
            try:
                conn = psycopg.connect(_pg_conninfo(self.url), options=options, connect_timeout=5, autocommit=True)
            except Exception as exc:
                raise QueryError(f"cannot connect: {str(exc).splitlines()[0][:200]}") from exc
            session = Session(conn, "postgres", self.timeout_s)
            try:
                session._begin()
                yield session
            finally:
                try:
                    conn.execute("ROLLBACK")
                finally:
                    conn.close()

    def inspection_engine(self) -> Engine:
        """A SQLAlchemy engine for reading the schema, read-only as well."""
        if self.dialect == "sqlite":
            uri = self._sqlite_uri()
            return create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
        url = _pg_conninfo(self.url).replace("postgresql://", "postgresql+psycopg://", 1)
        return create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})
