"""`/v1/conversation` over real HTTP against a real speech-service process (real voices and recogniser)."""

from __future__ import annotations

import io
import subprocess
import wave
from pathlib import Path

import httpx
import pytest

from tests.processes import ServiceProcess


@pytest.fixture(scope="module")
def tts(launch_service) -> ServiceProcess:
    return launch_service("tts", ready=True, wait=180)


@pytest.fixture(scope="module")
def client(tts) -> httpx.Client:
    with httpx.Client(base_url=tts.url, timeout=60) as c:
        yield c


def spoken(text: str, folder: Path) -> bytes:
    """A recording of ``text`` (espeak-ng, 16 kHz WAV) as a learner's microphone would give it."""
    path = folder / "utterance.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), text], check=True)
    return path.read_bytes()


def _start(client: httpx.Client, topic: str = "restaurant") -> dict:
    response = client.post("/v1/conversation/sessions", json={"topic": topic})
    assert response.status_code == 200, response.text
    return response.json()


def test_topics_list_the_role_plays(client):
    topics = client.get("/v1/conversation/topics").json()
    assert len(topics) >= 8
    restaurant = next(t for t in topics if t["id"] == "restaurant")
    assert restaurant["title_ko"] == "식당에서" and restaurant["level"] == "beginner"


def test_the_opening_line_is_spoken(client):
    session = _start(client)
    assert "Table for how many" in session["reply"]["text"]
    audio = client.get(session["reply"]["audio_url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert wav.getnframes() / wav.getframerate() > 1.0  # a real sentence, not a click


def test_a_typed_turn_is_understood_answered_and_corrected(client):
    session = _start(client)
    sid = session["session_id"]
    first = client.post(f"/v1/conversation/sessions/{sid}/turns", json={"text": "we are four peoples"}).json()
    assert first["understood"]["intent"] == "party_size" and first["scene"] == "drinks"
    assert first["feedback"]["suggestion"] == "We are four people."
    assert any("people" in note for note in first["feedback"]["notes"])
    assert first["reply"]["audio_url"].endswith("/audio/1.wav")
    complaint = client.post(f"/v1/conversation/sessions/{sid}/turns",
                            json={"text": "his table was dirty can you clean it"}).json()
    assert complaint["understood"]["intent"] == "dirty_table"
    assert "clean it right away" in complaint["reply"]["text"]


def test_a_spoken_turn_is_transcribed_and_moves_the_scene(client, tmp_path):
    sid = _start(client)["session_id"]
    response = client.post(
        f"/v1/conversation/sessions/{sid}/turns",
        files={"audio": ("turn.wav", spoken("A table for two, please.", tmp_path), "audio/wav")},
    )
    assert response.status_code == 200, response.text
    turn = response.json()
    assert "table" in turn["transcript"].lower()
    assert turn["understood"]["intent"] == "party_size" and turn["scene"] == "drinks"
    assert client.get(turn["reply"]["audio_url"]).content[:4] == b"RIFF"


@pytest.mark.parametrize(
    ("request_kwargs", "status"),
    [
        ({"json": {"text": ""}}, 422),
        ({"json": {"words": "hello"}}, 422),
        ({"content": b"hello", "headers": {"content-type": "text/plain"}}, 415),
        ({"files": {"audio": ("x.wav", b"this is not audio", "audio/wav")}}, 400),
        ({"files": {"other": ("x.wav", b"RIFF", "audio/wav")}}, 422),
    ],
)
def test_bad_turns_get_a_clear_problem(client, request_kwargs, status):
    sid = _start(client)["session_id"]
    response = client.post(f"/v1/conversation/sessions/{sid}/turns", **request_kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]
    # nothing was lost: the session still answers
    ok = client.post(f"/v1/conversation/sessions/{sid}/turns", json={"text": "two people"})
    assert ok.status_code == 200


def test_unknown_topic_session_and_voice(client):
    assert client.post("/v1/conversation/sessions", json={"topic": "moon-base"}).status_code == 404
    bad_voice = client.post("/v1/conversation/sessions", json={"topic": "hotel", "voice": "no-such-voice"})
    assert bad_voice.status_code == 422 and "no-such-voice" in bad_voice.json()["detail"]
    missing = client.post("/v1/conversation/sessions/AAAAAAAAAAAAAAAAAAAAAA/turns", json={"text": "hi"})
    assert missing.status_code == 404
    assert client.get("/v1/conversation/sessions/AAAAAAAAAAAAAAAAAAAAAA/audio/0.wav").status_code == 404


def test_sessions_survive_a_crash_and_restart(tts, client):
    sid = _start(client, "hotel")["session_id"]
    client.post(f"/v1/conversation/sessions/{sid}/turns", json={"text": "i want check in my name is kim"})
    tts.kill()
    tts.start(wait=180, ready=True)
    info = client.get(f"/v1/conversation/sessions/{sid}").json()
    assert info["scene"] == "room_info" and len(info["history"]) == 3
    turn = client.post(f"/v1/conversation/sessions/{sid}/turns", json={"text": "what time is breakfast"}).json()
    assert turn["understood"]["intent"] == "ask_breakfast"
    assert client.get(f"/v1/conversation/sessions/{sid}/audio/0.wav").status_code == 200


def test_silence_is_reprompted_not_invented(client, tmp_path):
    sid = _start(client)["session_id"]
    silence = tmp_path / "silence.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(silence), "trim", "0", "2"], check=True)
    turn = client.post(f"/v1/conversation/sessions/{sid}/turns",
                       files={"audio": ("silence.wav", silence.read_bytes(), "audio/wav")}).json()
    assert turn["transcript"] == ""
    assert "didn't hear" in turn["reply"]["text"] and turn["scene"] == "arrival"


def test_ending_a_session_removes_it(client):
    sid = _start(client, "doctor")["session_id"]
    info = client.get(f"/v1/conversation/sessions/{sid}").json()
    assert info["topic"] == "doctor" and info["expires_in_seconds"] > 60
    assert client.delete(f"/v1/conversation/sessions/{sid}").status_code == 204
    assert client.get(f"/v1/conversation/sessions/{sid}").status_code == 404
    assert client.get(f"/v1/conversation/sessions/{sid}/audio/0.wav").status_code == 404
