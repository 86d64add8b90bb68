"""What a synthesis or recognition engine must offer, so engines can be swapped by configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class VoiceSpec:
    """A voice: its public id and language, and the engine settings that make this speaker."""

    id: str
    language: str
    engine: str
    description: str
    settings: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class AudioClip:
    """Mono float32 samples in [-1, 1] at ``sample_rate``."""

    samples: np.ndarray
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


class SynthesisEngine(Protocol):
    """Turns one sentence of text into audio in one of its voices."""

    name: str

    def voices(self) -> list[VoiceSpec]: ...

    def synthesize(self, text: str, voice: VoiceSpec, speed: float) -> AudioClip: ...


@dataclass(frozen=True)
class RecognizedWord:
    word: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class RecognizedSegment:
    """A stretch of recognised speech; times in seconds from the start of the audio."""

    start: float
    end: float
    text: str
    words: tuple[RecognizedWord, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


class RecognitionEngine(Protocol):
    """Turns 16 kHz mono float32 audio into text segments."""

    name: str
    languages: tuple[str, ...]

    def transcribe(
        self, samples: np.ndarray, language: str | None, words: bool
    ) -> list[RecognizedSegment]: ...
