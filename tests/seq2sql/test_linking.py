"""Value and schema linking against the live database: names with particles, spacing, numbers, dates."""

from __future__ import annotations

import json
import sqlite3

import pytest

from services.seq2sql.config import Seq2SqlSettings
from services.seq2sql.linking import ValueIndex, link
from services.seq2sql.readonly import ReadOnlyDatabase, sqlite_path
from services.seq2sql.schema import Schema, read_schema


@pytest.fixture(scope="module")
def schema_and_db(sqlite_matches: str) -> tuple[Schema, ReadOnlyDatabase]:
    db = ReadOnlyDatabase(sqlite_matches)
    annotations = json.loads(Seq2SqlSettings().annotations_file.read_text(encoding="utf-8"))
    engine = db.inspection_engine()
    schema = read_schema(engine, annotations)
    engine.dispose()
    return schema, db


def _link(schema_and_db: tuple[Schema, ReadOnlyDatabase], question: str):
    schema, db = schema_and_db
    with db.session() as session:
        index = ValueIndex.read(session, schema)
    return link(question, schema, index, 2026)


@pytest.mark.parametrize(
    ("question", "value"),
    [("Rook이 속한 팀", "Rook"), ("붉은여우의 선수들", "붉은여우"), ("청룡게이밍이 이긴 경기", "청룡 게이밍"),
     ("T1은 몇 승?", "T1"), ("night owls 승률", "Night Owls"), ("여름리그 경기 수", "2026 여름 리그"),
     ("MSI 경기", "2026 MSI"), ("서폿 몇 명", "support")],
)
def test_values_are_found_with_particles_and_spacing(schema_and_db, question: str, value: str) -> None:
    found = _link(schema_and_db, question)
    assert value in [v.value for v in found.values]


def test_latin_names_do_not_match_inside_longer_words(schema_and_db) -> None:
    found = _link(schema_and_db, "T10 팀 경기 수")
    assert "T1" not in [v.value for v in found.values]


def test_top_n_is_a_limit_not_the_role_top(schema_and_db) -> None:
    found = _link(schema_and_db, "데스 제일 많은 선수 top 3")
    assert "top" not in [v.value for v in found.values]
    assert [(n.value, n.op) for n in found.numbers] == [(3.0, None)]


@pytest.mark.parametrize(
    ("question", "op", "value"),
    [("데스 평균 3 이하인 서포터", "<=", 3), ("킬 5 이상", ">=", 5), ("총 킬이 150 넘는 선수", ">", 150),
     ("평균 데스 2.5 미만", "<", 2.5), ("어시스트 10 초과", ">", 10)],
)
def test_comparisons_are_read_from_the_words_after_the_number(schema_and_db, question, op, value) -> None:
    found = _link(schema_and_db, question)
    assert [(n.op, n.value) for n in found.numbers] == [(op, value)]


@pytest.mark.parametrize(
    ("question", "expected"),
    [("7월 경기 수", ("2026-07-01", "2026-08-01")), ("3월부터 5월까지 경기", ("2026-03-01", "2026-06-01")),
     ("9월 이후 경기", ("2026-09-01", None)), ("4월 이전 경기", (None, "2026-04-01")),
     ("상반기 경기", ("2026-01-01", "2026-07-01"))],
)
def test_date_ranges(schema_and_db, question, expected) -> None:
    assert _link(schema_and_db, question).date_range == expected


def test_a_team_inserted_a_moment_ago_is_linked_at_once(schema_and_db, tmp_path) -> None:
    schema, db = schema_and_db
    copy = tmp_path / "copy.sqlite"
    source = sqlite3.connect(sqlite_path(db.url))
    target = sqlite3.connect(copy)
    source.backup(target)
    target.execute("INSERT INTO teams (id, name, region) VALUES (99, '은하수 게이밍', 'KR')")
    target.commit()
    target.close()
    source.close()
    fresh = ReadOnlyDatabase(str(copy))
    with fresh.session() as session:
        found = link("은하수게이밍이 이긴 경기", schema, ValueIndex.read(session, schema), 2026)
    assert [v.value for v in found.values] == ["은하수 게이밍"]
    assert found.delexicalized.startswith("팀")
