"""TTS dataset preparation: long recordings + their scripts -> sentence clips in an LJSpeech-style
multi-speaker dataset (`wavs/`, `metadata.csv` as `id|speaker|text`).

Each recording is transcribed with word timestamps; the script's words are aligned to the recognised
words (edit-distance alignment), each script sentence takes the time span of its aligned words, and a
sentence whose recognised words disagree with the script (word error rate above a threshold) is dropped.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from services.tts.audio import decode_audio
from services.tts.evaluation import normalize_words

logger = logging.getLogger("malgeul.tts.dataset")
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".webm", ".m4a")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


@dataclass(frozen=True)
class Recording:
    audio: Path
    script: Path
    speaker: str


@dataclass(frozen=True)
class SentenceClip:
    text: str
    start: float
    end: float
    error_rate: float


@dataclass
class DatasetSummary:
    recordings: int = 0
    sentences: int = 0
    kept: int = 0
    dropped: list[tuple[str, str, str]] = field(default_factory=list)  # (recording, sentence, reason)
    seconds: float = 0.0
    speakers: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [
            f"recordings: {self.recordings}, speakers: {len(self.speakers)}",
            f"sentences: {self.sentences}, kept: {self.kept}, dropped: {len(self.dropped)}",
            f"audio kept: {self.seconds / 60:.1f} min",
        ]
        out += [f"  dropped {rec}: {reason}: {text[:60]!r}" for rec, text, reason in self.dropped[:20]]
        return out


def find_recordings(folder: Path) -> list[Recording]:
    """`<folder>/<speaker>/<name>.<audio>` with `<name>.txt` beside it; files directly in `folder` use their
    name as the speaker."""
    found = []
    for audio in sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES):
        script = audio.with_suffix(".txt")
        if not script.exists():
            logger.warning("recording without a script is skipped", extra={"audio": str(audio)})
            continue
        speaker = audio.parent.name if audio.parent != folder else audio.stem
        found.append(Recording(audio, script, speaker))
    return found


def split_script(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def align_sentences(sentences: list[str], words: list[tuple[str, float, float]]) -> list[SentenceClip | None]:
    """Align script words to recognised (word, start, end); one clip per sentence (None when nothing matched)."""
    script: list[tuple[str, int]] = [(w, i) for i, s in enumerate(sentences) for w in normalize_words(s)]
    heard: list[tuple[str, float, float]] = [(t, a, b) for w, a, b in words for t in normalize_words(w)]
    n, m = len(script), len(heard)
    cost = np.zeros((n + 1, m + 1), dtype=np.int32)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(
                cost[i - 1, j] + 1,
                cost[i, j - 1] + 1,
                cost[i - 1, j - 1] + (script[i - 1][0] != heard[j - 1][0]),
            )
    # Walk back: which heard word each script word took (or none), and edits per sentence.
    matched: list[list[int]] = [[] for _ in sentences]
    edits = [0] * len(sentences)
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i, j] == cost[i - 1, j - 1] + (script[i - 1][0] != heard[j - 1][0]):
            sentence = script[i - 1][1]
            matched[sentence].append(j - 1)
            edits[sentence] += script[i - 1][0] != heard[j - 1][0]
            i, j = i - 1, j - 1
        elif i > 0 and cost[i, j] == cost[i - 1, j] + 1:
            edits[script[i - 1][1]] += 1
            i -= 1
        else:
            # An inserted word inside a sentence counts against it; one between two sentences is left out
            # (it cannot be told whose it is, and the clip spans come from matched words only).
            if 0 < i < n and script[i - 1][1] == script[i][1]:
                edits[script[i - 1][1]] += 1
            j -= 1
    clips: list[SentenceClip | None] = []
    for index, sentence in enumerate(sentences):
        count = len(normalize_words(sentence))
        if not matched[index] or count == 0:
            clips.append(None)
            continue
        first, last = min(matched[index]), max(matched[index])
        clips.append(SentenceClip(sentence, heard[first][1], heard[last][2], edits[index] / count))
    return clips


def prepare_dataset(
    recordings: list[Recording],
    output: Path,
    words_of: Callable[[bytes], list[tuple[str, float, float]]],
    *,
    sample_rate: int = 22050,
    max_error_rate: float = 0.2,
    max_seconds: float = 4 * 3600,
    progress: Callable[[list[Recording]], object] | None = None,
) -> DatasetSummary:
    """Cut every recording into sentence clips and write `wavs/` and `metadata.csv` under ``output``.

    ``words_of(audio_bytes)`` returns the recognised words with start/end seconds.
    """
    wavs = output / "wavs"
    wavs.mkdir(parents=True, exist_ok=True)
    summary = DatasetSummary()
    rows: list[tuple[str, str, str]] = []
    iterable = progress(recordings) if progress else recordings
    for recording in iterable:  # type: ignore[union-attr]
        summary.recordings += 1
        speaker_id = summary.speakers.setdefault(recording.speaker, len(summary.speakers))
        data = recording.audio.read_bytes()
        audio = decode_audio(data, max_seconds, rate=sample_rate)
        sentences = split_script(recording.script.read_text(encoding="utf-8"))
        summary.sentences += len(sentences)
        clips = align_sentences(sentences, words_of(data))
        spans = _padded_spans(clips, len(audio) / sample_rate)
        for index, (sentence, clip, span) in enumerate(zip(sentences, clips, spans)):
            if clip is None or span is None:
                summary.dropped.append((recording.audio.name, sentence, "not found in the audio"))
                continue
            if clip.error_rate > max_error_rate:
                summary.dropped.append(
                    (recording.audio.name, sentence, f"heard differently (WER {clip.error_rate:.2f})")
                )
                continue
            clip_id = f"{recording.speaker}_{recording.audio.stem}_{index:04d}"
            samples = trim_silence(
                audio[int(span[0] * sample_rate) : int(span[1] * sample_rate)], sample_rate
            )
            sf.write(wavs / f"{clip_id}.wav", samples, sample_rate, subtype="PCM_16")
            rows.append((clip_id, str(speaker_id), sentence))
            summary.kept += 1
            summary.seconds += len(samples) / sample_rate
    with open(output / "metadata.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="|", quoting=csv.QUOTE_NONE, escapechar="\\")
        writer.writerows(rows)
    (output / "speakers.json").write_text(
        json.dumps(summary.speakers, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return summary


def trim_silence(samples: np.ndarray, rate: int, margin: float = 0.1, floor_db: float = -35.0) -> np.ndarray:
    """Cut leading/trailing stretches quieter than ``floor_db`` below the clip's loudest 10 ms, keeping ``margin``."""
    hop = rate // 100
    if len(samples) < 2 * hop:
        return samples
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = np.flatnonzero(level > level.max() + floor_db)
    start = max(0, loud[0] * hop - int(margin * rate))
    end = min(len(samples), (loud[-1] + 1) * hop + int(margin * rate))
    return samples[start:end]


def _padded_spans(
    clips: list[SentenceClip | None], duration: float, pad: float = 0.15
) -> list[tuple[float, float] | None]:
    """Clip spans widened by ``pad`` but never past the midpoint to a neighbouring sentence."""
    spans: list[tuple[float, float] | None] = []
    for index, clip in enumerate(clips):
        if clip is None:
            spans.append(None)
            continue
        before = next((c for c in reversed(clips[:index]) if c is not None), None)
        after = next((c for c in clips[index + 1 :] if c is not None), None)
        low = (before.end + clip.start) / 2 if before else 0.0
        high = (clip.end + after.start) / 2 if after else duration
        spans.append((max(low, clip.start - pad), min(high, clip.end + pad)))
    return spans
