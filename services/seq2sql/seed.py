"""The demo match database: deterministic teams, players and 2026 matches (data/matches/demo-roster.json).

`malgeul prepare` (and `make up`) fills an EMPTY match database with it; the dev sets and tests use it.
The same seed always gives the same rows, so gold answers of the dev set stay valid.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from pathlib import Path

from sqlalchemy import Engine, text

from common.matchdb import ensure_schema, make_engine
from common.settings import DATA_DIR, ServiceSettings

logger = logging.getLogger("malgeul.seq2sql.seed")
ROSTER = DATA_DIR / "matches" / "demo-roster.json"
SEED = 2026
_ROLE_KILLS = {"top": 3.0, "jungle": 3.0, "mid": 4.5, "adc": 5.0, "support": 1.0}
_ROLE_ASSISTS = {"top": 4.0, "jungle": 7.0, "mid": 6.0, "adc": 5.0, "support": 10.0}


def demo_rows(roster_path: Path = ROSTER) -> dict[str, list[dict]]:
    """Every row of the demo database, generated from the roster with a fixed random seed."""
    roster = json.loads(roster_path.read_text(encoding="utf-8"))
    rng = random.Random(SEED)
    teams, players, matches, match_players = [], [], [], []
    team_players: dict[int, list[tuple[int, str]]] = {}
    for tid, team in enumerate(roster["teams"], start=1):
        teams.append({"id": tid, "name": team["name"], "region": team["region"]})
        team_players[tid] = []
        for nickname, role in team["players"]:
            pid = len(players) + 1
            players.append({"id": pid, "nickname": nickname, "team_id": tid, "role": role})
            team_players[tid].append((pid, role))
    for nickname, role in roster.get("free_agents", []):
        players.append({"id": len(players) + 1, "nickname": nickname, "team_id": None, "role": role})
    playing = [i for i, t in enumerate(roster["teams"], start=1) if t.get("plays", True)]
    strength = {i: roster["teams"][i - 1]["strength"] for i in playing}
    for tournament in roster["tournaments"]:
        start = dt.datetime.fromisoformat(tournament["start"])
        span = (dt.datetime.fromisoformat(tournament["end"]) - start).days
        for _ in range(tournament["matches"]):
            a, b = rng.sample(playing, 2)
            played = start + dt.timedelta(days=rng.randrange(span + 1), hours=rng.choice([17, 19, 21]))
            p_a = 0.5 + (strength[a] - strength[b]) * 0.6
            if rng.random() < 0.05:
                score_a = score_b = 1
                winner = None
            else:
                a_wins = rng.random() < p_a
                loser_score = rng.choice([0, 1])
                score_a, score_b = (2, loser_score) if a_wins else (loser_score, 2)
                winner = a if a_wins else b
            mid = len(matches) + 1
            matches.append({"id": mid, "played_at": played.strftime("%Y-%m-%d %H:%M:%S"),
                            "tournament": tournament["name"],
                            "map": rng.choices(roster["maps"], weights=roster["map_weights"])[0],
                            "team_a_id": a, "team_b_id": b, "score_a": score_a, "score_b": score_b,
                            "winner_team_id": winner})
            for tid in (a, b):
                bonus = 1.3 if winner == tid else (1.0 if winner is None else 0.75)
                for pid, role in team_players[tid]:
                    kills = max(0, round(rng.gauss(_ROLE_KILLS[role] * bonus, 1.8)))
                    deaths = max(0, round(rng.gauss(3.2 / bonus, 1.5)))
                    assists = max(0, round(rng.gauss(_ROLE_ASSISTS[role] * bonus, 2.5)))
                    match_players.append({"match_id": mid, "player_id": pid, "team_id": tid,
                                          "kills": kills, "deaths": deaths, "assists": assists})
    return {"teams": teams, "players": players, "matches": matches, "match_players": match_players}


def seed_demo(engine: Engine, force: bool = False) -> bool:
    """Create the schema and insert the demo rows when the database has no teams (or ``force``)."""
    ensure_schema(engine)
    with engine.begin() as conn:
        if not force and conn.execute(text("SELECT COUNT(*) FROM teams")).scalar():
            return False
        rows = demo_rows()
        for table in ("match_players", "matches", "players", "teams"):
            conn.execute(text(f"DELETE FROM {table}"))
        for table in ("teams", "players", "matches", "match_players"):
            columns = list(rows[table][0])
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
            conn.execute(text(sql), rows[table])
    logger.info("seeded the demo match database", extra={"teams": len(rows["teams"]), "matches": len(rows["matches"])})
    return True


def prepare(settings: ServiceSettings) -> None:
    """`malgeul prepare seq2sql`: seed an empty match database, then train the match model if missing."""
    engine = make_engine(settings.match_database_url)
    try:
        seed_demo(engine)
    finally:
        engine.dispose()
    from services.seq2sql.databases import train_default_model

    train_default_model(settings)  # type: ignore[arg-type]
