"""Registered databases: the built-in match database plus any the user registers, each with its own
trained slot model. Training runs in one background thread (one job at a time on a shared machine)
and reports progress; trained models are cached on disk by a hash of what they depend on."""

from __future__ import annotations

import json
import logging
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from common.encoders import SentenceEncoder, load_encoder
from common.errors import ProblemError
from common.matchdb import ensure_schema, make_engine
from services.seq2sql.assistant import Assistant
from services.seq2sql.config import Seq2SqlSettings
from services.seq2sql.linking import ValueIndex, unknown_nouns
from services.seq2sql.readonly import QueryError, ReadOnlyDatabase, sqlite_path
from services.seq2sql.schema import Annotations, read_schema
from services.seq2sql.training import TrainConfig, load_parser, model_path, save_parser, train_parser

logger = logging.getLogger("malgeul.seq2sql.databases")
BUILTIN = "matches"


@dataclass
class Registered:
    """One database the assistant can answer about, and the state of its model."""

    name: str
    url: str
    annotations: dict[str, Any]
    status: str = "training"
    progress: float = 0.0
    detail: str | None = None
    assistant: Assistant | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0


def train_config(settings: Seq2SqlSettings) -> TrainConfig:
    return TrainConfig(per_sketch=settings.per_sketch, epochs=settings.epochs, slot_model=settings.slot_model,
                       encoder=settings.encoder, inputs=settings.model_inputs)


def build_assistant(entry: Registered, settings: Seq2SqlSettings, encoder: SentenceEncoder,
                    progress: Any = None) -> Assistant:
    """Read the schema, then load the cached model for it or train one; returns a ready assistant."""
    db = ReadOnlyDatabase(entry.url, settings.statement_timeout_s)
    engine = db.inspection_engine()
    try:
        schema = read_schema(engine, entry.annotations)
    finally:
        engine.dispose()
    if not schema.tables:
        raise ValueError("the database has no tables")
    config = train_config(settings)
    path = model_path(settings.models_path(), entry.name, config.key(schema))
    if path.exists():
        parser = load_parser(path, encoder)
    else:
        with db.session() as session:
            index = ValueIndex.read(session, schema)
        cache = settings.models_path() / f"embeddings-{config.encoder.replace(':', '_').replace('/', '_')}"
        parser = train_parser(schema, index, encoder, config, progress, settings.default_year, cache)
        save_parser(parser, path)
    entry.meta = dict(parser.meta, model_file=str(path))
    unknown_nouns("준비 완료", [])  # load the morpheme analyser now, not on a user's first question
    encoder.encode(["준비 완료"])
    return Assistant(schema, db, parser, candidates=settings.candidates, refuse_below=settings.refuse_below,
                     default_year=settings.default_year)


def default_annotations(settings: Seq2SqlSettings) -> dict[str, Any]:
    return json.loads(Path(settings.annotations_file).read_text(encoding="utf-8"))


def train_default_model(settings: Seq2SqlSettings) -> None:
    """Train (or find cached) the match database's model; used by `malgeul prepare`."""
    if not isinstance(settings, Seq2SqlSettings):
        settings = Seq2SqlSettings()
    entry = Registered(BUILTIN, settings.match_database_url, default_annotations(settings))
    build_assistant(entry, settings, load_encoder(settings.encoder))


def _is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


class DatabaseRegistry:
    """Thread-safe table of registered databases and the background trainer that fills it."""

    def __init__(self, settings: Seq2SqlSettings, on_builtin_ready: Any = None) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._entries: dict[str, Registered] = {}
        self._jobs: queue.Queue[Registered | None] = queue.Queue()
        self._store = settings.service_dir("seq2sql") / "databases.json"
        self._encoder: SentenceEncoder | None = None
        self._thread: threading.Thread | None = None
        self._on_builtin_ready = on_builtin_ready

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Queue the match database and every previously registered one; start the trainer."""
        url = self.settings.match_database_url
        try:
            engine = make_engine(url)
            ensure_schema(engine)  # the OCR service may not have created it yet
            engine.dispose()
        except Exception as exc:  # the trainer reports the failure in the database status
            logger.warning("cannot prepare the match database", extra={"error": str(exc)[:200]})
        self._enqueue(Registered(BUILTIN, url, default_annotations(self.settings)))
        for item in self._load_store():
            self._enqueue(Registered(item["name"], item["url"], item["annotations"]))
        self._thread = threading.Thread(target=self._work, name="seq2sql-trainer", daemon=True)
        self._thread.start()

    def warm(self) -> None:
        """Load the sentence encoder and the morpheme analyser now.

        Their native loaders hold the GIL for seconds at a time; run before the port opens (in the lifespan),
        a request finds the port closed and the gateway answers 503 at once, instead of hanging until they end.
        """
        if self._encoder is None:
            self._encoder = load_encoder(self.settings.encoder)
        unknown_nouns("준비 완료", [])
        self._encoder.encode(["준비 완료"])

    def stop(self) -> None:
        self._jobs.put(None)

    def _retry(self, entry: Registered) -> None:
        with self._lock:
            current = self._entries.get(entry.name) is entry
        if current:
            entry.status, entry.progress = "training", 0.0
            self._jobs.put(entry)

    def _enqueue(self, entry: Registered) -> None:
        with self._lock:
            self._entries[entry.name] = entry
        self._jobs.put(entry)

    def _work(self) -> None:
        while True:
            entry = self._jobs.get()
            if entry is None:
                return
            with self._lock:
                if self._entries.get(entry.name) is not entry:
                    continue  # replaced by a newer registration before it started
            try:
                if self._encoder is None:
                    self._encoder = load_encoder(self.settings.encoder)

                def progress(fraction: float, stage: str, entry: Registered = entry) -> None:
                    entry.progress, entry.detail = round(min(fraction, 0.99), 3), stage

                assistant = build_assistant(entry, self.settings, self._encoder, progress)
                entry.assistant, entry.status, entry.progress = assistant, "ready", 1.0
                entry.detail = f"{len(assistant.schema.tables)} tables; trained on {entry.meta.get('examples')} questions"
                logger.info("database ready", extra={"database": entry.name})
            except Exception as exc:  # a broken database must not stop the trainer
                entry.status, entry.detail = "failed", f"{type(exc).__name__}: {str(exc)[:300]}"
                logger.warning("database failed", extra={"database": entry.name, "error": entry.detail})
                entry.attempts += 1
                if entry.name == BUILTIN and entry.attempts < 40:
                    # the match database may still be starting (PostgreSQL in compose): try again shortly
                    retry = threading.Timer(15.0, self._retry, args=(entry,))
                    retry.daemon = True
                    retry.start()
            if entry.name == BUILTIN and self._on_builtin_ready:
                self._on_builtin_ready(entry.status)

    # -- registrations ---------------------------------------------------------------------------
    def register(self, name: str, url: str, annotations: Annotations) -> Registered:
        if name == BUILTIN:
            raise ProblemError(409, "'matches' is the built-in match database; register yours under another name.")
        path = sqlite_path(url)
        if path is None and not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ProblemError(422, "url must be a SQLite file path, a sqlite:/// URL or a postgresql:// URL.")
        self._check_allowed(url, path)
        if path is not None and not path.is_file():
            raise ProblemError(422, f"No SQLite database file at {path}.")
        if path is not None and not _is_sqlite_file(path):
            # Any other file would be accepted by "SELECT 1" and only fail later, in training.
            raise ProblemError(422, f"The file at {path} is not a SQLite database.")
        try:
            with ReadOnlyDatabase(url, self.settings.statement_timeout_s).session() as session:
                session.fetch("SELECT 1")
        except QueryError as exc:
            raise ProblemError(422, f"Cannot open the database read-only: {exc}") from exc
        entry = Registered(name, url if path is None else str(path.resolve()),
                           annotations.model_dump(exclude_defaults=True))
        self._enqueue(entry)
        self._save_store()
        return entry

    def _check_allowed(self, url: str, path: Path | None) -> None:
        """Only databases the operator allows may be registered: a key holder could read any other one."""
        if path is not None:
            resolved = path.resolve()
            if not any(resolved.is_relative_to(folder) for folder in self.settings.allowed_database_dirs()):
                raise ProblemError(403, "SQLite files can be registered only from the folders the operator allows "
                                        "(MALGEUL_SEQ2SQL_DATABASE_DIRS, by default var/seq2sql/databases).")
            return
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ProblemError(422, "url is not a valid database URL.") from None
        host = (parsed.host or "localhost").lower()
        allowed = self.settings.allowed_database_hosts()
        if host not in allowed and f"{host}:{parsed.port or 5432}" not in allowed:
            raise ProblemError(403, "PostgreSQL databases can be registered only on the hosts the operator allows "
                                    "(MALGEUL_SEQ2SQL_DATABASE_HOSTS).")

    def get(self, name: str) -> Registered:
        with self._lock:
            entry = self._entries.get(name)
        if entry is None:
            raise ProblemError(404, f"No database named {name!r}; register it with POST /v1/sql/databases.")
        return entry

    def all(self) -> list[Registered]:
        with self._lock:
            return list(self._entries.values())

    def ready_assistant(self, name: str) -> Assistant:
        entry = self.get(name)
        if entry.status == "failed":
            raise ProblemError(409, f"The database {name!r} failed to prepare: {entry.detail}")
        if entry.assistant is None:
            raise ProblemError(503, f"The model for {name!r} is still training ({entry.progress:.0%}); try again soon.",
                               headers={"Retry-After": "5"})
        return entry.assistant

    def _save_store(self) -> None:
        items = [{"name": e.name, "url": e.url, "annotations": e.annotations} for e in self.all() if e.name != BUILTIN]
        tmp = self._store.with_suffix(".tmp")
        tmp.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(self._store)

    def _load_store(self) -> list[dict[str, Any]]:
        try:
            return json.loads(self._store.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
