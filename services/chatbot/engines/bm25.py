"""BM25 over Korean morphemes and English words: exact-term evidence the sentence encoders blur."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse

from services.chatbot.engines import Hits, Query, top_n


class Bm25Signal:
    """Okapi BM25 with precomputed term weights: a query is one sparse column sum."""

    name = "bm25"

    def __init__(self, vocab: dict[str, int], weights: sparse.csc_matrix) -> None:
        self._vocab = vocab
        self._weights = weights  # entries x terms, already BM25-weighted

    @classmethod
    def build(cls, documents: list[list[str]], k1: float = 1.2, b: float = 0.75) -> Bm25Signal:
        """``documents[i]`` is the term list of entry ``i`` (its questions and answer)."""
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.array([max(len(d), 1) for d in documents], dtype=np.float64)
        for i, doc in enumerate(documents):
            for term, tf in Counter(doc).items():
                rows.append(i)
                cols.append(vocab.setdefault(term, len(vocab)))
                tfs.append(tf)
        n = len(documents)
        tf_matrix = sparse.csr_matrix((np.array(tfs, dtype=np.float64), (rows, cols)), shape=(n, len(vocab)))
        df = np.bincount(np.array(cols, dtype=np.int64), minlength=len(vocab)).astype(np.float64)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        avgdl = float(lengths.mean()) if n else 1.0
        coo = tf_matrix.tocoo()
        norm = k1 * (1 - b + b * lengths[coo.row] / avgdl)
        values = idf[coo.col] * coo.data * (k1 + 1) / (coo.data + norm)
        weights = sparse.csc_matrix((values.astype(np.float32), (coo.row, coo.col)), shape=tf_matrix.shape)
        return cls(vocab, weights)

    def search(self, query: Query, n: int) -> Hits:
        ids = [self._vocab[t] for t in set(query.terms) if t in self._vocab]
        if not ids:
            return Hits.empty()
        scores = np.asarray(self._weights[:, ids].sum(axis=1)).ravel()
        return top_n(scores, n, positive_only=True)

    def save(self, folder: Path) -> None:
        (folder / "bm25-vocab.json").write_text(json.dumps(self._vocab, ensure_ascii=False))
        sparse.save_npz(folder / "bm25-weights.npz", self._weights.tocsr())

    @classmethod
    def load(cls, folder: Path) -> Bm25Signal:
        vocab = json.loads((folder / "bm25-vocab.json").read_text())
        return cls(vocab, sparse.load_npz(folder / "bm25-weights.npz").tocsc())

