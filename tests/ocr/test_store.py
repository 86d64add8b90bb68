"""The match store on PostgreSQL (the SQLite path is covered through the service in test_app.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

from common.matchdb import make_engine
from services.ocr.schemas import MatchRecord, PlayerRecord, TeamRecord
from services.ocr.store import IncompleteRecord, MatchStore

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A throw-away database, so the shared `test` database and other engineers' tables stay untouched."""
    name = f"malgeul_ocr_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _record(nick: str = "철수_99") -> MatchRecord:
    return MatchRecord(title="2026 여름 리그", map="Haven", teams=[
        TeamRecord(name="T1", score=13, result="win", players=[PlayerRecord(nickname=nick, kills=12, deaths=3, assists=7),
                                                              PlayerRecord(nickname="Faker", kills=20, deaths=1, assists=9)]),
        TeamRecord(name="한화생명", score=11, result="loss", players=[PlayerRecord(nickname="Zeus", kills=5, deaths=9, assists=2)]),
    ])


def test_save_creates_teams_and_players_once_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    store = MatchStore(engine)
    first = store.save(_record(), "tesseract", 0.9)
    second = store.save(_record(), "tesseract", 0.9)
    assert first != second
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM teams")).scalar() == 2
        assert conn.execute(text("SELECT COUNT(*) FROM players")).scalar() == 3
        top = conn.execute(text("SELECT p.nickname FROM match_players mp JOIN players p ON p.id = mp.player_id "
                                "ORDER BY mp.kills DESC LIMIT 1")).scalar()
    assert top == "Faker"
    saved = store.get(first)
    assert saved is not None and saved.match.teams == _record().teams
    assert [m.id for m in store.list(10, 0)] == [second, first]
    assert set(store.known_nicknames()) == {"철수_99", "Faker", "Zeus"}
    engine.dispose()


def test_incomplete_record_is_not_saved(pg_url: str) -> None:
    engine = make_engine(pg_url)
    store = MatchStore(engine)
    broken = _record()
    broken.teams[0].players[0].kills = None
    with pytest.raises(IncompleteRecord, match="K/D/A"):
        store.save(broken, "tesseract", 0.5)
    assert store.count() == 0
    engine.dispose()
