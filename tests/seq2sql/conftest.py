"""Fixtures of the text-to-SQL tests: the seeded demo database on SQLite and on a real PostgreSQL server,
and the assistant service started against each, with trained models cached under var/test-cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from common.matchdb import make_engine
from services.seq2sql.seed import seed_demo
from tests.processes import free_port

PG_URL = os.environ.get("MALGEUL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Small training so a cold CI run stays within its budget; the models are cached by input hash.
TRAIN_ENV = {"MALGEUL_SEQ2SQL_PER_SKETCH": "120", "MALGEUL_SEQ2SQL_EPOCHS": "25"}


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _start_own_postgres(base: Path) -> tuple[str, list[str]]:
    """Install PostgreSQL when missing and run a throw-away cluster with trust auth on a free port."""
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "postgresql"], check=True, env=env)
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    data = base / "pgdata"
    data.mkdir(parents=True)
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(base, "postgres")
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
                   check=True, capture_output=True)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "start", "-l",
                    str(data / "log")], check=True, capture_output=True)
    stop = [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A maintenance URL of a PostgreSQL server: the one on this machine, or one we start."""
    if _answers(PG_URL):
        yield PG_URL
        return
    url, stop = _start_own_postgres(tmp_path_factory.mktemp("postgres"))
    yield url
    subprocess.run(stop, check=False, capture_output=True)


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> Iterator[Callable[[str], str]]:
    """A factory of scratch databases on the server (dropped at the end of the run)."""
    created: list[str] = []

    def create(prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return postgres_server.rsplit("/", 1)[0] + f"/{name}"

    yield create
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_matches(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo match database seeded in a fresh SQLite file; returns its SQLAlchemy URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('matches') / 'matches.sqlite'}"
    engine = make_engine(url)
    seed_demo(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_matches(postgres_database: Callable[[str], str]) -> str:
    url = postgres_database("seq2sql_matches")
    engine = make_engine(url)
    seed_demo(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def model_cache(cache_dir: Path) -> Path:
    path = cache_dir / "seq2sql"
    path.mkdir(parents=True, exist_ok=True)
    return path


def service_env(database_url: str, model_cache: Path) -> dict[str, str]:
    # The tests register databases they make under the temporary folder (and on the local PostgreSQL).
    return {"MALGEUL_DATABASE_URL": database_url, "MALGEUL_SEQ2SQL_MODEL_DIR": str(model_cache),
            "MALGEUL_SEQ2SQL_DATABASE_DIRS": tempfile.gettempdir(), "MALGEUL_SEQ2SQL_DATABASE_HOSTS": "127.0.0.1",
            **TRAIN_ENV}


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def postgres_digest(url: str) -> str:
    """A digest of every row of every table: equal digests mean the data is unchanged."""
    digest = hashlib.sha256()
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").fetchall()]
        for table in tables:
            digest.update(table.encode())
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1, 2').fetchall():
                digest.update(repr(row).encode())
    return digest.hexdigest()
