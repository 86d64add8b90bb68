"""Synthesized training questions: every sketch is produced, its SQL runs on SQLite AND PostgreSQL,
and the Korean particles after names fit the name's last sound."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from services.seq2sql.config import Seq2SqlSettings
from services.seq2sql.linking import ValueIndex
from services.seq2sql.program import CONTEST_SKETCHES, GENERIC_SKETCHES, REFUSE, compile_program
from services.seq2sql.readonly import ReadOnlyDatabase
from services.seq2sql.safety import check_select
from services.seq2sql.schema import read_schema
from services.seq2sql.synthesis import synthesize


@pytest.fixture(scope="module")
def examples(sqlite_matches: str):
    db = ReadOnlyDatabase(sqlite_matches)
    engine = db.inspection_engine()
    schema = read_schema(engine, json.loads(Seq2SqlSettings().annotations_file.read_text(encoding="utf-8")))
    engine.dispose()
    with db.session() as session:
        index = ValueIndex.read(session, schema)
    return schema, synthesize(schema, index, per_sketch=12, seed=3, augment=0.0)


def test_every_sketch_is_synthesized(examples) -> None:
    _, items = examples
    counts = Counter(e.program.sketch for e in items)
    for sketch in [*GENERIC_SKETCHES, *CONTEST_SKETCHES, REFUSE]:
        assert counts[sketch] >= 10, sketch


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_synthesized_sql_runs_on_both_databases(examples, backend, sqlite_matches, postgres_matches) -> None:
    schema, items = examples
    db = ReadOnlyDatabase(sqlite_matches if backend == "sqlite" else postgres_matches)
    failures = []
    with db.session() as session:
        for example in items:
            if example.program.sketch == REFUSE:
                continue
            sql = compile_program(example.program, schema, 100)
            check_select(sql, schema, db.dialect, 100)
            try:
                session.fetch(sql)
            except Exception as exc:  # collect them all for one readable failure
                failures.append(f"{example.question} -> {sql}: {exc}")
    assert not failures, "\n".join(failures[:5])


def test_particles_after_names_fit_their_sound(examples) -> None:
    _, items = examples
    text = "\n".join(e.question for e in items)
    assert not re.search(r"(청룡 게이밍|T1|Rook)(가|를|는|와)(?=\s|$|\?)", text, re.M)
    assert not re.search(r"(붉은여우|Faker|젠지)(이|을|은|과)(?=\s|$|\?)", text, re.M)
