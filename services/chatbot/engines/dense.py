"""Dense retrieval: a multilingual sentence encoder over every question, alt question and answer of a collection.

The encoder itself comes from ``common.encoders`` (USE multilingual, multilingual-e5-small, or any
sentence-transformers model by path); this engine owns the vectors of one collection and their index.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from common.encoders import Kind, SentenceEncoder
from services.chatbot.engines import Hits, Query, top_n

logger = logging.getLogger("malgeul.chatbot.dense")

# How much of the cosine to an entry's answer is added to the cosine to its closest text, per encoder. USE
# ties a question to other phrasings of it poorly and to its answer well: alone it ranked the right entry
# of the question's language first for 22 of the dev set's 30 tune questions, 27 with its answer's cosine
# added (0.69 -> 0.76 on the 115 test questions). e5 gained nothing (29 -> 30 tune, 105 -> 103 test).
ANSWER_WEIGHT = {"use-multilingual": 1.0}
SIGNAL_PREFIX = "dense:"  # a dense signal is named after its encoder: "dense:e5-tuned"


def signal_name(encoder_name: str) -> str:
    """The name of ``encoder_name``'s dense signal, by which saved collections and fusion weights key it."""
    return SIGNAL_PREFIX + encoder_name


def encoder_slug(name: str) -> str:
    """A file-name-safe form of an encoder name (``sentence-transformers:/a/b`` -> ``sentence-transformers-a-b``)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:80]


def encode_in_batches(encoder: SentenceEncoder, texts: list[str], kind: Kind, batch: int = 32) -> np.ndarray:
    """Encode many texts in small batches so a query waiting for the encoder's lock is not stalled for long."""
    parts = [encoder.encode(texts[i : i + batch], kind=kind) for i in range(0, len(texts), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)


class VectorIndex:
    """Inner-product search over unit vectors, by exact matrix product or, past ``hnsw_above`` rows, HNSW (faiss).

    Exact search costs one (rows x dim) product per query: about 1 ms per 10,000 rows of 512-d here,
    so it stays exact until collections are large; HNSW answers in well under a millisecond at any size.
    """

    def __init__(self, vectors: np.ndarray, hnsw_above: int) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._hnsw = None
        if len(vectors) > hnsw_above:
            import faiss  # only large collections need it

            index = faiss.IndexHNSWFlat(self.vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 128
            index.add(self.vectors)
            self._hnsw = index

    @property
    def kind(self) -> str:
        return "hnsw" if self._hnsw is not None else "exact"

    def scores_or_top(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """All row scores (exact), or the ``n`` best rows and their scores (HNSW)."""
        if self._hnsw is None:
            return self.vectors @ vector, None
        scores, rows = self._hnsw.search(vector[None, :].astype(np.float32), n)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]


class DenseSignal:
    """Cosine similarity of the query to each entry's closest text (question, alt question or answer), plus
    ``answer_weight`` times its cosine to the entry's answer, which is the entry's last row."""

    def __init__(
        self,
        encoder: SentenceEncoder,
        vectors: np.ndarray,
        row_entry: np.ndarray,
        entries: int,
        hnsw_above: int,
        answer_weight: float = 0.0,
    ) -> None:
        self.encoder = encoder
        self.name = signal_name(encoder.name)
        self.row_entry = row_entry.astype(np.int64)
        self.entries = entries
        self.index = VectorIndex(vectors, hnsw_above)
        self.answer_weight = answer_weight
        # Rows are grouped by entry, so an entry's best row is one reduceat over the row scores.
        self._starts = np.searchsorted(self.row_entry, np.arange(entries))
        self._answers = np.append(self._starts[1:], len(self.row_entry)) - 1

    @property
    def encoder_threads(self) -> int:
        """How many threads the encoder takes for one query when the cores are free (e5: 2; the others: 1)."""
        return int(getattr(self.encoder, "query_threads", 1))

    @classmethod
    def build(
        cls,
        encoder: SentenceEncoder,
        texts: list[str],
        kinds: list[Kind],
        row_entry: np.ndarray,
        entries: int,
        hnsw_above: int,
        answer_weight: float = 0.0,
    ) -> DenseSignal:
        """``texts[r]`` belongs to entry ``row_entry[r]`` (non-decreasing, each entry's answer last);
        ``kinds[r]`` is query or passage."""
        vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        for kind in ("query", "passage"):
            rows = [r for r, k in enumerate(kinds) if k == kind]
            if rows:
                vectors[rows] = encode_in_batches(encoder, [texts[r] for r in rows], kind)
        return cls(encoder, vectors, row_entry, entries, hnsw_above, answer_weight)

    def search(self, query: Query, n: int) -> Hits:
        vector = self.encoder.encode([query.text], kind="query")[0]
        return self.search_vector(vector, n)

    def search_vector(self, vector: np.ndarray, n: int) -> Hits:
        scores, rows = self.index.scores_or_top(vector, max(n * 4, 64))
        if rows is None:
            per_entry = np.maximum.reduceat(scores, self._starts) if self.entries else scores[:0]
            if self.answer_weight:
                per_entry = per_entry + self.answer_weight * scores[self._answers]
            return top_n(per_entry, n)
        best: dict[int, float] = {}
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            entry = int(self.row_entry[row])
            if entry not in best:  # rows come best first
                best[entry] = score
        entries = np.fromiter(best.keys(), dtype=np.int64, count=len(best))
        found = np.fromiter(best.values(), dtype=np.float32, count=len(best))
        if self.answer_weight and entries.size:
            found = found + self.answer_weight * (self.index.vectors[self._answers[entries]] @ vector)
            order = np.argsort(-found, kind="stable")
            entries, found = entries[order], found[order]
        return Hits(entries[:n], found[:n].astype(np.float32))

    def entry_score(self, vector: np.ndarray, entry: int) -> float:
        """The raw score ``search_vector`` gives ``entry``, computed for that entry alone."""
        start, answer = int(self._starts[entry]), int(self._answers[entry])
        cos = self.index.vectors[start : answer + 1] @ vector
        return float(cos.max() + self.answer_weight * cos[-1])

    def save(self, folder: Path) -> None:
        slug = encoder_slug(self.encoder.name)
        np.save(folder / f"dense-{slug}.npy", self.index.vectors)
        np.save(folder / "dense-row-entry.npy", self.row_entry)

    @classmethod
    def load(
        cls, folder: Path, encoder: SentenceEncoder, entries: int, hnsw_above: int, answer_weight: float = 0.0
    ) -> DenseSignal | None:
        """The saved vectors of ``encoder``, or None when they were made by another encoder (rebuild then)."""
        path = folder / f"dense-{encoder_slug(encoder.name)}.npy"
        if not path.exists():
            return None
        vectors = np.load(path)
        if vectors.shape[1] != encoder.dim:
            return None
        row_entry = np.load(folder / "dense-row-entry.npy")
        return cls(encoder, vectors, row_entry, entries, hnsw_above, answer_weight)
