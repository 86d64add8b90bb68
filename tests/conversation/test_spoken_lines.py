"""The memory of spoken bot lines: recent lines are reused, the size limit holds."""

from __future__ import annotations

from services.tts.conversation.spoken_lines import SpokenLineCache


def test_spoken_line_cache_keeps_recent_lines_within_its_size():
    cache = SpokenLineCache(max_bytes=10)
    cache.put("en-joe", 1.0, "Hello.", b"12345")
    cache.put("en-joe", 1.0, "Table for how many?", b"67890")
    assert cache.get("en-joe", 1.0, "Hello.") == b"12345"  # now the most recent
    cache.put("en-joe", 1.0, "Goodbye.", b"abcde")
    assert cache.get("en-joe", 1.0, "Table for how many?") is None  # the least recent went
    assert cache.get("en-joe", 1.0, "Hello.") == b"12345"
    assert cache.get("en-espeak-male", 1.0, "Hello.") is None  # another voice is another line
