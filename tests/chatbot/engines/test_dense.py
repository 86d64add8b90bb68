"""The vector index: exact search below the line, HNSW (faiss) above it, with the same answers."""

import numpy as np

from services.chatbot.engines.dense import VectorIndex


def test_hnsw_agrees_with_exact_search() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact = VectorIndex(vectors, hnsw_above=10_000)
    approx = VectorIndex(vectors, hnsw_above=1000)
    assert exact.kind == "exact" and approx.kind == "hnsw"
    agree = 0
    for i in range(50):
        query = vectors[i] + rng.normal(scale=0.05, size=64).astype(np.float32)
        query /= np.linalg.norm(query)
        scores, rows = exact.scores_or_top(query, 10)
        top_scores, top_rows = approx.scores_or_top(query, 10)
        agree += int(np.argmax(scores) == top_rows[0])
    assert agree >= 48
