"""Benchmark of the match-result recorder: p50/p99 latency and images per minute at concurrency 1 and 4,
over HTTP against a real `malgeul serve ocr` process, next to plain whole-page pytesseract on the same images.

    .venv/bin/python bench/ocr/bench_ocr.py --images 40 --concurrency 1 4
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from services.ocr.evaluate import decode, whole_page_tesseract  # noqa: E402
from services.ocr.synthetic import cases  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _figures(label: str, latencies: list[float], wall: float) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return (f"{label}: n={len(latencies)} p50_ms={statistics.median(ordered):.0f} p99_ms={p99:.0f} "
            f"images_per_minute={len(latencies) / wall * 60:.1f}")


def _run(fn, items, concurrency: int) -> tuple[list[float], float]:  # noqa: ANN001
    def one(item) -> float:  # noqa: ANN001
        started = time.perf_counter()
        fn(item)
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, items))
    return latencies, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--seed", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--workers", type=int, default=2, help="MALGEUL_OCR_WORKERS of the service")
    args = parser.parse_args()
    images = cases(args.images, args.seed)
    port = _free_port()
    env = {**os.environ, "MALGEUL_VAR_DIR": tempfile.mkdtemp(prefix="ocr-bench-"), "MALGEUL_OCR_WORKERS": str(args.workers),
           "MALGEUL_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "malgeul", "serve", "ocr", "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        client = httpx.Client(timeout=120)

        def post(case) -> None:  # noqa: ANN001
            suffix = "jpg" if case.media_type == "image/jpeg" else "png"
            response = client.post(f"{url}/v1/ocr/match-results",
                                   files={"image": (f"s.{suffix}", case.image, case.media_type)})
            response.raise_for_status()

        post(images[0])  # warm-up
        print(f"ocr bench: {len(images)} generated screens (seeds {args.seed}..), service workers={args.workers}, "
              f"{os.cpu_count()} CPUs")
        baseline = whole_page_tesseract()
        decoded = [decode(c) for c in images]
        for concurrency in args.concurrency:
            latencies, wall = _run(post, images, concurrency)
            print(_figures(f"malgeul HTTP concurrency={concurrency}", latencies, wall))
            latencies, wall = _run(baseline, decoded, concurrency)
            print(_figures(f"plain pytesseract whole page concurrency={concurrency}", latencies, wall))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
