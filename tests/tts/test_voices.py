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
    [
        ("", "ko-minjun", 1.0, 400),
        ("   ", "ko-minjun", 1.0, 400),
        ("안녕", "nobody", 1.0, 400),
        ("안녕", "ko-minjun", 0.0, 400),
        ("가" * 20000, "ko-minjun", 1.0, 400),
        ("🎉🎉", "ko-minjun", 1.0, 400),
    ],
)
def test_bad_synthesis_requests_are_refused(
    speech: SpeechService, text: str, voice: str, speed: float, status: int
) -> None:
    with pytest.raises(ProblemError) as caught:
        speech.synthesize(text, voice, speed)
    assert caught.value.status == status


def test_a_missing_piper_voice_is_reported_not_fetched(tmp_path, monkeypatch) -> None:
    from common.health import Readiness
    from services.tts.config import TtsSettings

    monkeypatch.delenv("MALGEUL_ALLOW_HUB", raising=False)
    settings = TtsSettings(piper_voices="en_US-nobody-medium", stt_engine="pocketsphinx", var_dir=tmp_path)
    core = SpeechService(settings, Readiness("voices", "recognizer"))
    core.load()
    report = core.readiness.report()
    assert report.components["voices"] == "failed"
    assert "en_US-nobody-medium" in (report.detail or "") and "MALGEUL_ALLOW_HUB" in (report.detail or "")
    with pytest.raises(ProblemError) as caught:
        core.voices()
    assert caught.value.status == 503


def test_piper_voice_by_path_with_several_speakers(tiny_piper_model, tmp_path) -> None:
    from common.health import Readiness
    from services.tts.config import TtsSettings

    settings = TtsSettings(
        piper_voices=str(tiny_piper_model), packaged_piper=False, stt_engine="pocketsphinx", var_dir=tmp_path
    )
    core = SpeechService(settings, Readiness("voices", "recognizer"))
    core.load()
    ids = {v.id for v in core.voices() if v.engine == "piper"}
    assert ids == {"piper-tiny-multi-alice", "piper-tiny-multi-bora", "piper-tiny-multi-chul"}
    fast = core.synthesize_samples("Hello world.", "piper-tiny-multi-bora", speed=2.0)
    slow = core.synthesize_samples("Hello world.", "piper-tiny-multi-bora", speed=1.0)
    assert 0.4 < len(fast) / len(slow) < 0.6
