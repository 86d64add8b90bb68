"""Fixtures shared by every test: a per-run var/ folder and real service processes on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.processes import REPO_ROOT, ServiceProcess

# Trained models and other slow artifacts are built once per checkout and reused by later runs.
CACHE_DIR = REPO_ROOT / "var" / "test-cache"
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave files a person may want to look at (screenshots, audio, logs)."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    return CACHE_DIR


LaunchService = Callable[..., ServiceProcess]


@pytest.fixture(scope="session")
def launch_service(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[LaunchService]:
    """Start ``malgeul serve NAME`` with extra environment; every process is stopped at the end of the run."""
    started: list[ServiceProcess] = []
    log_dir = artifacts_dir / "logs"
    log_dir.mkdir(exist_ok=True)

    def launch(
        name: str,
        env: dict[str, str] | None = None,
        *,
        ready: bool = False,
        wait: float = 120.0,
        asgi_app: str | None = None,
    ) -> ServiceProcess:
        env = dict(env or {})
        env.setdefault("MALGEUL_VAR_DIR", str(tmp_path_factory.mktemp(f"var-{name}")))
        process = ServiceProcess(name, env, log_dir, asgi_app=asgi_app)
        started.append(process)
        return process.start(wait=wait, ready=ready)

    yield launch
    for process in started:
        process.stop()
