"""The safety gate and the read-only connection: nothing the assistant runs can change data."""

from __future__ import annotations

import json

import pytest

from services.seq2sql.config import Seq2SqlSettings
from services.seq2sql.readonly import QueryError, ReadOnlyDatabase, sqlite_path
from services.seq2sql.safety import WRITE_WORDS, UnsafeSQL, check_select
from services.seq2sql.schema import read_schema
from tests.seq2sql.conftest import file_digest, postgres_digest


@pytest.fixture(scope="module")
def schema(sqlite_matches: str):
    engine = ReadOnlyDatabase(sqlite_matches).inspection_engine()
    notes = json.loads(Seq2SqlSettings().annotations_file.read_text(encoding="utf-8"))
    yield read_schema(engine, notes)
    engine.dispose()


@pytest.mark.parametrize(
    "sql",
    ["DELETE FROM teams", "UPDATE teams SET name = 'x' LIMIT 1", "DROP TABLE teams",
     "SELECT name FROM teams LIMIT 5; DROP TABLE teams", "SELECT name FROM teams",
     "SELECT name FROM teams LIMIT 100000", "SELECT secret FROM teams LIMIT 5", "SELECT * FROM sqlite_master LIMIT 5",
     "INSERT INTO teams (name) VALUES ('x')", "SELECT name FROM teams LIMIT 5 -- ok\n; DELETE FROM teams",
     "PRAGMA writable_schema = 1", "ATTACH DATABASE '/tmp/x' AS x"],
)
def test_unsafe_statements_are_rejected(schema, sql: str) -> None:
    with pytest.raises(UnsafeSQL):
        check_select(sql, schema, "sqlite", 1000)


def test_a_bounded_select_over_known_columns_passes(schema) -> None:
    sql = "SELECT t.name, COUNT(*) AS wins FROM matches m JOIN teams t ON t.id = m.winner_team_id GROUP BY t.name ORDER BY wins DESC LIMIT 3"
    assert check_select(sql, schema, "sqlite", 100) == sql


@pytest.mark.parametrize("question", ["젠지 팀 삭제해줘", "선수 이름 바꿔줘", "경기 기록 다 지워", "drop table teams", "새 팀 추가해 줘"])
def test_requests_to_change_data_are_recognised(question: str) -> None:
    assert WRITE_WORDS.search(question)


def test_sqlite_connection_cannot_write_even_if_asked(sqlite_matches: str) -> None:
    path = sqlite_path(sqlite_matches)
    before = file_digest(path)
    with ReadOnlyDatabase(sqlite_matches).session() as session:
        for sql in ("DELETE FROM teams", "DROP TABLE players", "UPDATE teams SET name = 'x'"):
            with pytest.raises(QueryError):
                session.fetch(sql)
    assert file_digest(path) == before


def test_postgres_connection_cannot_write_even_if_asked(postgres_matches: str) -> None:
    before = postgres_digest(postgres_matches)
    with ReadOnlyDatabase(postgres_matches).session() as session:
        teams = session.fetch("SELECT COUNT(*) FROM teams")[1]
        for sql in ("DELETE FROM teams", "DROP TABLE players", "UPDATE teams SET name = 'x'"):
            with pytest.raises(QueryError):
                session.fetch(sql)
        assert session.fetch("SELECT COUNT(*) FROM teams")[1] == teams  # still usable after a refusal
    assert postgres_digest(postgres_matches) == before


def test_statement_timeout_stops_a_runaway_query(sqlite_matches: str) -> None:
    slow = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n")
    with ReadOnlyDatabase(sqlite_matches, timeout_s=0.5).session() as session, pytest.raises(QueryError):
        session.fetch(slow)
