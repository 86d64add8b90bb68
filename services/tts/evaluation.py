"""Measuring the speech service: word error rate, human test clips, TTS round trips, voice distinctness."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations, pairwise
from pathlib import Path

import numpy as np
from scipy.signal import get_window

TESTDATA = Path("/usr/share/pocketsphinx/test/data")  # Debian package pocketsphinx-testdata

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _spell(number: int) -> str:
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return _ONES[hundreds] + " hundred" + ("" if rest == 0 else " " + _spell(rest))
    thousands, rest = divmod(number, 1000)
    return _spell(thousands) + " thousand" + ("" if rest == 0 else " " + _spell(rest))


def normalize_words(text: str) -> list[str]:
    """Lower case, no punctuation, hyphens split, numbers spelled ("10" == "ten"), "mr." == "mister"."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"\b(\d{1,6})\b", lambda m: _spell(int(m[1])), text)
    text = re.sub(r"[^\w' ]+", " ", text)
    words = [w.strip("'") for w in text.split()]
    return [{"mr": "mister", "mrs": "missus", "dr": "doctor"}.get(w, w) for w in words if w]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def word_error_rate(pairs: list[tuple[str, str]]) -> float:
    """Corpus WER of (reference, hypothesis) pairs: total edits / total reference words."""
    edits = words = 0
    for ref, hyp in pairs:
        r, h = normalize_words(ref), normalize_words(hyp)
        edits += edit_distance(r, h)
        words += len(r)
    return edits / max(words, 1)


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    text: str


def human_clips(root: Path = TESTDATA) -> list[Clip]:
    """Real recordings of people (LibriVox readers, spoken card names, a command) with their transcripts."""
    clips: list[Clip] = []
    for folder, transcript in (("librivox", "transcription"), ("cards", "cards.transcription")):
        listing = root / folder / transcript
        if not listing.exists():
            continue
        for line in listing.read_text().splitlines():
            match = re.match(r"<s>\s*(.*?)\s*</s>\s*\((.+)\)", line.strip())
            if match:
                clips.append(Clip(match[2], root / folder / f"{match[2]}.wav", match[1]))
    if (root / "goforward.raw").exists():
        clips.append(Clip("goforward", root / "goforward.raw", "go forward ten meters"))
    return clips


def read_clip(clip: Clip) -> bytes:
    """File bytes ready for the recogniser (raw 16 kHz PCM gets a WAV header)."""
    data = clip.path.read_bytes()
    if clip.path.suffix == ".raw":
        from services.tts.audio import wav_bytes

        return wav_bytes(np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768, 16000)
    return data


# Sentences for synthetic and round-trip checks: ordinary English, a little varied in sound.
ROUND_TRIP_SENTENCES = (
    "The weather is nice today, so we are going for a walk in the park.",
    "Please open the window before the meeting starts.",
    "My brother bought a new bicycle last week.",
    "Could you tell me where the nearest train station is?",
    "I would like a cup of coffee with milk, please.",
    "She plays the piano every evening after dinner.",
    "We watched a very funny movie at the cinema yesterday.",
    "The children are reading books in the library.",
)


def _frames(samples: np.ndarray, rate: int, size: float = 0.04, hop: float = 0.01) -> np.ndarray:
    n, h = int(size * rate), int(hop * rate)
    count = max(1, 1 + (len(samples) - n) // h)
    idx = np.arange(n)[None, :] + h * np.arange(count)[:, None]
    padded = np.pad(samples, (0, max(0, idx.max() + 1 - len(samples))))
    return padded[idx] * get_window("hann", n)[None, :]


def pitch_track(samples: np.ndarray, rate: int, fmin: float = 60.0, fmax: float = 500.0) -> np.ndarray:
    """F0 (Hz) of voiced frames by autocorrelation; unvoiced frames are dropped."""
    frames = _frames(samples, rate)
    energy = (frames**2).sum(axis=1)
    frames = frames[energy > 0.1 * np.median(energy[energy > 0]) if np.any(energy > 0) else slice(0)]
    spectrum = np.fft.rfft(frames, n=2 * frames.shape[1], axis=1)
    ac = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, : frames.shape[1]]
    lo, hi = int(rate / fmax), int(rate / fmin)
    lags = lo + np.argmax(ac[:, lo:hi], axis=1)
    strength = ac[np.arange(len(ac)), lags] / np.maximum(ac[:, 0], 1e-9)
    return rate / lags[strength > 0.45]


def voice_fingerprint(samples: np.ndarray, rate: int) -> np.ndarray:
    """Median pitch (semitones re 100 Hz) and a 24-band log spectral envelope (dB, mean over speech)."""
    f0 = pitch_track(samples, rate)
    semitones = 12 * np.log2(np.median(f0) / 100) if len(f0) else 0.0
    frames = _frames(samples, rate)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    energy = power.sum(axis=1)
    power = power[energy > 0.1 * np.median(energy[energy > 0])]
    freqs = np.fft.rfftfreq(frames.shape[1], 1 / rate)
    edges = np.geomspace(100, min(7000, rate / 2), 25)
    bands = np.array([power[:, (freqs >= a) & (freqs < b)].sum(axis=1).mean() for a, b in pairwise(edges)])
    envelope = 10 * np.log10(bands + 1e-10)
    return np.concatenate([[semitones], envelope - envelope.mean()])


def fingerprint_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Pitch difference in semitones plus RMS envelope difference in dB / 2 (one scale for both)."""
    return float(abs(a[0] - b[0]) + np.sqrt(np.mean((a[1:] - b[1:]) ** 2)) / 2)


def closest_pair(fingerprints: dict[str, np.ndarray]) -> tuple[str, str, float]:
    """The two voices that sound most alike, and their distance."""
    best = ("", "", float("inf"))
    for (x, fx), (y, fy) in combinations(fingerprints.items(), 2):
        d = fingerprint_distance(fx, fy)
        if d < best[2]:
            best = (x, y, d)
    return best
