"""The running service over HTTP: reading, saving into the match database, listing, bad uploads."""

from __future__ import annotations

import io
import sqlite3
import struct
import time
import zlib
from pathlib import Path

import httpx
import pytest
from PIL import Image

from services.ocr.synthetic import MatchTruth, PlayerTruth, ScreenStyle, TeamTruth, make_case
from tests.ocr.conftest import numbers, upload

TRUTH = MatchTruth(title="Weekly Scrim #12", map="Lotus", teams=[
    TeamTruth("Night Owls", 2, "win", [PlayerTruth("Faker", 10, 2, 5), PlayerTruth("철수_99", 4, 6, 9), PlayerTruth("Nova7", 7, 7, 1)]),
    TeamTruth("한화생명", 1, "loss", [PlayerTruth("김민준", 3, 8, 2), PlayerTruth("ghost_22", 9, 5, 4), PlayerTruth("Blaze", 5, 9, 6)]),
])
ROSTER = [p.nickname for t in TRUTH.teams for p in t.players]


@pytest.fixture(scope="module")
def service(launch_service, tmp_path_factory):  # noqa: ANN001, ANN201
    var = tmp_path_factory.mktemp("ocr-app")
    process = launch_service("ocr", env={"MALGEUL_VAR_DIR": str(var)}, ready=True)
    process.var_dir = var
    return process


def test_read_save_and_list_through_the_api_and_sql(service) -> None:  # noqa: ANN001
    case = make_case(TRUTH, ScreenStyle(layout="side", kda="slash", score="big", lang="ko", banner="ko"), seed=2)
    response = httpx.post(f"{service.url}/v1/ocr/match-results", files=upload(case),
                          data={"save": "true", "roster": __import__("json").dumps(ROSTER)}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["engine"].startswith("tesseract")
    assert numbers(body["match"]) == numbers(TRUTH.as_record())
    assert [p["nickname"] for t in body["match"]["teams"] for p in t["players"]] == ROSTER
    assert body["id"] is not None

    listed = httpx.get(f"{service.url}/v1/matches", params={"limit": 5}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    one = httpx.get(f"{service.url}/v1/matches/{body['id']}").json()
    assert one["match"]["teams"] == body["match"]["teams"]
    assert one["match"]["map"] == "Lotus"

    # The text-to-SQL assistant reads the same rows from the SQLite file.
    with sqlite3.connect(Path(service.var_dir) / "matches.sqlite") as db:
        kills = dict(db.execute("SELECT p.nickname, mp.kills FROM match_players mp JOIN players p ON p.id = mp.player_id"))
        winner = db.execute("SELECT t.name FROM matches m JOIN teams t ON t.id = m.winner_team_id").fetchone()[0]
        scores = db.execute("SELECT score_a, score_b, map, tournament FROM matches").fetchone()
    assert kills == {p.nickname: p.kills for t in TRUTH.teams for p in t.players}
    assert winner == "Night Owls"
    assert scores == (2, 1, "Lotus", "Weekly Scrim #12")


def test_players_in_the_database_serve_as_roster(service) -> None:  # noqa: ANN001
    # The first test saved these players; a later screen without a roster is corrected against them.
    case = make_case(TRUTH, ScreenStyle(layout="stacked", kda="columns", score="team", lang="en"), seed=6)
    body = httpx.post(f"{service.url}/v1/ocr/match-results", files=upload(case), timeout=60).json()
    assert [p["nickname"] for t in body["match"]["teams"] for p in t["players"]] == ROSTER
    assert body["id"] is None


def test_unknown_match_is_404(service) -> None:  # noqa: ANN001
    response = httpx.get(f"{service.url}/v1/matches/999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_plain_text_route_returns_lines_with_boxes(service) -> None:  # noqa: ANN001
    case = make_case(TRUTH, ScreenStyle(lang="en"), seed=1)
    body = httpx.post(f"{service.url}/v1/ocr/text", files=upload(case), timeout=60).json()
    assert "Weekly Scrim" in body["text"] and "Night Owls" in body["text"]
    assert all(len(line["box"]) == 4 for line in body["lines"])


def _png(width: int, height: int, pixels: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


def _bad_uploads() -> dict[str, tuple[bytes, str, int]]:
    good = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(good, "PNG")
    gif = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(gif, "GIF")
    return {
        "not an image": (b"this is a text file, not a screenshot\n" * 10, "text/plain", 415),
        "truncated png": (good.getvalue()[: len(good.getvalue()) // 2], "image/png", 400),
        # 20000 x 20000 pixels declared in a header of a few hundred bytes.
        "decompression bomb": (_png(20000, 20000, b"\x00" * 1000), "image/png", 413),
        "zero bytes": (b"", "image/png", 400),
        "gif": (gif.getvalue(), "image/gif", 415),
    }


@pytest.mark.parametrize("name", list(_bad_uploads()))
def test_bad_uploads_get_a_fast_4xx(service, name: str) -> None:  # noqa: ANN001
    data, media_type, status = _bad_uploads()[name]
    started = time.monotonic()
    response = httpx.post(f"{service.url}/v1/ocr/match-results", files={"image": ("upload", data, media_type)}, timeout=30)
    assert response.status_code == status, response.text
    assert time.monotonic() - started < 3
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]


def test_bad_roster_is_422(service) -> None:  # noqa: ANN001
    case = make_case(TRUTH, ScreenStyle(), seed=1)
    response = httpx.post(f"{service.url}/v1/ocr/match-results", files=upload(case), data={"roster": "Faker, Nova"})
    assert response.status_code == 422
    assert "JSON list" in response.json()["detail"]


def test_openapi_describes_the_routes(service) -> None:  # noqa: ANN001
    paths = httpx.get(f"{service.url}/openapi.json").json()["paths"]
    assert {"/v1/ocr/match-results", "/v1/ocr/text", "/v1/matches", "/v1/matches/{match_id}"} <= set(paths)
