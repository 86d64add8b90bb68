"""Synthesized bot lines kept in memory: a scripted bot says the same lines again and again.

Keyed by (voice, speed, text); least recently used lines go first past the size limit. Memory only, so a
restart (or a new voice model) never serves stale audio.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class SpokenLineCache:
    """WAV bytes of recently spoken lines, bounded by total size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lines: OrderedDict[tuple[str, float, str], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, voice: str, speed: float, text: str) -> bytes | None:
        key = (voice, speed, text)
        with self._lock:
            wav = self._lines.get(key)
            if wav is None:
                self.misses += 1
                return None
            self._lines.move_to_end(key)
            self.hits += 1
            return wav

    def put(self, voice: str, speed: float, text: str, wav: bytes) -> None:
        if len(wav) > self.max_bytes:
            return
        key = (voice, speed, text)
        with self._lock:
            if key in self._lines:
                return
            self._lines[key] = wav
            self._size += len(wav)
            while self._size > self.max_bytes:
                _, dropped = self._lines.popitem(last=False)
                self._size -= len(dropped)
