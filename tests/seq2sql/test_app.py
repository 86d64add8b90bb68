"""The `/v1/sql` API over real HTTP, against the seeded match database on SQLite and on PostgreSQL:
answers, live value linking, registration -> training -> ready, and hostile input that must change nothing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest

from services.seq2sql.evaluation import SHOP_ANNOTATIONS, SHOP_SQL, create_shop_sqlite
from services.seq2sql.readonly import sqlite_path
from tests.seq2sql.conftest import file_digest, postgres_digest, service_env


class Backend:
    """One running service and a writer connection to its match database (the OCR service's role)."""

    def __init__(self, kind: str, url: str, process) -> None:
        self.kind, self.url, self.process = kind, url, process

    def ask(self, question: str, **extra) -> httpx.Response:
        return httpx.post(f"{self.process.url}/v1/sql/ask", json={"question": question, **extra}, timeout=30)

    def write(self, sql: str, params: tuple = ()) -> None:
        if self.kind == "sqlite":
            conn = sqlite3.connect(sqlite_path(self.url))
            conn.execute(sql.replace("%s", "?"), params)
            conn.commit()
            conn.close()
        else:
            with psycopg.connect(self.url) as conn:
                conn.execute(sql, params)

    def read(self, sql: str) -> list[tuple]:
        if self.kind == "sqlite":
            conn = sqlite3.connect(sqlite_path(self.url))
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql).fetchall()

    def digest(self) -> str:
        return file_digest(sqlite_path(self.url)) if self.kind == "sqlite" else postgres_digest(self.url)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request, launch_service, model_cache: Path) -> Backend:
    url = request.getfixturevalue("sqlite_matches" if request.param == "sqlite" else "postgres_matches")
    process = launch_service("seq2sql", env=service_env(url, model_cache), ready=True, wait=480)
    return Backend(request.param, url, process)


def test_wins_are_counted_and_answered_in_korean(backend: Backend) -> None:
    response = backend.ask("청룡 게이밍이 이긴 경기 몇 개야?")
    assert response.status_code == 200, response.text
    body = response.json()
    expected = backend.read("SELECT COUNT(*) FROM matches WHERE winner_team_id = (SELECT id FROM teams WHERE name = '청룡 게이밍')")
    assert body["rows"] == [[expected[0][0]]]
    assert body["answer"] == f"청룡 게이밍은 {expected[0][0]}번 이겼습니다."
    assert body["sql"].upper().startswith("SELECT") and "LIMIT" in body["sql"].upper()
    assert 0 < body["confidence"] <= 1


def test_names_with_particles_are_linked(backend: Backend) -> None:
    body = backend.ask("붉은여우의 선수들 알려줘").json()
    expected = {r[0] for r in backend.read(
        "SELECT p.nickname FROM players p JOIN teams t ON t.id = p.team_id WHERE t.name = '붉은여우'")}
    assert {row[0] for row in body["rows"]} == expected
    body = backend.ask("Faker 평균 킬").json()
    expected = backend.read("SELECT AVG(mp.kills) FROM match_players mp JOIN players p ON p.id = mp.player_id "
                            "WHERE p.nickname = 'Faker'")[0][0]
    assert body["rows"][0][0] == pytest.approx(float(expected))


def test_head_to_head(backend: Backend) -> None:
    body = backend.ask("T1이랑 젠지 상대 전적").json()
    assert "T1" in body["sql"] and "젠지" in body["sql"]
    assert body["rows"] and all(row[0] in ("T1", "젠지") for row in body["rows"])


def test_a_team_saved_a_moment_ago_is_queryable_at_once(backend: Backend) -> None:
    name = f"은하수 게이밍 {backend.kind}"
    backend.write("INSERT INTO teams (id, name, region) VALUES (%s, %s, %s)", (900 + len(backend.kind), name, "KR"))
    for offset, nickname in enumerate(("별똥별", "Comet")):
        backend.write("INSERT INTO players (id, nickname, team_id, role) VALUES (%s, %s, %s, %s)",
                      (950 + offset + 10 * len(backend.kind), f"{nickname}{backend.kind}", 900 + len(backend.kind), "mid"))
    body = backend.ask(f"{name}의 선수 몇 명이야?").json()
    assert body["rows"] == [[2]], body


def test_execute_false_returns_the_sql_only(backend: Backend) -> None:
    body = backend.ask("T1 승률", execute=False).json()
    assert body["rows"] == [] and "T1" in body["sql"]


@pytest.mark.parametrize(
    "question",
    ["젠지 팀 삭제해줘", "모든 경기 기록 지워 줘", "T1 이름을 T2로 바꿔", "DROP TABLE teams", "'; DROP TABLE teams; --",
     "선수 테이블에 새 선수 추가해줘", "Faker 연봉 얼마야?", "x" * 10_000, "T1 승수'); DELETE FROM matches; --"],
)
def test_hostile_or_unanswerable_questions_get_4xx_and_change_nothing(backend: Backend, question: str) -> None:
    before = backend.digest()
    response = backend.ask(question)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]
    assert backend.digest() == before


def test_injection_text_inside_a_stored_name_stays_data(backend: Backend) -> None:
    name = "Robert'); DROP TABLE teams;--"
    if not backend.read(f"SELECT id FROM teams WHERE id = 990"):
        backend.write("INSERT INTO teams (id, name, region) VALUES (%s, %s, %s)", (990, name, "EU"))
    before = backend.digest()
    response = backend.ask(f"{name} 선수 몇 명이야?")
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["rows"] == [[0]]
    assert backend.digest() == before
    assert backend.read("SELECT COUNT(*) FROM teams")[0][0] >= 9


def test_unknown_database_and_bad_registrations(backend: Backend, tmp_path: Path) -> None:
    assert backend.ask("T1 승률", database="nope").status_code == 404
    base = backend.process.url + "/v1/sql/databases"
    assert httpx.post(base, json={"name": "matches", "url": backend.url}).status_code == 409
    missing = httpx.post(base, json={"name": "ghost", "url": str(tmp_path / "missing.sqlite")})
    assert missing.status_code == 422 and "missing.sqlite" in missing.json()["detail"]
    assert httpx.post(base, json={"name": "bad name!", "url": "x"}).status_code == 422


def _wait_ready(base: str, name: str, timeout: float = 420) -> list[float]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.get(f"{base}/v1/sql/databases/{name}", timeout=10).json()
        seen.append(status["progress"])
        if status["status"] == "ready":
            return seen
        assert status["status"] == "training", status
        time.sleep(1)
    raise TimeoutError(f"{name} not ready")


@pytest.fixture(scope="module")
def shop_url(backend: Backend, tmp_path_factory, postgres_database: Callable[[str], str]) -> str:
    if backend.kind == "sqlite":
        return str(create_shop_sqlite(tmp_path_factory.mktemp("shop") / "shop.sqlite"))
    url = postgres_database("seq2sql_shop")
    with psycopg.connect(url) as conn:
        conn.execute(SHOP_SQL.read_text(encoding="utf-8"))
    return url


def test_register_train_and_ask_another_database(backend: Backend, shop_url: str) -> None:
    base = backend.process.url
    annotations = __import__("json").loads(SHOP_ANNOTATIONS.read_text(encoding="utf-8"))
    response = httpx.post(f"{base}/v1/sql/databases", json={"name": "shop", "url": shop_url, "annotations": annotations})
    assert response.status_code == 202 and response.json() == {"name": "shop", "status": "training"}
    progress = _wait_ready(base, "shop")
    assert progress == sorted(progress)  # progress only moves forward
    listed = {d["name"]: d["status"] for d in httpx.get(f"{base}/v1/sql/databases").json()}
    assert listed == {"matches": "ready", "shop": "ready"}
    body = httpx.post(f"{base}/v1/sql/ask", json={"question": "가장 비싼 상품 3개", "database": "shop"}).json()
    assert [row[0] for row in body["rows"]] == ["노트북", "태블릿", "스탠딩 책상"], body
    body = httpx.post(f"{base}/v1/sql/ask", json={"question": "서울 사는 고객 몇 명이야?", "database": "shop"}).json()
    assert body["rows"] == [[5]]
    before = file_digest(Path(shop_url)) if backend.kind == "sqlite" else postgres_digest(shop_url)
    refused = httpx.post(f"{base}/v1/sql/ask", json={"question": "주문 전부 취소해 줘", "database": "shop"})
    assert refused.status_code == 422
    assert (file_digest(Path(shop_url)) if backend.kind == "sqlite" else postgres_digest(shop_url)) == before
