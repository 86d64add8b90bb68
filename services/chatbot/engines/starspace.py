"""A StarSpace-style model trained on one collection: bags of features and entries embedded in one space.

Like StarSpace (Wu et al., 2017), a text is the mean of its feature embeddings (morphemes, morpheme
bigrams, character n-grams of the unspaced text) and each entry has its own embedding; training pulls a
text toward its entry and away from the others (softmax loss over all entries, cosine similarity). It
learns the collection's own vocabulary, spacing and typos from the entries and their rule-made
paraphrases, which a general sentence encoder does not know.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.chatbot.engines import Hits, Query, top_n

logger = logging.getLogger("malgeul.chatbot.starspace")


def features(text: str, terms: list[str]) -> list[str]:
    """Morphemes, morpheme bigrams and character 2/3-grams of the text without spaces (robust to spacing)."""
    out = [f"t:{t}" for t in terms]
    out += [f"b:{a}_{b}" for a, b in zip(terms, terms[1:])]
    compact = "".join(text.lower().split())
    for n in (2, 3):
        out += [f"c:{compact[i:i + n]}" for i in range(len(compact) - n + 1)]
    return out


@dataclass(frozen=True)
class StarSpaceConfig:
    dim: int = 64
    max_epochs: int = 40
    max_seconds: float = 30.0  # a large collection trains for this long at most
    batch_size: int = 128
    learning_rate: float = 0.02
    scale: float = 10.0  # cosine -> logit temperature of the softmax loss
    max_features: int = 300_000
    max_bag: int = 256  # features per text at most (long answers are cut)
    threads: int = 1  # leave the other core to queries while a collection trains


class StarSpaceSignal:
    """Cosine of the query's bag-of-features embedding to each entry's embedding."""

    name = "starspace"

    def __init__(self, vocab: dict[str, int], feature_vectors: np.ndarray, entry_vectors: np.ndarray) -> None:
        self._vocab = vocab
        self._features = feature_vectors.astype(np.float32)
        norms = np.linalg.norm(entry_vectors, axis=1, keepdims=True)
        self._entries = (entry_vectors / np.maximum(norms, 1e-9)).astype(np.float32)

    @classmethod
    def train(
        cls,
        examples: list[tuple[list[str], int]],
        entries: int,
        config: StarSpaceConfig = StarSpaceConfig(),
        seed: int = 0,
    ) -> StarSpaceSignal:
        """Train on ``(features, entry index)`` pairs; stops at ``max_epochs`` or ``max_seconds``."""
        import torch
        from torch import nn

        started = time.monotonic()
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(config.threads)
        try:
            counts: dict[str, int] = {}
            for feats, _ in examples:
                for f in feats:
                    counts[f] = counts.get(f, 0) + 1
            kept = sorted(counts, key=lambda f: -counts[f])[: config.max_features]
            vocab = {f: i for i, f in enumerate(kept)}
            rows: list[list[int]] = []
            labels: list[int] = []
            for feats, label in examples:
                ids = [vocab[f] for f in feats if f in vocab][: config.max_bag]
                if ids:
                    rows.append(ids)
                    labels.append(label)
            pad = len(vocab)  # padding rows are left out of each bag's mean
            width = max((len(r) for r in rows), default=1)
            bags_t = torch.full((len(rows), width), pad, dtype=torch.long)
            for i, ids in enumerate(rows):
                bags_t[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            generator = torch.Generator().manual_seed(seed)
            torch.manual_seed(seed)
            bag = nn.EmbeddingBag(len(vocab) + 1, config.dim, mode="mean", padding_idx=pad)
            nn.init.normal_(bag.weight, std=0.1)
            with torch.no_grad():
                bag.weight[pad].zero_()
            entry_emb = nn.Embedding(entries, config.dim)
            nn.init.normal_(entry_emb.weight, std=0.1)
            optimizer = torch.optim.Adam(list(bag.parameters()) + list(entry_emb.parameters()), lr=config.learning_rate)
            labels_t = torch.tensor(labels, dtype=torch.long)
            n = len(labels)
            epochs_done = 0
            loss = torch.zeros(())
            for _epoch in range(config.max_epochs):
                order = torch.randperm(n, generator=generator)
                for start in range(0, n, config.batch_size):
                    batch = order[start : start + config.batch_size]
                    query = nn.functional.normalize(bag(bags_t[batch]), dim=1)
                    targets = nn.functional.normalize(entry_emb.weight, dim=1)
                    loss = nn.functional.cross_entropy(config.scale * query @ targets.T, labels_t[batch])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                epochs_done += 1
                if time.monotonic() - started > config.max_seconds:
                    break
            logger.info(
                "starspace trained",
                extra={
                    "entries": entries,
                    "examples": n,
                    "features": len(vocab),
                    "epochs": epochs_done,
                    "seconds": round(time.monotonic() - started, 2),
                    "final_loss": round(float(loss.detach()), 4) if n else None,
                },
            )
            return cls(vocab, bag.weight.detach().numpy()[:pad].copy(), entry_emb.weight.detach().numpy().copy())
        finally:
            torch.set_num_threads(previous_threads)

    def embed(self, text: str, terms: list[str]) -> np.ndarray | None:
        ids = [self._vocab[f] for f in features(text, terms) if f in self._vocab]
        if not ids:
            return None
        vector = self._features[ids].mean(axis=0)
        return vector / max(float(np.linalg.norm(vector)), 1e-9)

    def search(self, query: Query, n: int) -> Hits:
        vector = self.embed(query.text, query.terms)
        if vector is None:  # nothing the collection has ever seen: no evidence at all
            return Hits.empty()
        return top_n(self._entries @ vector, n)

    def save(self, folder: Path) -> None:
        (folder / "starspace-vocab.json").write_text(json.dumps(self._vocab, ensure_ascii=False))
        np.save(folder / "starspace-features.npy", self._features.astype(np.float16))
        np.save(folder / "starspace-entries.npy", self._entries)

    @classmethod
    def load(cls, folder: Path) -> StarSpaceSignal:
        vocab = json.loads((folder / "starspace-vocab.json").read_text())
        return cls(vocab, np.load(folder / "starspace-features.npy"), np.load(folder / "starspace-entries.npy"))
