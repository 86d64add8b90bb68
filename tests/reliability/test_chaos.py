"""A crashed service under load: quick 503s for its routes, the others unharmed, the launcher restarts it and the
gateway serves it again (the bounded version of `make chaos`; the full run is in docs/reliability.md)."""

from __future__ import annotations

import asyncio
import time

import httpx

from reliability.chaos import MAX_503_SECONDS, MAX_RECOVERY_SECONDS, kill_and_recover
from reliability.stack import Stack
from reliability.workload import Clients, Workload, figures, session

# The service killed here; the full chaos run kills each in turn.
VICTIM = "seq2sql"


async def _kill_under_load(stack: Stack):
    async with session() as http:
        workload = await Workload.prepare(http, stack.url, screens=1)
        runner = Clients(http, stack.url, workload)
        runner.start(5)  # one client per feature
        await asyncio.sleep(1.0)
        started = time.monotonic()
        await asyncio.sleep(8.0)
        baseline = {r.route: r.p50 for r in figures(runner.between(started, time.monotonic()), 8.0) if r.count}
        result = await kill_and_recover(stack, http, runner, VICTIM, baseline)
        await runner.stop()
    return result


def test_killed_service_answers_503_quickly_and_comes_back(stack: Stack) -> None:
    result = asyncio.run(_kill_under_load(stack))
    report = "\n".join(result.lines() + result.failures)
    print(report)
    assert result.outage_statuses.get(503), "no request saw the service down"
    assert result.max_503_seconds <= MAX_503_SECONDS, report
    assert result.restarted_pid, "the launcher did not restart the killed service"
    assert result.recovery <= MAX_RECOVERY_SECONDS, report
    assert all(errors == 0 for _, _, _, errors in result.others.values()), report  # the others unharmed
    assert not result.failures, report
    # Left as found: every service ready for the tests that follow.
    assert httpx.get(stack.url + "/readyz", timeout=5).status_code == 200
