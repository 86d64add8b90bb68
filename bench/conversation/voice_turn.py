"""Latency of a full voice turn of conversation practice through the gateway.

A "turn" is what the voice page does: upload the learner's recording (3.0 s), get the transcript,
reply and feedback, then download the reply's WAV. Also timed, to split the cost: the same recording
through /v1/audio/transcriptions (speech-to-text alone) and a typed turn (understanding + reply speech).

    .venv/bin/python bench/conversation/voice_turn.py [--gateway URL] [--runs 10]

Without --gateway it starts the speech service and a gateway on free ports (and stops them after).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
SENTENCE = "Could we have a table for two by the window, please?"  # 3.0 s at 175 words a minute


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recording(folder: Path, seconds: float = 3.0) -> dict[str, bytes]:
    """The sentence spoken by espeak-ng, cut or padded to exactly ``seconds``, as WAV and as browser webm/opus."""
    raw, wav, webm = folder / "raw.wav", folder / "turn.wav", folder / "turn.webm"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "175", "-w", str(raw), SENTENCE], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(wav), "pad", "0", "1", "trim", "0", str(seconds)],
                   check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "libopus", "-b:a", "32k", str(webm)],
                   check=True)
    return {"wav": wav.read_bytes(), "webm": webm.read_bytes()}


def start(name: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "malgeul", "serve", name, "--port", str(port)], cwd=REPO,
                            env={**os.environ, **env}, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_ready(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} not ready after {timeout} s")


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return (f"{name:34s} p50 {statistics.median(values) * 1000:7.0f} ms  p90 {p90 * 1000:7.0f} ms  "
            f"mean {statistics.fmean(values) * 1000:7.0f} ms  (n={len(values)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", help="an already running gateway; default: start tts + gateway here")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-line-cache", action="store_true",
                        help="synthesize every reply (MALGEUL_TTS_CONVERSATION_AUDIO_CACHE_MB=0); only when starting tts here")
    args = parser.parse_args()

    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            gateway = args.gateway
            if not gateway:
                tts_port, gw_port = free_port(), free_port()
                tts_env = {"MALGEUL_VAR_DIR": str(folder / "var")}
                if args.no_line_cache:
                    tts_env["MALGEUL_TTS_CONVERSATION_AUDIO_CACHE_MB"] = "0"
                processes.append(start("tts", tts_port, tts_env, folder / "tts.log"))
                wait_ready(f"http://127.0.0.1:{tts_port}/readyz")
                processes.append(start("gateway", gw_port, {"MALGEUL_GATEWAY_TTS_URL": f"http://127.0.0.1:{tts_port}"},
                                       folder / "gateway.log"))
                wait_ready(f"http://127.0.0.1:{gw_port}/healthz")
                gateway = f"http://127.0.0.1:{gw_port}"
            audio = recording(folder)
            print(f"utterance: {SENTENCE!r}, 3.0 s; gateway {gateway}; {os.cpu_count()} cores; "
                  f"load average {os.getloadavg()[0]:.1f}; spoken-line cache {'off' if args.no_line_cache else 'on'}")
            with httpx.Client(base_url=gateway, timeout=120) as client:
                figures: dict[str, list[float]] = {}
                transcript = ""
                for run in range(args.runs + 1):  # the first run warms caches and is not counted
                    for kind, data in audio.items():
                        sid = client.post("/v1/conversation/sessions", json={"topic": "restaurant"}).json()["session_id"]
                        began = time.perf_counter()
                        turn = client.post(f"/v1/conversation/sessions/{sid}/turns",
                                           files={"audio": (f"turn.{kind}", data, f"audio/{kind}")})
                        turn.raise_for_status()
                        answered = time.perf_counter()
                        wav = client.get(turn.json()["reply"]["audio_url"])
                        wav.raise_for_status()
                        done = time.perf_counter()
                        transcript = turn.json()["transcript"]
                        if run:
                            figures.setdefault(f"voice turn ({kind}) total", []).append(done - began)
                            figures.setdefault(f"  turn response ({kind})", []).append(answered - began)
                            figures.setdefault(f"  reply audio download ({kind})", []).append(done - answered)
                    began = time.perf_counter()
                    client.post("/v1/audio/transcriptions", files={"file": ("turn.wav", audio["wav"], "audio/wav")},
                                data={"language": "en"}).raise_for_status()
                    stt = time.perf_counter() - began
                    sid = client.post("/v1/conversation/sessions", json={"topic": "restaurant"}).json()["session_id"]
                    began = time.perf_counter()
                    client.post(f"/v1/conversation/sessions/{sid}/turns", json={"text": transcript}).raise_for_status()
                    typed = time.perf_counter() - began
                    if run:
                        figures.setdefault("speech-to-text alone (wav)", []).append(stt)
                        figures.setdefault("typed turn (understand + speak)", []).append(typed)
            print(f"transcript: {transcript!r}")
            for name, values in figures.items():
                print(summary(name, values))
            worst = statistics.median(figures["voice turn (webm) total"])
            print(f"goal: full voice turn <= 2.5 s: {'met' if worst <= 2.5 else 'NOT met'} (webm p50 {worst:.2f} s)")
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
