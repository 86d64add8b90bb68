"""Every voice speaks: valid, non-silent audio of a plausible length, and the Korean voices sound different."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from common.errors import ProblemError
from services.tts.evaluation import closest_pair, voice_fingerprint
from services.tts.speech import SpeechService

KOREAN = "오늘 경기는 정말 재미있었습니다. 다음에도 함께 해요."
ENGLISH = "The weather is nice today, so we are going for a walk."


def _read(wav: bytes) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return samples, rate


def test_at_least_eight_korean_voices_and_a_neural_english_one(speech: SpeechService) -> None:
    voices = speech.voices()
    assert len([v for v in voices if v.language == "ko"]) >= 8
    assert any(v.language == "en" and v.engine == "piper" for v in voices)
    assert len({v.id for v in voices}) == len(voices)


def test_every_voice_reads_its_language_audibly(speech: SpeechService) -> None:
    for voice in speech.voices():
        text = KOREAN if voice.language == "ko" else ENGLISH
        samples, rate = _read(speech.synthesize(text, voice.id))
        seconds = len(samples) / rate
        assert rate == 24000
        assert 1.5 <= seconds <= 12, (voice.id, seconds)
        assert np.sqrt(np.mean(samples**2)) > 0.02, f"{voice.id} is (nearly) silent"
        assert np.abs(samples).max() <= 1.0


def test_korean_voices_are_distinct(speech: SpeechService) -> None:
    fingerprints = {}
    for voice in speech.voices():
        if voice.language == "ko":
            samples, rate = _read(speech.synthesize(KOREAN, voice.id))
            fingerprints[voice.id] = voice_fingerprint(samples, rate)
    a, b, distance = closest_pair(fingerprints)
    # 1 unit = a semitone of pitch or 2 dB of spectral envelope; measured minimum is about 2.5.
    assert distance >= 1.5, f"{a} and {b} sound alike (distance {distance:.2f})"
    pitches = sorted(f[0] for f in fingerprints.values())
    assert pitches[-1] - pitches[0] >= 12, "Korean voices should span at least an octave"


def test_speed_changes_duration(speech: SpeechService) -> None:
    normal = len(_read(speech.synthesize(KOREAN, "ko-seoyeon"))[0])
    fast = len(_read(speech.synthesize(KOREAN, "ko-seoyeon", speed=2.0))[0])
    slow = len(_read(speech.synthesize(ENGLISH, "en-joe", speed=0.5))[0])
    assert fast < 0.7 * normal
    assert slow > 1.6 * len(_read(speech.synthesize(ENGLISH, "en-joe"))[0])


def test_openai_voice_names_map_to_english_voices(speech: SpeechService) -> None:
    for name in ("alloy", "nova", "echo", "shimmer"):
        spec, _ = speech.resolve_voice(name)
        assert spec.language == "en"


@pytest.mark.parametrize(
    ("text", "voice", "speed", "status"),
    [("", "ko-minjun", 1.0, 400), ("   ", "ko-minjun", 1.0, 400), ("안녕", "nobody", 1.0, 400),
     ("안녕", "ko-minjun", 0.0, 400), ("가" * 20000, "ko-minjun", 1.0, 400), ("🎉🎉", "ko-minjun", 1.0, 400)],
)
def test_bad_synthesis_requests_are_refused(speech: SpeechService, text: str, voice: str, speed: float, status: int) -> None:
    with pytest.raises(ProblemError) as caught:
        speech.synthesize(text, voice, speed)
    assert caught.value.status == status
