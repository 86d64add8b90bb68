"""The bad-file corpus (reliability/badfiles.py) against every upload route of the running product: each file
gets a clean problem+json 4xx in bounded time and memory, and the service it hit is the same process and
ready afterwards. `make fuzz` runs the same corpus and prints its figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability import badfiles
from reliability.stack import Stack

# The quick selection: every file to every route, except the 50 MB bodies and the valid odd audio, which go
# to one route per service (`make fuzz` sends all of them everywhere).
CASES = list(badfiles.cases(quick=True))
PARAMS = [
    pytest.param(item, route, id=f"{item.name}->{route.name}",
                 marks=[pytest.mark.xfail(strict=True, reason=badfiles.KNOWN_BUGS[(item.name, route.name)])]
                 if (item.name, route.name) in badfiles.KNOWN_BUGS else [])
    for item, route in CASES
]


def test_the_corpus_covers_what_issue_8_lists() -> None:
    names = {item.name for item in badfiles.CORPUS}
    for wanted in ("png-truncated", "png-corrupt", "jpeg-truncated", "jpeg-corrupt", "webp-truncated", "webp-corrupt",
                   "png-bomb-50000x50000", "png-1x1", "png-20000x20000", "wav-empty", "random-bytes", "wav-float64",
                   "flac-2-hours", "png-named-wav", "csv-broken-quoting", "json-nested-10000-list", "body-50mb",
                   "json-invalid-utf8"):
        assert wanted in names
    # Every upload route gets files.
    assert {route.name for _, route in CASES} == {route.name for route in badfiles.ROUTES}


def test_the_bombs_are_small_on_the_wire_and_huge_when_decoded(cache_dir: Path) -> None:
    bomb = next(item for item in badfiles.CORPUS if item.name == "png-bomb-50000x50000")
    data = badfiles.load(bomb, cache_dir / "badfiles")
    assert len(data) < 1024 * 1024 and data[16:24] == (50_000).to_bytes(4, "big") * 2


@pytest.fixture(scope="module")
def service_log_during_run(stack: Stack) -> dict[str, str]:
    """What the product logged while the corpus was sent (filled by ``outcomes``)."""
    return {}


@pytest.fixture(scope="module")
def outcomes(
    stack: Stack, cache_dir: Path, service_log_during_run: dict[str, str]
) -> dict[tuple[str, str], badfiles.Outcome]:
    start = stack.log_path.stat().st_size
    results, _ = badfiles.run(
        stack.url,
        lambda: {name: process.pid for name, process in stack.processes().items()},
        stack.rss_bytes,
        cache=cache_dir / "badfiles",
        selected=CASES,
    )
    with stack.log_path.open("rb") as log:
        log.seek(start)
        service_log_during_run["text"] = log.read().decode(errors="replace")
    return {(o.item, o.route): o for o in results}


@pytest.mark.parametrize(("item", "route"), PARAMS)
def test_bad_file_gets_a_clean_4xx_and_the_service_stays_up(
    outcomes: dict[tuple[str, str], badfiles.Outcome], item: badfiles.BadFile, route: badfiles.UploadRoute
) -> None:
    outcome = outcomes[(item.name, route.name)]
    assert outcome.ok, outcome.problems


def test_no_bad_file_makes_a_service_log_an_unhandled_error(
    outcomes: dict[tuple[str, str], badfiles.Outcome], service_log_during_run: dict[str, str]
) -> None:
    """A refused file is the client's mistake: a 4xx and an info line, never an error with a stack trace (a
    client hanging up mid-upload, as the gateway does past the limit, was logged as one)."""
    lines = service_log_during_run["text"].splitlines()
    # Errors while serving a request carry its id (background work of a service is not this test's business).
    errors = [line for line in lines if '"level": "error"' in line and '"request_id"' in line]
    assert not errors, "\n".join(line[:300] for line in errors[:5])
