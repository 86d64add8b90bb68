"""Saved match records in the match database (common/sql/matches-schema.sql), shared with text-to-SQL.

Teams and players are created by name on first sight. Besides the four shared tables the recorder keeps
`ocr_match_sources` (row order and provenance of each saved screen), so a record reads back as it was shown.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from sqlalchemy import Engine, text

from common.matchdb import ensure_schema
from services.ocr.schemas import MatchRecord, PlayerRecord, SavedMatch, TeamRecord

logger = logging.getLogger("malgeul.ocr.store")

SOURCES_TABLE = """
CREATE TABLE IF NOT EXISTS ocr_match_sources (
    match_id   INTEGER PRIMARY KEY REFERENCES matches(id),
    engine     TEXT,
    confidence REAL,
    record     TEXT NOT NULL
)"""


class IncompleteRecord(ValueError):
    """The record lacks what the database requires (two named teams, numeric K/D/A)."""


class MatchStore:
    """Reads and writes match records through one SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_schema(engine)
        with engine.begin() as conn:
            conn.execute(text(SOURCES_TABLE))

    def known_nicknames(self, limit: int = 20000) -> list[str]:
        """Nicknames of players already stored (the roster when the caller gives none)."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT nickname FROM players ORDER BY id DESC LIMIT :n"), {"n": limit})
            return [r[0] for r in rows]

    def save(self, record: MatchRecord, engine_name: str, confidence: float, played_at: datetime | None = None) -> str:
        """Insert the match (and new teams/players); returns its id. Raises `IncompleteRecord`."""
        problems = _save_problems(record)
        if problems:
            raise IncompleteRecord("; ".join(problems))
        played_at = played_at or datetime.now(UTC).replace(tzinfo=None)
        a, b = record.teams
        with self.engine.begin() as conn:
            team_ids = [_get_or_create(conn, "teams", "name", t.name) for t in (a, b)]
            winner = None
            if a.result == "win" or b.result == "loss":
                winner = team_ids[0]
            elif b.result == "win" or a.result == "loss":
                winner = team_ids[1]
            match_id = _next_id(conn, "matches")
            conn.execute(
                text("INSERT INTO matches (id, played_at, tournament, map, team_a_id, team_b_id, score_a, score_b, winner_team_id) "
                     "VALUES (:i, :p, :t, :m, :a, :b, :sa, :sb, :w)"),
                {"i": match_id, "p": played_at, "t": record.title, "m": record.map, "a": team_ids[0], "b": team_ids[1],
                 "sa": a.score, "sb": b.score, "w": winner},
            )
            for team, team_id in zip((a, b), team_ids):
                for player in team.players:
                    player_id = _get_or_create(conn, "players", "nickname", player.nickname, team_id=team_id)
                    conn.execute(
                        text("INSERT INTO match_players (match_id, player_id, team_id, kills, deaths, assists) "
                             "VALUES (:m, :p, :t, :k, :d, :a)"),
                        {"m": match_id, "p": player_id, "t": team_id, "k": player.kills, "d": player.deaths,
                         "a": player.assists},
                    )
            conn.execute(
                text("INSERT INTO ocr_match_sources (match_id, engine, confidence, record) VALUES (:m, :e, :c, :r)"),
                {"m": match_id, "e": engine_name, "c": confidence, "r": record.model_dump_json()},
            )
        logger.info("match saved", extra={"match_id": match_id, "teams": [a.name, b.name]})
        return str(match_id)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM matches")).scalar_one())

    def list(self, limit: int, offset: int) -> list[SavedMatch]:
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(
                text("SELECT id FROM matches ORDER BY played_at DESC, id DESC LIMIT :l OFFSET :o"),
                {"l": limit, "o": offset})]
        return [m for m in (self.get(str(i)) for i in ids) if m is not None]

    def get(self, match_id: str) -> SavedMatch | None:
        try:
            key = int(match_id)
        except ValueError:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                text("SELECT m.id, m.played_at, m.tournament, m.map, m.team_a_id, m.team_b_id, m.score_a, m.score_b, "
                     "m.winner_team_id, ta.name, tb.name FROM matches m JOIN teams ta ON ta.id = m.team_a_id "
                     "JOIN teams tb ON tb.id = m.team_b_id WHERE m.id = :id"), {"id": key}).first()
            if row is None:
                return None
            players = conn.execute(
                text("SELECT mp.team_id, p.nickname, mp.kills, mp.deaths, mp.assists, p.id FROM match_players mp "
                     "JOIN players p ON p.id = mp.player_id WHERE mp.match_id = :id"), {"id": key}).all()
            source = conn.execute(text("SELECT record FROM ocr_match_sources WHERE match_id = :id"), {"id": key}).scalar()
        order: dict[str, int] = {}
        if source:
            saved = json.loads(source)
            order = {p["nickname"]: i for i, p in enumerate(p for t in saved["teams"] for p in t["players"])}
        (mid, played_at, tournament, map_name, a_id, b_id, score_a, score_b, winner, name_a, name_b) = row
        teams = []
        for team_id, name, score in ((a_id, name_a, score_a), (b_id, name_b, score_b)):
            result = "draw" if winner is None else ("win" if winner == team_id else "loss")
            rows = sorted((p for p in players if p[0] == team_id), key=lambda p: (order.get(p[1], 1 << 30), p[5]))
            teams.append(TeamRecord(name=name, score=score, result=result, players=[
                PlayerRecord(nickname=p[1], kills=p[2], deaths=p[3], assists=p[4]) for p in rows]))
        if isinstance(played_at, str):
            played_at = datetime.fromisoformat(played_at)
        if played_at.tzinfo is None:  # the schema's TIMESTAMP holds UTC (save() writes it so)
            played_at = played_at.replace(tzinfo=UTC)
        return SavedMatch(id=str(mid), played_at=played_at, tournament=tournament,
                          match=MatchRecord(title=tournament, map=map_name, teams=teams))


def _save_problems(record: MatchRecord) -> list[str]:
    problems = []
    if len(record.teams) != 2:
        return [f"a match needs 2 teams, the screen gave {len(record.teams)}"]
    if not all(t.name for t in record.teams):
        problems.append("a team has no name")
    elif record.teams[0].name == record.teams[1].name:
        problems.append("both teams have the same name")
    nicknames = [p.nickname for t in record.teams for p in t.players]
    if len(set(nicknames)) != len(nicknames):
        problems.append("a nickname appears twice")
    for player in (p for t in record.teams for p in t.players):
        if not player.nickname or None in (player.kills, player.deaths, player.assists):
            problems.append(f"player {player.nickname or '?'} has no complete K/D/A")
    return problems


def _get_or_create(conn, table: str, column: str, value: str, team_id: int | None = None) -> int:  # noqa: ANN001
    found = conn.execute(text(f"SELECT id FROM {table} WHERE {column} = :v"), {"v": value}).scalar()
    if found is not None:
        if team_id is not None:
            conn.execute(text("UPDATE players SET team_id = :t WHERE id = :i AND team_id IS NULL"), {"t": team_id, "i": found})
        return int(found)
    new_id = _next_id(conn, table)
    if table == "players":
        conn.execute(text("INSERT INTO players (id, nickname, team_id) VALUES (:i, :v, :t)"), {"i": new_id, "v": value, "t": team_id})
    else:
        conn.execute(text(f"INSERT INTO {table} (id, {column}) VALUES (:i, :v)"), {"i": new_id, "v": value})
    return new_id


def _next_id(conn, table: str) -> int:  # noqa: ANN001
    """The next id of ``table``: the shared schema's `INTEGER PRIMARY KEY` auto-numbers on SQLite only,
    so ids are given explicitly (under a table lock on PostgreSQL, so two writers never pick the same)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
    return int(conn.execute(text(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")).scalar_one())
