"""Structural checks of a parsed record: what a person would notice is wrong with it."""

from __future__ import annotations

from services.ocr.schemas import MatchRecord


def structural_problems(record: MatchRecord) -> list[str]:
    """Sentences naming each broken expectation: two teams, players with numeric K/D/A, scores that agree
    with the banners. Empty when the record looks whole."""
    problems: list[str] = []
    if len(record.teams) != 2:
        problems.append(f"expected 2 teams, found {len(record.teams)}")
    for number, team in enumerate(record.teams, start=1):
        if not team.name:
            problems.append(f"team {number} has no name")
        if team.score is None:
            problems.append(f"team {number} has no readable score")
        if not team.players:
            problems.append(f"team {number} has no player rows")
        for player in team.players:
            if not player.nickname:
                problems.append(f"team {number} has a player without a nickname")
            missing = [k for k in ("kills", "deaths", "assists") if getattr(player, k) is None]
            if missing:
                problems.append(f"{player.nickname or 'a player'}: {', '.join(missing)} not numeric")
    if len(record.teams) == 2:
        a, b = record.teams
        if a.players and b.players and len(a.players) != len(b.players):
            problems.append(f"teams have {len(a.players)} and {len(b.players)} player rows (a row may be missing)")
        results = (a.result, b.result)
        if None not in results and results not in (("win", "loss"), ("loss", "win"), ("draw", "draw")):
            problems.append(f"banners disagree with each other ({results[0]} / {results[1]})")
        if a.score is not None and b.score is not None and None not in results:
            expected = ("draw", "draw") if a.score == b.score else (("win", "loss") if a.score > b.score else ("loss", "win"))
            if results != expected:
                problems.append(f"score {a.score}:{b.score} disagrees with the banners ({results[0]} / {results[1]})")
    return problems
