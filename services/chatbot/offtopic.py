"""Off-topic examples: questions a collection must not answer, as a second abstention rule.

The fused score alone lets through off-topic questions that share a topic with an entry ("How do I set up
OBS for streaming?" against the rule on streaming one's matches). Such a question is usually nearer one
of the off-topic examples (the bundled pool, ``data/faq/ood-pool.json``) than the entry it would get:
the collection abstains when the nearest example is closer than the answer by more than a margin tuned
on the held-out questions (``fusion.tune_off_topic_margin``). Similarities are cosines of one encoder,
the one the tuned fusion weighs most.

A collection's upload may name its own off-topic questions (``off_topic``): the operator's word that such
questions must be refused, so a question nearer one of them than its answer is refused with no margin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from services.chatbot.engines.dense import encoder_slug

FOLDS = 5  # an example asked as a tuning question is compared with the other folds' examples only
_META = "off-topic.json"


@dataclass
class OffTopicExamples:
    signal: str  # the dense signal whose encoder embedded the examples (its vectors are comparable)
    texts: list[str]
    vectors: np.ndarray  # (examples, dim), L2-normalised
    uploaded: list[bool] = field(default_factory=list)  # named by the collection's upload, else the service's

    def __post_init__(self) -> None:
        self.uploaded = list(self.uploaded) or [False] * len(self.texts)
        self._uploaded = np.array(self.uploaded, dtype=bool)

    def nearest(self, vector: np.ndarray) -> tuple[float, float]:
        """The cosine of the example nearest ``vector``, and of the nearest one the upload named (-1 when
        there is none)."""
        every, uploaded = self._nearest(self.vectors @ vector)
        return float(every), float(uploaded)

    def nearest_held_out(self, texts: list[str], vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``nearest`` for each tuning question; a question that is itself an example is compared with the
        examples outside its fold (contiguous folds, so an example's neighbours in the file, often the same
        topic asked in the other language, are left out with it): else it would find itself."""
        cos = vectors @ self.vectors.T
        fold = np.arange(len(self.texts)) * FOLDS // max(len(self.texts), 1)
        position = {t: i for i, t in enumerate(self.texts)}
        for row, text in enumerate(texts):
            if text in position:
                cos[row, fold == fold[position[text]]] = -1.0
        return self._nearest(cos)

    def _nearest(self, cos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The largest of ``cos`` (examples on its last axis): over every example, over the uploaded ones."""
        def best(values: np.ndarray) -> np.ndarray:
            return values.max(axis=-1) if values.shape[-1] else np.full(values.shape[:-1], -1.0)

        return best(cos), best(cos[..., self._uploaded])

    def save(self, folder: Path) -> None:
        meta = {"signal": self.signal, "texts": self.texts, "uploaded": self.uploaded}
        (folder / _META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        np.save(folder / f"off-topic-{encoder_slug(self.signal)}.npy", self.vectors)

    @classmethod
    def load(cls, folder: Path) -> OffTopicExamples | None:
        """The saved examples, or None for a collection saved without them."""
        if not (folder / _META).exists():
            return None
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
        vectors = np.load(folder / f"off-topic-{encoder_slug(meta['signal'])}.npy")
        return cls(meta["signal"], list(meta["texts"]), vectors, list(meta.get("uploaded", [])))
