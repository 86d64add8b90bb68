"""Benchmark of the text-to-SQL assistant: cold training time, and question latency in process and over HTTP.

    .venv/bin/python bench/seq2sql/bench_seq2sql.py                 # latency over the dev questions (cached model)
    .venv/bin/python bench/seq2sql/bench_seq2sql.py --cold          # + training from scratch (no model or embedding cache)
    .venv/bin/python bench/seq2sql/bench_seq2sql.py --http URL      # latency through a running service (or the gateway)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common.encoders import load_encoder  # noqa: E402
from common.matchdb import make_engine  # noqa: E402
from services.seq2sql.assistant import CannotAnswer  # noqa: E402
from services.seq2sql.config import Seq2SqlSettings  # noqa: E402
from services.seq2sql.databases import Registered, build_assistant, default_annotations  # noqa: E402
from services.seq2sql.evaluation import load_dev  # noqa: E402
from services.seq2sql.seed import seed_demo  # noqa: E402


def _percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[int(0.95 * (len(samples) - 1))]
    return f"p50 {statistics.median(samples):.0f} ms, p95 {p95:.0f} ms, max {samples[-1]:.0f} ms (n={len(samples)})"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", action="store_true", help="train from scratch in a fresh model folder")
    parser.add_argument("--http", help="base URL of a running service or gateway")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    questions = [item.question for item in load_dev("matches")]
    if args.http:
        import httpx

        with httpx.Client(base_url=args.http, timeout=30) as client:
            client.post("/v1/sql/ask", json={"question": questions[0]})
            samples = []
            for _ in range(args.rounds):
                for question in questions:
                    started = time.perf_counter()
                    client.post("/v1/sql/ask", json={"question": question})
                    samples.append((time.perf_counter() - started) * 1000)
        print(f"HTTP /v1/sql/ask latency: {_percentiles(samples)}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="seq2sql-bench-"))
    overrides = {"model_dir": work / "models"} if args.cold else {}
    settings = Seq2SqlSettings(**overrides)
    url = f"sqlite:///{work / 'matches.sqlite'}"
    engine = make_engine(url)
    seed_demo(engine, force=True)
    engine.dispose()
    encoder = load_encoder(settings.encoder)
    entry = Registered("matches", url, default_annotations(settings))
    started = time.perf_counter()
    assistant = build_assistant(entry, settings, encoder)
    label = "cold training" if args.cold else "model load (cached)"
    print(f"{label}: {time.perf_counter() - started:.1f} s wall; recorded training time "
          f"{entry.meta.get('train_seconds')} s on {entry.meta.get('examples')} synthesized questions")
    samples = []
    for _ in range(args.rounds):
        for question in questions:
            started = time.perf_counter()
            try:
                assistant.ask(question)
            except CannotAnswer:
                pass
            samples.append((time.perf_counter() - started) * 1000)
    print(f"in-process ask latency: {_percentiles(samples)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
