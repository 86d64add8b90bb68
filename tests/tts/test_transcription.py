"""Speech-to-text on real people's recordings, every input format browsers and tools produce, and bad input."""

from __future__ import annotations

import io
import os
import subprocess
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from services.tts.audio import wav_bytes
from services.tts.evaluation import human_clips, read_clip, word_error_rate
from tests.processes import ServiceProcess
from tests.tts.conftest import sine_wav


def _transcribe(service: ServiceProcess, data: bytes, name: str = "clip.wav", **form: str) -> httpx.Response:
    return httpx.post(
        service.url + "/v1/audio/transcriptions", files={"file": (name, data)}, data=form, timeout=120
    )


def test_human_recordings_are_transcribed(tts_service: ServiceProcess) -> None:
    clips = human_clips()
    assert len(clips) >= 10, "Debian package pocketsphinx-testdata is needed"
    pairs = []
    for clip in clips:
        r = _transcribe(tts_service, read_clip(clip))
        assert r.status_code == 200, r.text
        pairs.append((clip.text, r.json()["text"]))
    assert word_error_rate(pairs) <= 0.08, pairs


@pytest.mark.parametrize(
    ("suffix", "args"),
    [
        (".wav", ["-ar", "44100", "-ac", "2"]),
        (".wav", ["-ar", "8000", "-acodec", "pcm_u8"]),
        (".flac", ["-ar", "22050"]),
        (".mp3", ["-ar", "48000", "-ac", "2", "-b:a", "64k"]),
        (".ogg", ["-acodec", "libopus", "-b:a", "24k"]),
        (".ogg", ["-acodec", "libvorbis", "-ar", "32000"]),
        (".webm", ["-acodec", "libopus", "-ac", "2", "-ar", "48000"]),
        (".m4a", ["-acodec", "aac"]),
    ],
)
def test_every_input_format(
    tts_service: ServiceProcess, english_wav: tuple[bytes, str], ffmpeg_convert, suffix: str, args: list[str]
) -> None:
    wav, text = english_wav
    r = _transcribe(tts_service, ffmpeg_convert(wav, suffix, *args), name="clip" + suffix)
    assert r.status_code == 200, r.text
    assert word_error_rate([(text, r.json()["text"])]) <= 0.15, r.json()["text"]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def two_hour_mp3(cache_dir: Path) -> bytes:
    """Two hours of quiet tone as an 8 kb/s MP3 (about 7 MB: under the upload limit, over the duration limit)."""
    path = cache_dir / "two-hours-8k.mp3"
    if not path.exists():
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=300:sample_rate=8000",
                "-t",
                "7200",
                "-ac",
                "1",
                "-b:a",
                "8k",
                str(path),
            ],
            check=True,
            timeout=300,
        )
    return path.read_bytes()


@pytest.mark.parametrize(
    ("what", "make", "status"),
    [
        ("empty", lambda: b"", 400),
        ("random bytes", lambda: np.random.default_rng(0).bytes(20000), 400),
        ("an image", _png, 400),
        ("0.05 s", lambda: sine_wav(0.05), 400),
        ("text", lambda: b"hello, this is not audio", 400),
    ],
)
def test_bad_audio_gets_a_problem_quickly(tts_service: ServiceProcess, what: str, make, status: int) -> None:
    started = time.perf_counter()
    r = _transcribe(tts_service, make())
    assert r.status_code == status, (what, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert time.perf_counter() - started < 3, what


def test_two_hours_of_audio_is_refused_without_decoding(
    tts_service: ServiceProcess, two_hour_mp3: bytes
) -> None:
    started = time.perf_counter()
    r = _transcribe(tts_service, two_hour_mp3, name="long.mp3")
    assert r.status_code == 413, r.text
    assert "limit" in r.json()["detail"]
    assert time.perf_counter() - started < 3


def test_two_hours_of_wav_is_refused_by_size(tts_service: ServiceProcess) -> None:
    big = wav_bytes(np.zeros(16000 * 60 * 14, dtype=np.float32), 16000)  # 14 min = 27 MB > 25 MB
    r = _transcribe(tts_service, big)
    assert r.status_code == 413


def test_korean_needs_a_multilingual_model(
    tts_service: ServiceProcess, english_wav: tuple[bytes, str]
) -> None:
    r = _transcribe(tts_service, english_wav[0], language="ko")
    assert r.status_code == 400 and "multilingual" in r.json()["detail"]


def test_bad_response_format_is_refused(tts_service: ServiceProcess, english_wav: tuple[bytes, str]) -> None:
    assert _transcribe(tts_service, english_wav[0], response_format="docx").status_code == 422


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_transcription_cpu_cost_stays_low(tts_service: ServiceProcess) -> None:
    """37 s of speech costs the service about 1.3 CPU-seconds; a model run off its loading thread cost ~10x."""
    from services.tts.audio import decode_audio

    joined = wav_bytes(np.concatenate([decode_audio(read_clip(c), 600) for c in human_clips()]), 16000)
    assert tts_service.process is not None
    before = _cpu_seconds(tts_service.process.pid)
    r = _transcribe(tts_service, joined)
    used = _cpu_seconds(tts_service.process.pid) - before
    assert r.status_code == 200
    assert used < 5.0, f"{used:.1f} CPU-seconds for 37 s of audio"
