"""Speech benchmark: STT real-time factor, TTS real-time factor and time-to-first-audio, on the bare engine
(in this process), on the service over HTTP, and through the gateway, side by side.

Usage: .venv/bin/python bench/speech/run.py [--repeat 3]
Starts `malgeul serve tts` and `malgeul serve gateway` on free loopback ports (gateway pointed at the
service with MALGEUL_GATEWAY_TTS_URL) and stops them at the end. Figures are medians over --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from common.health import Readiness
from services.tts.audio import wav_bytes
from services.tts.config import TtsSettings
from services.tts.evaluation import human_clips, read_clip
from services.tts.speech import SpeechService
from tests.processes import ServiceProcess

KOREAN_PARAGRAPH = (
    "어제 저녁 친선 경기에서 우리 팀은 2026년 시즌 첫 승리를 거두었습니다. 전반에는 상대의 빠른 공격에 밀렸지만, "
    "후반 13:11로 역전하며 분위기를 가져왔습니다. 주장 민준 선수는 KDA 3.5를 기록해 MVP로 뽑혔고, 감독님은 "
    "다음 주 화요일 오후 7시에 전술 회의를 열겠다고 말했습니다. 모두 수고 많았습니다! 다음 경기도 꼭 함께 응원해 주세요."
)
ENGLISH_TEXT = (
    "Good evening and welcome back. Tonight we look at the results of the spring league, "
    "talk to the coach about the new training plan, and answer a few questions from our listeners."
)


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def first_audio_seconds(url: str, body: dict, repeat: int) -> tuple[float, float, int]:
    """Median time to the first audio bytes and to the end of a streamed /v1/audio/speech (pcm: no header)."""
    firsts, totals, size = [], [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        with httpx.stream("POST", url + "/v1/audio/speech", json=body, timeout=120) as response:
            response.raise_for_status()
            size = 0
            first = None
            for chunk in response.iter_bytes():
                if chunk and first is None:
                    first = time.perf_counter() - started
                size += len(chunk)
        firsts.append(first or float("nan"))
        totals.append(time.perf_counter() - started)
    return statistics.median(firsts), statistics.median(totals), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repeat = args.repeat
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")

    log_dir = Path(tempfile.mkdtemp(prefix="bench-speech-"))
    service = ServiceProcess("tts", {"MALGEUL_VAR_DIR": str(log_dir / "var")}, log_dir)
    service.start(wait=180, ready=True)
    gateway = ServiceProcess(
        "gateway", {"MALGEUL_GATEWAY_TTS_URL": service.url, "MALGEUL_VAR_DIR": str(log_dir / "var")}, log_dir
    )
    gateway.start(wait=60)
    print("loading the bare engines in this process ...", file=sys.stderr)
    speech = SpeechService(TtsSettings(), Readiness("voices", "recognizer"))
    speech.load()
    try:
        # --- STT: the human clips joined into one ~40 s recording, and the clips one by one.
        clips = [read_clip(c) for c in human_clips()]
        from services.tts.audio import decode_audio

        joined_samples = np.concatenate([decode_audio(c, 600) for c in clips])
        joined = wav_bytes(joined_samples, 16000)
        seconds = len(joined_samples) / 16000

        def over_http(url: str, data: bytes) -> Callable[[], object]:
            return lambda: httpx.post(
                url + "/v1/audio/transcriptions", files={"file": ("a.wav", data)}, timeout=300
            ).raise_for_status()

        print(
            f"STT ({seconds:.1f} s of human speech, one request; median of {repeat}, the three interleaved)"
        )
        runs: dict[str, list[float]] = {"bare engine": [], "service (HTTP)": [], "gateway": []}
        calls = {
            "bare engine": lambda: speech.transcribe(joined),
            "service (HTTP)": over_http(service.url, joined),
            "gateway": over_http(gateway.url, joined),
        }
        for _ in range(
            repeat
        ):  # interleaved, so load from other processes on the machine hits all three alike
            for name, call in calls.items():
                runs[name].append(median_time(call, 1))
        stt = {name: statistics.median(values) for name, values in runs.items()}
        for name, value in stt.items():
            print(f"  {name:15s} {value:6.2f} s  RTF {value / seconds:.3f}")
        print(f"  gateway overhead vs bare engine: {100 * (stt['gateway'] / stt['bare engine'] - 1):+.1f}%")
        per_clip = median_time(lambda: [speech.transcribe(c) for c in clips], 1)
        per_clip_gw = median_time(lambda: [over_http(gateway.url, c)() for c in clips], 1)
        print(
            f"  {len(clips)} short clips one by one: bare RTF {per_clip / seconds:.3f}, "
            f"gateway RTF {per_clip_gw / seconds:.3f}"
        )

        # --- TTS
        for label, text, voice in (
            ("Korean paragraph", KOREAN_PARAGRAPH, "ko-seoyeon"),
            ("English paragraph", ENGLISH_TEXT, "en-joe"),
        ):

            def first_chunk(text: str = text, voice: str = voice) -> None:
                spec, engine, sentences = speech.plan(text, voice)
                next(iter(speech.stream(spec, engine, sentences, 1.0)))

            bare_first = median_time(first_chunk, repeat)
            bare_total = median_time(
                lambda text=text, voice=voice: speech.synthesize_samples(text, voice), repeat
            )
            audio_seconds = len(speech.synthesize_samples(text, voice)) / speech.settings.sample_rate
            print(
                f"TTS {label} ({len(text)} characters, voice {voice}, {audio_seconds:.1f} s of audio; median of {repeat})"
            )
            print(
                f"  {'bare engine':15s} first audio {1000 * bare_first:7.1f} ms  whole {bare_total:5.2f} s  "
                f"RTF {bare_total / audio_seconds:.3f}"
            )
            body = {"input": text, "voice": voice, "response_format": "pcm"}
            for name, url in (("service (HTTP)", service.url), ("gateway", gateway.url)):
                first, total, size = first_audio_seconds(url, body, repeat)
                print(
                    f"  {name:15s} first audio {1000 * first:7.1f} ms  whole {total:5.2f} s  "
                    f"RTF {total / (size / 2 / speech.settings.sample_rate):.3f}"
                )
        print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        gateway.stop()
        service.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
