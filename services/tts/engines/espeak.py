"""eSpeak NG (Debian package): formant synthesis, many Korean speakers from variant, pitch and rate settings."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from services.tts.engines.protocols import AudioClip, VoiceSpec

logger = logging.getLogger("malgeul.tts.espeak")

# A speaker = an eSpeak variant (formant table, breathiness, intonation) + base pitch (0-99) + words/minute.
# Chosen so pitch and spectral envelope differ between every pair (checked by tests/tts/test_voices.py).
KOREAN_SPEAKERS: tuple[tuple[str, str, int, int, str], ...] = (
    # id, variant, pitch, wpm, description
    ("ko-dohyun", "m3", 5, 150, "Korean man, deep voice, slow and calm"),
    ("ko-minjun", "iven", 30, 165, "Korean man, low voice, even pace"),
    ("ko-youngsik", "grandpa", 20, 135, "older Korean man, rough voice, slow"),
    ("ko-hyunwoo", "m7", 50, 180, "Korean man, warm mid voice, lively"),
    ("ko-taeho", "klatt", 62, 170, "Korean man, buzzy synthetic voice (Klatt synthesiser)"),
    ("ko-sora", "m2", 85, 175, "Korean light tenor voice"),
    ("ko-eunji", "f4", 40, 160, "Korean woman, low soft voice"),
    ("ko-seoyeon", "f1", 58, 170, "Korean woman, clear mid voice"),
    ("ko-jiwoo", "f2", 78, 185, "Korean woman, high bright voice, brisk"),
    ("ko-haneul", "f5", 95, 190, "Korean child-like high voice, quick"),
)
ENGLISH_SPEAKERS: tuple[tuple[str, str, int, int, str], ...] = (
    ("en-espeak-male", "m3", 40, 170, "American English man (eSpeak NG, formant synthesis)"),
    ("en-espeak-female", "f3", 65, 170, "American English woman (eSpeak NG, formant synthesis)"),
)
_LANGUAGE_VOICE = {"ko": "ko", "en": "en-us"}


class EspeakEngine:
    """Runs the `espeak-ng` program once per sentence (about 10 ms each), writing a WAV file."""

    name = "espeak-ng"

    def __init__(self, binary: str = "espeak-ng") -> None:
        found = shutil.which(binary)
        if found is None:
            raise RuntimeError(f"{binary!r} is not installed (Debian package espeak-ng)")
        self.binary = found

    def voices(self) -> list[VoiceSpec]:
        specs = []
        for language, table in (("ko", KOREAN_SPEAKERS), ("en", ENGLISH_SPEAKERS)):
            for voice_id, variant, pitch, wpm, description in table:
                specs.append(
                    VoiceSpec(
                        voice_id,
                        language,
                        self.name,
                        description,
                        {"variant": variant, "pitch": pitch, "wpm": wpm},
                    )
                )
        return specs

    def synthesize(self, text: str, voice: VoiceSpec, speed: float) -> AudioClip:
        s = voice.settings
        wpm = int(min(max(s["wpm"] * speed, 80), 900))
        with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
            text_path, wav_path = Path(tmp) / "in.txt", Path(tmp) / "out.wav"
            text_path.write_text(text, encoding="utf-8")
            # `-w file`: the WAV header written to --stdout carries a bogus length.
            command = [
                self.binary,
                "-v",
                f"{_LANGUAGE_VOICE[voice.language]}+{s['variant']}",
                "-p",
                str(s["pitch"]),
                "-s",
                str(wpm),
                "-b",
                "1",  # the text file is UTF-8
                "-w",
                str(wav_path),
                "-f",
                str(text_path),
            ]
            done = subprocess.run(command, capture_output=True, timeout=60, check=False)
            if done.returncode != 0 or not wav_path.exists():
                raise RuntimeError(f"espeak-ng failed: {done.stderr.decode(errors='replace')[:300]}")
            samples, rate = sf.read(wav_path, dtype="float32", always_2d=False)
        return AudioClip(np.asarray(samples, dtype=np.float32), int(rate))
