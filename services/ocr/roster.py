"""Near-miss nickname correction against a roster of known nicknames (edit distance, one player each)."""

from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from services.ocr.schemas import MatchRecord


def correct_nicknames(record: MatchRecord, roster: list[str], min_similarity: float) -> list[str]:
    """Replace each nickname by its closest roster name when similar enough; returns what changed.

    Greedy by similarity so that two read nicknames never claim the same roster name.
    """
    names = list(dict.fromkeys(n for n in roster if n))
    if not names:
        return []
    players = [p for team in record.teams for p in team.players]
    known = set(names)
    candidates = []
    for index, player in enumerate(players):
        if player.nickname in known:
            continue
        for name, score, _ in process.extract(
            player.nickname, names, scorer=Levenshtein.normalized_similarity, limit=3, score_cutoff=min_similarity
        ):
            candidates.append((score, index, name))
    taken = {p.nickname for p in players if p.nickname in known}
    done: set[int] = set()
    changes = []
    for score, index, name in sorted(candidates, key=lambda c: -c[0]):
        if index in done or name in taken:
            continue
        changes.append(f"nickname {players[index].nickname!r} corrected to {name!r} from the roster")
        players[index].nickname = name
        taken.add(name)
        done.add(index)
    return changes
