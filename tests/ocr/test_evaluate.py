"""The scorer behind `malgeul eval ocr`, and the command itself on a few images."""

from __future__ import annotations

import pytest

from services.ocr.cli import evaluate_ocr
from services.ocr.evaluate import Score, compare
from services.ocr.schemas import MatchRecord
from services.ocr.synthetic import random_case


def test_a_perfect_record_scores_every_field_right_and_a_missing_player_wrong() -> None:
    case = random_case(2000)
    truth = case.truth.as_record()
    perfect = MatchRecord.model_validate(truth)
    assert all(ok for _, ok in compare(truth, perfect))
    short = MatchRecord.model_validate(truth)
    short.teams[1].players.pop()
    marks = compare(truth, short)
    wrong = [name for name, ok in marks if not ok]
    assert sorted(wrong) == ["assists", "deaths", "kills", "nickname"]
    score = Score()
    assert score.add(truth, perfect, ["clean"], 10.0) is True
    assert score.add(truth, short, ["clean"], 30.0) is False
    assert score.perfect == 1 and score.p50() == 20.0
    assert score.accuracy("result") == 1.0 and score.accuracy("nickname") < 1.0


def test_eval_command_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate_ocr(["--count", "2", "--no-baseline"]) == 0
    out = capsys.readouterr().out
    assert "perfect_images=" in out and "fallback_rate=" in out and "p50_ms=" in out
    assert all(f"{field}=" in out for field in ("team_name", "score", "result", "nickname", "kills", "deaths", "assists"))


def test_misses_name_each_wrong_field_with_truth_and_reading() -> None:
    from services.ocr.evaluate import misses

    truth = random_case(2000).truth.as_record()
    read = MatchRecord.model_validate(truth)
    assert misses(truth, read) == []
    read.teams[0].players[0].nickname = "wrong"
    read.teams[1].name = None
    found = misses(truth, read)
    assert f"team 1 player 1 nickname: {truth['teams'][0]['players'][0]['nickname']!r} -> 'wrong'" in found
    assert f"team 2 name: {truth['teams'][1]['name']!r} -> None" in found
    assert len(found) == 2
