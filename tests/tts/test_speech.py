"""The in-process contract the conversation bot relies on: `app.state.speech` (synthesize, transcribe, voices)."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import soundfile as sf
from fastapi.testclient import TestClient

from services.tts.evaluation import word_error_rate
from services.tts.speech import SpeechService


def test_lifespan_puts_the_speech_core_on_app_state() -> None:
    from services.tts.app import app

    with TestClient(app) as client:
        speech = app.state.speech
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.get("/readyz").status_code == 200
        assert {"synthesize", "transcribe", "voices"} <= set(dir(speech))
        assert any(v.id == "en-joe" for v in speech.voices())


def test_synthesize_and_transcribe_from_worker_threads(speech: SpeechService) -> None:
    sentences = [
        "I would like a cup of coffee with milk, please.",
        "She plays the piano every evening after dinner.",
    ]

    def round_trip(text: str) -> str:
        wav = speech.synthesize(text, "en-joe")
        samples, rate = sf.read(io.BytesIO(wav))  # a complete WAV file
        assert rate == 24000 and len(samples) > rate
        return speech.transcribe(wav, language="en")

    with ThreadPoolExecutor(2) as pool:
        heard = list(pool.map(round_trip, sentences))
    assert word_error_rate(list(zip(sentences, heard))) <= 0.1, heard


def test_korean_synthesis_returns_wav(speech: SpeechService) -> None:
    wav = speech.synthesize("2026년 3월 5일, KDA 3.5를 기록했습니다.", "ko-haneul", language="ko")
    samples, rate = sf.read(io.BytesIO(wav))
    assert 2 < len(samples) / rate < 12


def test_long_pause_is_neither_transcribed_nor_lost_in_timestamps(speech: SpeechService) -> None:
    """Speech, 25 s of quiet room noise, speech: both sentences with their true times, nothing invented."""
    import numpy as np

    from services.tts.audio import decode_audio, wav_bytes

    first, second = (
        "My brother bought a new bicycle last week.",
        "The children are reading books in the library.",
    )
    # espeak-ng, not piper: piper's sampling noise made the input, and so this test, differ from run to run.
    a = decode_audio(speech.synthesize(first, "en-espeak-male"), 60)
    b = decode_audio(speech.synthesize(second, "en-espeak-male"), 60)
    room = np.random.default_rng(1).normal(scale=0.002, size=25 * 16000).astype(np.float32)
    result = speech.transcribe_detailed(wav_bytes(np.concatenate([a, room, b]), 16000), "en")
    assert word_error_rate([(f"{first} {second}", result.text)]) <= 0.1, result.text
    later = [s for s in result.segments if "children" in s.text.lower()]
    spans = [(s.start, s.end, s.text) for s in result.segments]
    # Whisper may start a segment a little early (its segment times are coarse), but never inside the
    # shortened pause: the second sentence ends after the pause and starts before it or after it.
    pause = (len(a) / 16000 + 0.5, len(a) / 16000 + 24.5)
    assert later and later[0].end > pause[1], spans
    assert not pause[0] < later[0].start < pause[1], spans
    assert result.segments[0].start < 1.0
