"""Exact vs HNSW search of one query over a collection's vectors, at 1,000 to 30,000 entries.

Random unit vectors stand in for the texts (3 per entry: question, alt question, answer); the figure
is the search alone, per encoder (USE 512-d, e5 384-d), with one BLAS thread as the service runs.

    .venv/bin/python bench/chatbot/bench_index.py [--entries 1000,10000,30000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services.chatbot.engines.dense import VectorIndex  # noqa: E402


def per_query_ms(index: VectorIndex, queries: np.ndarray) -> float:
    for q in queries[:5]:
        index.scores_or_top(q, 60)
    started = time.perf_counter()
    for q in queries:
        index.scores_or_top(q, 60)
    return (time.perf_counter() - started) / len(queries) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="1000,10000,30000")
    args = parser.parse_args()
    threadpool_limits(1)
    rng = np.random.default_rng(0)
    print("entries | texts | dim | exact ms/query | hnsw ms/query | hnsw build s | hnsw recall@1")
    for entries in [int(n) for n in args.entries.split(",")]:
        texts = entries * 3
        for dim in (512, 384):
            vectors = rng.normal(size=(texts, dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            queries = vectors[rng.integers(0, texts, 200)] + rng.normal(scale=0.03, size=(200, dim)).astype(np.float32)
            queries /= np.linalg.norm(queries, axis=1, keepdims=True)
            exact = VectorIndex(vectors, hnsw_above=10**9)
            started = time.perf_counter()
            hnsw = VectorIndex(vectors, hnsw_above=0)
            build = time.perf_counter() - started
            recall = np.mean([np.argmax(exact.scores_or_top(q, 60)[0]) == hnsw.scores_or_top(q, 60)[1][0] for q in queries])
            print(
                f"{entries:>7} | {texts:>6} | {dim} | {per_query_ms(exact, queries):6.2f} | {per_query_ms(hnsw, queries):6.2f} | "
                f"{build:6.1f} | {recall:.3f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
