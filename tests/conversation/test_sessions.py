"""Sessions survive a reopen of the store, expire when idle, and take their audio with them."""

from __future__ import annotations

import time

import pytest

from common.errors import ProblemError
from services.tts.conversation.sessions import SessionState, SessionStore


def test_a_session_survives_reopening_the_store(tmp_path):
    store = SessionStore(tmp_path, ttl=60)
    state = SessionState(id=store.new_id(), topic="hotel", scene="room_info", voice="en-joe", turn=3)
    store.save(state)
    store.close()
    again = SessionStore(tmp_path, ttl=60).get(state.id)
    assert (again.topic, again.scene, again.voice, again.turn) == ("hotel", "room_info", "en-joe", 3)


def test_idle_sessions_expire_with_their_audio(tmp_path):
    store = SessionStore(tmp_path, ttl=0.3)
    state = SessionState(id=store.new_id(), topic="hotel", scene="check_in", voice=None)
    store.save(state)
    store.save_audio(state.id, 0, b"RIFF....")
    assert store.audio_path(state.id, 0).exists()
    time.sleep(0.4)
    with pytest.raises(ProblemError) as gone:
        store.get(state.id)
    assert gone.value.status == 410
    assert not store.audio_dir(state.id).exists()
    with pytest.raises(ProblemError) as unknown:
        store.get(state.id)
    assert unknown.value.status == 404


def test_purge_drops_expired_and_the_oldest_past_the_cap(tmp_path):
    store = SessionStore(tmp_path, ttl=60, max_sessions=2)
    ids = []
    for _ in range(3):
        state = SessionState(id=store.new_id(), topic="hotel", scene="check_in", voice=None)
        store.save(state)
        ids.append(state.id)
        time.sleep(0.01)
    assert store.purge() == 1
    with pytest.raises(ProblemError):
        store.get(ids[0])
    assert store.get(ids[2]).id == ids[2]

