"""Training a slot model for one database: synthesize questions, link them, embed them, fit the heads.

The result is cached on disk under a key made of everything it depends on (schema, annotations,
configuration, code version), so a restart or a second test run loads it in a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from common.encoders import SentenceEncoder
from services.seq2sql.engines import IGNORE, SlotModel, make_slot_model
from services.seq2sql.linking import Linked, ValueIndex, feature_names, features, link
from services.seq2sql.program import AGGS, CONTEST_SKETCHES, GENERIC_SKETCHES, ORDERS, REFUSE, Program
from services.seq2sql.schema import Schema
from services.seq2sql.synthesis import synthesize

logger = logging.getLogger("malgeul.seq2sql.training")
CODE_VERSION = "14"
# Which heads a sketch uses; the others are not trained on its examples.
HEADS_OF = {
    "list": ("table",), "count": ("table",), "lookup": ("table", "column"), "agg": ("column", "agg"),
    "top": ("table", "column", "order"), "group_top": ("table", "column", "agg", "order"),
    "group": ("column", "agg", "group"), "having": ("table", "column", "agg"), "never": ("table", "column"),
    "most_wins": ("order",),
}
Progress = Callable[[float, str], None]


@dataclass
class LabelSpace:
    """The classes of every head for one schema."""

    sketch: list[str]
    table: list[str]
    column: list[str]
    agg: list[str]
    group: list[str]
    order: list[str]

    @classmethod
    def of(cls, schema: Schema) -> LabelSpace:
        columns = [c.ref for c in schema.all_columns()]
        return cls(
            sketch=list(GENERIC_SKETCHES) + (list(CONTEST_SKETCHES) if schema.contest else []) + [REFUSE],
            table=["none", *schema.tables], column=["none", *columns, *(f"{t}.*" for t in schema.tables)],
            agg=list(AGGS), group=["none", *columns], order=list(ORDERS),
        )

    def heads(self) -> dict[str, list[str]]:
        return asdict(self)

    def encode(self, program: Program) -> dict[str, int]:
        used = HEADS_OF.get(program.sketch, ())
        value = {"table": program.table, "column": program.column, "agg": program.agg, "group": program.group,
                 "order": program.order}
        out = {"sketch": self.sketch.index(program.sketch)}
        for head, classes in self.heads().items():
            if head == "sketch":
                continue
            out[head] = classes.index(value[head]) if head in used and value[head] in classes else IGNORE
        return out


@dataclass
class TrainConfig:
    per_sketch: int = 450
    epochs: int = 30
    slot_model: str = "mlp"
    encoder: str = "e5-small"
    seed: int = 13
    inputs: str = "both"  # 'both', or the ablations 'embedding' (no linking features) and 'links' (no encoder)

    def key(self, schema: Schema) -> str:
        raw = json.dumps([asdict(self), schema.fingerprint(), CODE_VERSION], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _select_inputs(emb: np.ndarray, feats: np.ndarray, inputs: str) -> np.ndarray:
    """The model's input row: sentence vector, linking features, or both (the ablations of docs/seq2sql.md)."""
    if inputs == "embedding":
        return emb.astype(np.float32)
    if inputs == "links":
        return feats.astype(np.float32)
    return np.concatenate([emb, feats], axis=1).astype(np.float32)


class SlotParser:
    """A trained slot model with the label space and feature layout of its schema."""

    def __init__(self, space: LabelSpace, model: SlotModel, encoder: SentenceEncoder, meta: dict[str, Any]) -> None:
        self.space = space
        self.model = model
        self.encoder = encoder
        self.meta = meta

    def inputs(self, linked: list[Linked], schema: Schema) -> np.ndarray:
        texts = [item.delexicalized for item in linked]
        emb = self.encoder.encode(texts, kind="query") if texts else np.zeros((0, self.encoder.dim))
        feats = np.stack([features(item, schema) for item in linked]) if linked else np.zeros((0, 1))
        return _select_inputs(emb, feats, self.meta.get("config", {}).get("inputs", "both"))

    def predict(self, linked: Linked, schema: Schema) -> dict[str, dict[str, float]]:
        probs = self.model.predict(self.inputs([linked], schema))
        return {head: dict(zip(classes, map(float, probs[head][0]), strict=True))
                for head, classes in self.space.heads().items()}


class EmbeddingCache:
    """Sentence vectors of synthesized questions kept on disk, so retraining re-embeds only new texts."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path is not None and path.with_suffix(".npy").exists() and path.with_suffix(".json").exists():
            try:
                texts = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
                matrix = np.load(path.with_suffix(".npy"))
                self.vectors = dict(zip(texts, matrix, strict=True))
            except (OSError, ValueError):
                self.vectors = {}

    def encode(self, encoder: SentenceEncoder, texts: list[str], report: Callable[[float], None]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        for i in range(0, len(missing), 128):
            batch = missing[i:i + 128]
            self.vectors.update(zip(batch, encoder.encode(batch, kind="query"), strict=True))
            report(min(1.0, (i + 128) / len(missing)))
        if missing and self.path is not None:
            keys = list(self.vectors)
            np.save(self.path.with_suffix(".npy"), np.stack([self.vectors[k] for k in keys]))
            self.path.with_suffix(".json").write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8")
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, encoder.dim), np.float32)


def model_path(directory: Path, name: str, key: str) -> Path:
    return directory / f"{name}-{key}.pt"


def train_parser(schema: Schema, index: ValueIndex, encoder: SentenceEncoder, config: TrainConfig,
                 progress: Progress | None = None, default_year: int | None = None,
                 embedding_cache: Path | None = None) -> SlotParser:
    """Synthesize, link, embed and fit; ``progress(fraction, stage)`` is called along the way."""
    report = progress or (lambda fraction, stage: None)
    started = time.monotonic()
    report(0.02, "synthesizing questions")
    examples = synthesize(schema, index, config.per_sketch, seed=config.seed)
    space = LabelSpace.of(schema)
    report(0.08, "linking questions to the schema and values")
    linked = [link(e.question, schema, index, default_year) for e in examples]
    feats = np.stack([features(item, schema) for item in linked])
    texts = [item.delexicalized for item in linked]
    cache = EmbeddingCache(embedding_cache)
    vectors = cache.encode(encoder, texts, lambda f: report(0.1 + 0.7 * f, "embedding questions"))
    x = _select_inputs(vectors, feats, config.inputs)
    encoded = [space.encode(e.program) for e in examples]
    labels = {head: np.array([row[head] for row in encoded]) for head in space.heads()}
    sizes = {head: len(classes) for head, classes in space.heads().items()}
    report(0.82, "training the slot model")
    torch.set_num_threads(1)  # a tiny net: one thread avoids OpenMP spin-waiting on a busy machine
    model = make_slot_model(config.slot_model, epochs=config.epochs)
    fit = model.fit(x, labels, sizes)
    seconds = time.monotonic() - started
    meta = {"examples": len(examples), "train_seconds": round(seconds, 1), "fit": fit, "config": asdict(config),
            "features": feature_names(schema)}
    logger.info("trained slot model", extra={"examples": len(examples), "seconds": round(seconds, 1)})
    report(1.0, "ready")
    return SlotParser(space, model, encoder, meta)


def save_parser(parser: SlotParser, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"space": asdict(parser.space), "model": parser.model.state(), "meta": parser.meta}, tmp)
    tmp.replace(path)  # atomic: a crash never leaves half a model behind


def load_parser(path: Path, encoder: SentenceEncoder) -> SlotParser:
    torch.set_num_threads(1)  # one question at a time through a tiny net
    data = torch.load(path, map_location="cpu", weights_only=False)
    model = make_slot_model(data["model"]["kind"])
    model.load_state(data["model"])
    return SlotParser(LabelSpace(**data["space"]), model, encoder, data["meta"])
