"""Roster correction: near misses snap to roster names, one player each; far names stay as read."""

from __future__ import annotations

from services.ocr.roster import correct_nicknames
from services.ocr.schemas import MatchRecord, PlayerRecord, TeamRecord


def _record(*names: str) -> MatchRecord:
    half = len(names) // 2
    return MatchRecord(teams=[
        TeamRecord(name="A", players=[PlayerRecord(nickname=n) for n in names[:half]]),
        TeamRecord(name="B", players=[PlayerRecord(nickname=n) for n in names[half:]]),
    ])


def _names(record: MatchRecord) -> list[str]:
    return [p.nickname for t in record.teams for p in t.players]


def test_near_misses_are_corrected_and_far_names_kept() -> None:
    record = _record("철수99", "Fakre", "xX_Sniper", "NewPlayer")
    changes = correct_nicknames(record, ["철수_99", "Faker", "xX_Sniper", "Zeus", "Blaze"], 0.6)
    assert _names(record) == ["철수_99", "Faker", "xX_Sniper", "NewPlayer"]
    assert len(changes) == 2


def test_two_readings_never_claim_the_same_roster_name() -> None:
    record = _record("Nova1", "Nova2")
    correct_nicknames(record, ["Nova7", "Luna"], 0.6)
    assert sorted(_names(record)).count("Nova7") == 1


def test_a_roster_of_exactly_this_match_fills_the_last_badly_read_name() -> None:
    # `uss` shares nothing with `바정솔`, but it is the only reading and the only roster name left.
    record = _record("Faker", "uss", "Zeus", "Luna")
    changes = correct_nicknames(record, ["Faker", "바정솔", "Zeus", "Luna"], 0.6)
    assert _names(record) == ["Faker", "바정솔", "Zeus", "Luna"]
    assert "left over" in changes[0]
