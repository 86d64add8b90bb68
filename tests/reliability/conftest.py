"""Fixtures of the reliability tests: one running product (`malgeul up` on free ports) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability.stack import Stack


@pytest.fixture(scope="session")
def stack(cache_dir: Path, artifacts_dir: Path) -> Iterator[Stack]:
    """The whole product, started once; prepared artifacts (FAQ, demo DB, SQL model) are kept in the test cache."""
    logs = artifacts_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with Stack(var_dir=cache_dir / "reliability", log_path=logs / "reliability-stack.log") as running:
        yield running
