"""A short mixed load through the gateway (FAQ, SQL, speech, transcription, OCR at once) answers every request
(the bounded version of `make load`; the 32-client, 60 s figures are in docs/reliability.md)."""

from __future__ import annotations

import asyncio

from reliability.load import run_load
from reliability.stack import Stack


def test_mixed_load_answers_every_request(stack: Stack) -> None:
    result = asyncio.run(run_load(stack, clients=10, seconds=9.0, warmup=3.0))
    print(result.report)
    assert result.errors == 0, result.report
    assert all(route.count > 0 for route in result.routes), result.report  # every feature was exercised
    # Memory is judged by the full run (60 s): in a few seconds the services' worker pools are still warming up.
