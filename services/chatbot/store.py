"""Every collection of the service: the versions answering now, saved under var/, rebuilt in the background.

A new version is built in a background thread while the current one keeps answering; when it is ready
it is saved to ``<root>/<name>/<version>/``, ``<root>/<name>/CURRENT`` is switched with an atomic
rename, and the in-memory reference is swapped. A crash at any point leaves the previous version
whole on disk. Builds run one at a time (they are CPU-heavy and the machine has few cores).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from services.chatbot.collection import Engines, FaqCollection, content_version
from services.chatbot.schemas import CollectionInfo, FaqEntry

logger = logging.getLogger("malgeul.chatbot.store")

Builder = Callable[..., FaqCollection]  # (name, entries, finetune=True, off_topic=()) -> a built collection
QUICK_SUFFIX = "-base"  # version of the quick first build: the base e5, before fine-tuning


@dataclass(frozen=True)
class Saved:
    """A saved collection to rebuild: its name and what it was uploaded with."""

    name: str
    entries: list[FaqEntry]
    off_topic: list[str]


@dataclass(frozen=True)
class BuildTicket:
    """A submitted version: its id, entry count and the future that completes when it answers."""

    collection: str
    version: str
    entries: int
    future: Future

    @property
    def info(self) -> CollectionInfo:
        return CollectionInfo(collection=self.collection, entries=self.entries, version=self.version)


class CollectionStore:
    """Collections by name; reads are lock-free snapshots, writes are serialised."""

    def __init__(self, root: Path, engines: Engines, builder: Builder) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.engines = engines
        self._builder = builder
        self._serving: dict[str, FaqCollection] = {}
        self._pending: dict[str, str] = {}  # name -> version being built (the latest PUT wins)
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faq-build")

    # Reading

    def get(self, name: str) -> FaqCollection | None:
        return self._serving.get(name)

    def is_building(self, name: str) -> bool:
        return name in self._pending

    def infos(self) -> list[CollectionInfo]:
        return [
            CollectionInfo(collection=c.name, entries=len(c.entries), version=c.version)
            for c in sorted(self._serving.values(), key=lambda c: c.name)
        ]

    # Writing

    def submit(
        self,
        name: str,
        entries: list[FaqEntry],
        builder: Builder | None = None,
        off_topic: Sequence[str] = (),
    ) -> BuildTicket:
        """Start building a new version of ``name`` (``off_topic``: the upload's off-topic questions); the
        current version answers until it is ready."""
        version = content_version(entries, self.engines, off_topic)
        with self._lock:
            current = self._serving.get(name)
            if current is not None and current.version == version and name not in self._pending:
                done: Future = Future()
                done.set_result(current)
                return BuildTicket(name, version, len(entries), done)  # unchanged: nothing to build
            self._pending[name] = version
        future = self._executor.submit(
            self._build, name, version, entries, builder or self._builder, list(off_topic)
        )
        return BuildTicket(name, version, len(entries), future)

    def _build(
        self, name: str, version: str, entries: list[FaqEntry], builder: Builder, off_topic: list[str]
    ) -> FaqCollection | None:
        with self._lock:
            if self._pending.get(name) != version:
                return None  # superseded by a newer PUT or deleted before it started
            first = name not in self._serving
        if first and self._fine_tunes():
            # Nothing answers for this name yet: a quick version with the base e5 answers while fine-tuning runs.
            try:
                quick = builder(name, entries, finetune=False, off_topic=off_topic)
                quick.version = version + QUICK_SUFFIX
                with self._lock:
                    if self._pending.get(name) != version:
                        return None
                    self._install(quick)
            except Exception:
                logger.exception("quick build failed; going on with the full one", extra={"collection": name})
        try:
            collection = builder(name, entries, off_topic=off_topic)
        except Exception:
            logger.exception("collection build failed", extra={"collection": name, "version": version})
            with self._lock:
                if self._pending.get(name) == version:
                    del self._pending[name]
            raise
        with self._lock:
            if self._pending.get(name) != version:
                logger.info("build discarded: superseded", extra={"collection": name, "version": version})
                return None
            self._install(collection)
            del self._pending[name]
        return collection

    def _fine_tunes(self) -> bool:
        config = self.engines.finetune
        return config is not None and config.max_steps > 0 and any(getattr(e, "name", "") == "e5-tuned" for e in self.engines.encoders)

    def _install(self, collection: FaqCollection) -> None:
        folder = self.root / collection.name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / collection.version
        if not target.exists():
            staging = folder / f".staging-{uuid.uuid4().hex}"
            collection.save(staging)
            os.replace(staging, target)
        pointer = folder / f".CURRENT-{uuid.uuid4().hex}"
        pointer.write_text(collection.version)
        os.replace(pointer, folder / "CURRENT")  # the switch on disk: one atomic rename
        self._serving[collection.name] = collection  # the switch in memory: one reference
        for old in folder.iterdir():
            if old.name not in (collection.version, "CURRENT") and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        logger.info(
            "collection installed",
            extra={"collection": collection.name, "version": collection.version, "entries": len(collection.entries)},
        )

    def delete(self, name: str) -> bool:
        """Forget ``name`` (and cancel a build of it); False when there was nothing to delete."""
        with self._lock:
            existed = self._serving.pop(name, None) is not None
            existed = self._pending.pop(name, None) is not None or existed
            folder = self.root / name
            if folder.exists():
                trash = self.root / f".deleted-{name}-{uuid.uuid4().hex}"
                os.replace(folder, trash)
                shutil.rmtree(trash, ignore_errors=True)
                existed = True
        if existed:
            logger.info("collection deleted", extra={"collection": name})
        return existed

    # Start-up

    def load_saved(self, engines_for: Callable[[list[str]], Engines | None] | None = None) -> list[Saved]:
        """Load every saved collection; returns those to rebuild (saved with other engines, by an older
        release or not fine-tuned yet), with what they were uploaded with.

        ``engines_for`` gives the engines a collection was saved with (None when they cannot load): such a
        collection answers with them until its rebuild with the current engines is live.
        """
        stale: list[Saved] = []
        for leftover in self.root.glob(".deleted-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for leftover in folder.glob(".staging-*"):
                shutil.rmtree(leftover, ignore_errors=True)  # a build interrupted by a crash
            try:
                version = (folder / "CURRENT").read_text().strip()
                collection = FaqCollection.load(folder / version, self.engines)
                why = None if collection is None else self._rebuild_reason(version, collection)
                if collection is not None and why is not None:
                    self._serving[collection.name] = collection  # answers now, until its rebuild is live
                    stale.append(Saved(folder.name, collection.entries, collection.uploaded_off_topic))
                    logger.info("saved collection answers while it is rebuilt", extra={"collection": folder.name, "why": why})
                    continue
                if collection is None:
                    saved = folder / version
                    entries = FaqCollection.load_entries(saved)
                    stale.append(Saved(folder.name, entries, FaqCollection.load_uploaded_off_topic(saved)))
                    previous = self._load_with_own_engines(folder / version, engines_for)
                    if previous is not None:
                        self._serving[previous.name] = previous
                    logger.info(
                        "saved collection built with other engines: rebuilding",
                        extra={"collection": folder.name, "answers_meanwhile": previous is not None},
                    )
                    continue
                self._serving[collection.name] = collection
                logger.info("collection loaded", extra={"collection": collection.name, "version": version, "entries": len(collection.entries)})
            except Exception:
                logger.exception("cannot load a saved collection; skipped", extra={"collection": folder.name})
        return stale

    def _rebuild_reason(self, version: str, collection: FaqCollection) -> str | None:
        """Why a collection that loads with the current engines is built again, or None."""
        if version.endswith(QUICK_SUFFIX):
            return "not fine-tuned yet" if self._fine_tunes() else None
        current = content_version(collection.entries, self.engines, collection.uploaded_off_topic)
        if collection.version != current:
            return "built by an older release"
        return None

    @staticmethod
    def _load_with_own_engines(folder: Path, engines_for: Callable[[list[str]], Engines | None] | None) -> FaqCollection | None:
        if engines_for is None:
            return None
        try:
            engines = engines_for(FaqCollection.saved_engines(folder))
            return None if engines is None else FaqCollection.load(folder, engines)
        except Exception:
            logger.exception("cannot load a collection with the engines it was saved with", extra={"folder": str(folder)})
            return None

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
