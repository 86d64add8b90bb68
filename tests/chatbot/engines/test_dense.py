"""The vector index: exact search below the line, HNSW (faiss) above it, with the same answers; how an
entry's texts make its score."""

import numpy as np
import pytest

from common.encoders import UseEncoder
from services.chatbot.engines.dense import DenseSignal, VectorIndex


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


@pytest.fixture(scope="module")
def use() -> UseEncoder:
    return UseEncoder()


@pytest.mark.parametrize("hnsw_above", [10_000, 0], ids=["exact", "hnsw"])
def test_an_entry_whose_answer_fits_beats_a_look_alike_question(use: UseEncoder, hnsw_above: int) -> None:
    # Rows: entry 0's question (cosine 0.9 to the query) and an answer about something else (0.0); entry 1's
    # question (0.85) and an answer that fits (0.8). Each entry's answer is its last row.
    rows = np.array([[0.9, 0.436, 0], [0, 0, 1], [0.85, 0.527, 0], [0.8, 0, 0.6]], dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    row_entry = np.array([0, 0, 1, 1])
    query = np.array([1, 0, 0], dtype=np.float32)

    closest_text = DenseSignal(use, rows, row_entry, 2, hnsw_above).search_vector(query, 2)
    assert closest_text.entries.tolist() == [0, 1]
    with_answers = DenseSignal(use, rows, row_entry, 2, hnsw_above, answer_weight=1.0).search_vector(query, 2)
    assert with_answers.entries.tolist() == [1, 0]
    assert np.allclose(with_answers.scores, [0.85 + 0.8, 0.9], atol=1e-3)
