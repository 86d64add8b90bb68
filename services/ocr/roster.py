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
        # No score_cutoff here: rapidfuzz rounds it into a distance and drops scores equal to it.
        for name, score, _ in process.extract(player.nickname, names, scorer=Levenshtein.normalized_similarity, limit=3):
            if score >= min_similarity - 1e-9:
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
    # When the roster names exactly this screen's players, the last unmatched readings can only be the
    # roster names left over: pair them by similarity however low (a badly misread Hangul nickname).
    unmatched = [i for i, p in enumerate(players) if p.nickname not in known]
    left = [n for n in names if n not in taken]
    if unmatched and len(unmatched) == len(left):
        pairs = sorted(((Levenshtein.normalized_similarity(players[i].nickname, n), i, n) for i in unmatched for n in left),
                       key=lambda c: -c[0])
        for _score, index, name in pairs:
            if index in done or name in taken:
                continue
            changes.append(f"nickname {players[index].nickname!r} taken as {name!r}, the roster name left over")
            players[index].nickname = name
            taken.add(name)
            done.add(index)
    return changes
