"""Speech commands: `malgeul eval speech` (scores) and `malgeul tts prepare-dataset` (TTS training data)."""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from pathlib import Path

import soundfile as sf

from common.health import Readiness
from services.tts.config import TtsSettings
from services.tts.speech import SpeechService

logger = logging.getLogger("malgeul.tts.cli")


def _load(**overrides: object) -> SpeechService:
    settings = TtsSettings(**overrides)
    speech = SpeechService(settings, Readiness("voices", "recognizer"))
    speech.load()
    report = speech.readiness.report()
    if report.status != "ready":
        raise SystemExit(f"speech engines failed to load: {report.detail}")
    return speech


def eval_speech(argv: list[str]) -> int:
    """Print STT WER on human and synthetic clips, TTS round-trip WER per English voice, voice distinctness."""
    from services.tts.evaluation import (
        ROUND_TRIP_SENTENCES,
        closest_pair,
        human_clips,
        read_clip,
        voice_fingerprint,
        word_error_rate,
    )

    parser = argparse.ArgumentParser(prog="malgeul eval speech", description=eval_speech.__doc__)
    parser.add_argument("--stt", choices=["whisper", "pocketsphinx"], default="whisper")
    args = parser.parse_args(argv)
    speech = _load(stt_engine=args.stt)

    clips = human_clips()
    if not clips:
        print("speech: no human clips (install the Debian package pocketsphinx-testdata)", file=sys.stderr)
        return 1
    started, audio_seconds, pairs = time.perf_counter(), 0.0, []
    for clip in clips:
        data = read_clip(clip)
        audio_seconds += sf.info(io.BytesIO(data)).duration
        pairs.append((clip.text, speech.transcribe(data, "en")))
    rtf = (time.perf_counter() - started) / audio_seconds
    human = word_error_rate(pairs)
    words = sum(len(ref.split()) for ref, _ in pairs)
    print(
        f"speech stt[{args.stt}] human WER: {human:.3f} ({len(clips)} clips, {words} words, "
        f"{audio_seconds:.1f} s, RTF {rtf:.2f}; goal <= 0.06: {'met' if human <= 0.06 else 'NOT met'})"
    )

    english = [v for v in speech.voices() if v.language == "en"]
    synthetic = [
        (s, speech.transcribe(degraded, "en"))
        for s in ROUND_TRIP_SENTENCES
        for degraded in synthetic_clips(speech, s)
    ]
    print(
        f"speech stt[{args.stt}] synthetic WER (neural voice, 8 kHz phone band / 15 dB noise / speed 1.3): "
        f"{word_error_rate(synthetic):.3f} ({len(synthetic)} clips)"
    )

    for voice in english:
        trip = [(s, speech.transcribe(speech.synthesize(s, voice.id), "en")) for s in ROUND_TRIP_SENTENCES]
        score = word_error_rate(trip)
        goal = f"; goal <= 0.05: {'met' if score <= 0.05 else 'NOT met'}" if voice.engine == "piper" else ""
        print(f"speech round-trip WER {voice.id} ({voice.engine}): {score:.3f}{goal}")

    korean = [v for v in speech.voices() if v.language == "ko"]
    fingerprints = {}
    for voice in korean:
        samples, rate = sf.read(
            io.BytesIO(speech.synthesize("오늘 경기는 정말 재미있었습니다. 다음에도 함께 해요.", voice.id))
        )
        fingerprints[voice.id] = voice_fingerprint(samples, rate)
    a, b, distance = closest_pair(fingerprints)
    pitches = [f[0] for f in fingerprints.values()]
    print(
        f"speech voice distinctness: {len(korean)} Korean voices, pitch span {max(pitches) - min(pitches):.1f} "
        f"semitones, closest pair {a}/{b} at {distance:.2f} (1 = a semitone or 2 dB of spectral envelope)"
    )
    return 0


def synthetic_clips(speech: SpeechService, text: str) -> list[bytes]:
    """``text`` read by the default English voice, then made harder: telephone band, noise, fast speech."""
    import numpy as np

    from services.tts.audio import resample, wav_bytes

    rate = speech.settings.sample_rate
    clean = speech.synthesize_samples(text, "en-joe")
    noise = np.random.default_rng(len(text)).normal(size=len(clean)).astype(np.float32)
    noise *= np.sqrt(np.mean(clean**2) / 10 ** (15 / 10)) / max(float(np.std(noise)), 1e-9)
    return [
        wav_bytes(resample(clean, rate, 8000), 8000),
        wav_bytes(np.clip(clean + noise, -1, 1), rate),
        wav_bytes(speech.synthesize_samples(text, "en-joe", speed=1.3), rate),
    ]


def prepare_dataset_command(argv: list[str]) -> int:
    """Long recordings + scripts -> LJSpeech-style multi-speaker dataset of sentence clips."""
    from tqdm import tqdm

    from services.tts.dataset import find_recordings, prepare_dataset

    parser = argparse.ArgumentParser(
        prog="malgeul tts prepare-dataset",
        description="Cut long recordings into sentence clips by aligning STT word timestamps to their scripts. "
        "Layout: INPUT/<speaker>/<name>.wav with INPUT/<speaker>/<name>.txt (any audio format).",
    )
    parser.add_argument("input", type=Path, help="folder of recordings and their .txt scripts")
    parser.add_argument(
        "output", type=Path, help="dataset folder to write (wavs/, metadata.csv, speakers.json)"
    )
    parser.add_argument(
        "--language", default="en", help="language of the recordings (the recogniser must know it)"
    )
    parser.add_argument("--sample-rate", type=int, default=22050)
    parser.add_argument(
        "--max-wer", type=float, default=0.2, help="drop a sentence heard with more errors than this"
    )
    args = parser.parse_args(argv)

    recordings = find_recordings(args.input)
    if not recordings:
        print(f"no recordings with scripts under {args.input}", file=sys.stderr)
        return 2
    speech = _load()

    def words_of(data: bytes) -> list[tuple[str, float, float]]:
        result = speech.transcribe_detailed(data, args.language, words=True)
        return [(w.word, w.start, w.end) for s in result.segments for w in s.words]

    summary = prepare_dataset(
        recordings,
        args.output,
        words_of,
        sample_rate=args.sample_rate,
        max_error_rate=args.max_wer,
        progress=lambda items: tqdm(items, desc="recordings", unit="rec", file=sys.stderr),
    )
    for line in summary.lines():
        print(line)
    print(f"dataset written to {args.output}")
    return 0 if summary.kept else 1


EVALS = {"speech": eval_speech}
EVALS["conversation"] = __import__("services.tts.conversation.evaluation", fromlist=["run"]).run
_COMMANDS = {"prepare-dataset": prepare_dataset_command}


def main(argv: list[str]) -> int:
    """`malgeul tts COMMAND ...`"""
    if not argv or argv[0] not in _COMMANDS:
        print(f"usage: malgeul tts {{{','.join(_COMMANDS)}}} ...", file=sys.stderr)
        return 2
    return _COMMANDS[argv[0]](argv[1:])
