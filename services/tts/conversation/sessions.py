"""Conversation sessions persisted in SQLite under var/, so they survive a restart; idle ones expire.

Each session keeps its dialogue state (topic, scene, history) as JSON and its reply audio as WAV files
in a folder of its own; expiring a session removes both.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.errors import ProblemError

logger = logging.getLogger("malgeul.tts.conversation.sessions")


@dataclass
class SessionState:
    """Where a role-play stands: the topic, the current scene and what has been said."""

    id: str
    topic: str
    scene: str
    voice: str | None
    last_bot: str = ""
    turn: int = 0  # index of the latest bot reply (0: the opening line)
    finished: bool = False
    misses: int = 0  # consecutive off-script turns, to give a hint after two
    history: list[dict[str, str]] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)


class SessionStore:
    """Sessions in one SQLite file; thread-safe; expires sessions idle for longer than ``ttl`` seconds."""

    def __init__(self, folder: Path, ttl: float, max_sessions: int = 10000) -> None:
        self.folder = folder
        self.audio_root = folder / "audio"
        self.audio_root.mkdir(parents=True, exist_ok=True)
        self.ttl = ttl
        self.max_sessions = max_sessions
        self._lock = threading.Lock()
        self._db = sqlite3.connect(folder / "sessions.sqlite", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL survives a crash of the process (not of the OS) and saves an fsync per turn (~4 ms -> 0.1 ms)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, updated REAL NOT NULL, state TEXT NOT NULL)"
        )

    def new_id(self) -> str:
        return secrets.token_urlsafe(16)

    def save(self, state: SessionState) -> None:
        state.updated = time.time()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO sessions (id, updated, state) VALUES (?, ?, ?)",
                (state.id, state.updated, json.dumps(asdict(state), ensure_ascii=False)),
            )

    def get(self, session_id: str) -> SessionState:
        """The live session, or a 404 problem (unknown) / 410 problem (expired)."""
        with self._lock:
            row = self._db.execute("SELECT updated, state FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise ProblemError(404, f"No conversation session {session_id!r}; start one with POST /v1/conversation/sessions.")
        if time.time() - row[0] > self.ttl:
            self.delete(session_id)
            raise ProblemError(410, "This conversation session has expired; start a new one.")
        return SessionState(**json.loads(row[1]))

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        shutil.rmtree(self.audio_dir(session_id), ignore_errors=True)

    def purge(self) -> int:
        """Drop expired sessions, and the oldest ones past ``max_sessions``; returns how many went."""
        cutoff = time.time() - self.ttl
        with self._lock:
            gone = [r[0] for r in self._db.execute("SELECT id FROM sessions WHERE updated < ?", (cutoff,))]
            count = self._db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] - len(gone)
            if count > self.max_sessions:
                gone += [
                    r[0]
                    for r in self._db.execute(
                        "SELECT id FROM sessions WHERE updated >= ? ORDER BY updated LIMIT ?",
                        (cutoff, count - self.max_sessions),
                    )
                ]
        for session_id in gone:
            self.delete(session_id)
        if gone:
            logger.info("sessions expired", extra={"count": len(gone)})
        return len(gone)

    def audio_dir(self, session_id: str) -> Path:
        return self.audio_root / session_id

    def audio_path(self, session_id: str, turn: int) -> Path:
        return self.audio_dir(session_id) / f"{turn}.wav"

    def save_audio(self, session_id: str, turn: int, wav: bytes) -> None:
        path = self.audio_path(session_id, turn)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(wav)
        tmp.replace(path)  # a reader never sees half a file

    def close(self) -> None:
        with self._lock:
            self._db.close()
