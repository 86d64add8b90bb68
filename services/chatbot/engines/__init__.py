"""Retrieval engines of the FAQ chatbot, one file each, behind the Protocols below.

- ``dense.py``: a sentence encoder from ``common.encoders`` over every question, alt question and answer
- ``bm25.py``: BM25 over Korean morphemes and English words
- ``starspace.py``: a StarSpace-style bag-of-features model trained on the collection itself
- ``kiwi_analyzer.py``: the Korean morpheme analyzer the lexical engines share
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from services.chatbot.engines.kiwi_analyzer import Lexicon, Noun


class Analyzer(Protocol):
    """Text -> index terms (Korean morphemes, lower-cased English words)."""

    name: str

    def terms(self, text: str) -> list[str]: ...

    def terms_many(self, texts: list[str], lexicon: Lexicon | None = None) -> list[list[str]]:
        """The terms of each text; with ``lexicon``, the texts' words are added to it."""
        ...

    def query(self, text: str) -> tuple[list[str], list[Noun]]:
        """A question's terms and its Korean nouns."""
        ...

    def noun_score(self, word: str) -> float | None:
        """How common ``word`` is as a noun (a log probability), or None when it does not read as one."""
        ...


@dataclass
class Query:
    """One question, with the analysis every engine shares computed once."""

    text: str
    terms: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Hits:
    """The best entries of one engine for one query: entry indexes, best first, and their raw scores."""

    entries: np.ndarray  # int, entry indexes into the collection
    scores: np.ndarray  # float, higher is better; the scale is the engine's own

    @staticmethod
    def empty() -> Hits:
        return Hits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


class Signal(Protocol):
    """One retrieval engine built for one collection: ranks its entries for a query."""

    name: str

    def search(self, query: Query, n: int) -> Hits: ...

    def save(self, folder: Path) -> None: ...


def top_n(scores: np.ndarray, n: int, *, positive_only: bool = False) -> Hits:
    """The ``n`` best of one score per entry, best first."""
    if scores.size == 0:
        return Hits.empty()
    n = min(n, scores.size)
    idx = np.argpartition(-scores, n - 1)[:n] if n < scores.size else np.arange(scores.size)
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    if positive_only:
        idx = idx[scores[idx] > 0]
    return Hits(idx.astype(np.int64), scores[idx].astype(np.float32))
