"""The schema read from SQLite and from PostgreSQL is the same to the model: same order, kinds and keys."""

from __future__ import annotations

import json

from services.seq2sql.config import Seq2SqlSettings
from services.seq2sql.linking import feature_names
from services.seq2sql.readonly import ReadOnlyDatabase
from services.seq2sql.schema import read_schema
from services.seq2sql.training import LabelSpace


def _schema(url: str):
    engine = ReadOnlyDatabase(url).inspection_engine()
    try:
        return read_schema(engine, json.loads(Seq2SqlSettings().annotations_file.read_text(encoding="utf-8")))
    finally:
        engine.dispose()


def test_sqlite_and_postgres_schemas_share_one_model(sqlite_matches: str, postgres_matches: str) -> None:
    lite, pg = _schema(sqlite_matches), _schema(postgres_matches)
    assert lite.fingerprint() == pg.fingerprint()
    assert feature_names(lite) == feature_names(pg)
    assert LabelSpace.of(lite) == LabelSpace.of(pg)


def test_annotations_and_keys_are_read(sqlite_matches: str) -> None:
    schema = _schema(sqlite_matches)
    assert schema.tables["players"].ko == "선수"
    assert schema.column("players.team_id").fk == ("teams", "id")
    assert schema.column("matches.played_at").kind == "date"
    assert {c.ref for c in schema.measures()} == {"match_players.kills", "match_players.deaths", "match_players.assists"}
    assert schema.contest_entity == "teams"
    assert [e[2] for e in schema.join_path("match_players", "teams")] == ["teams"]
    assert "선수(" in schema.describe_ko()
