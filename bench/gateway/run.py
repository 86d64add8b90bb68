"""Gateway overhead: p50/p99 latency and throughput of a small route, direct vs through the gateway.

Usage: .venv/bin/python bench/gateway/run.py [--requests 2000] [--seconds 15] [--work-ms 0 5]
Everything runs on loopback; each measurement is bounded by a request count and a time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.processes import ServiceProcess  # noqa: E402

CONCURRENCY = (1, 16, 64)


async def measure(url: str, concurrency: int, total: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    # aiohttp as the client: httpx's pool costs more CPU per request than the gateway at 64 connections,
    # so with it the client, not the server, set the figures at high concurrency.
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:

        async def get() -> int:
            async with client.get(url) as response:
                await response.read()
                return response.status

        await asyncio.gather(*(get() for _ in range(concurrency)))  # open and warm every connection
        remaining = total

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                started = time.perf_counter()
                status = await get()
                latencies.append(time.perf_counter() - started)
                errors += status != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "n": len(latencies),
        "errors": errors,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "rps": len(latencies) / elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--seconds", type=float, default=15.0, help="time cap per measurement")
    parser.add_argument("--work-ms", type=float, nargs="+", default=[0.0, 5.0], help="simulated service time")
    args = parser.parse_args()

    log_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    backend = ServiceProcess("bench-backend", {}, log_dir, asgi_app="bench.gateway.backend:app").start()
    gateway = ServiceProcess(
        "gateway", {"MALGEUL_GATEWAY_CHATBOT_URL": backend.url, "MALGEUL_LOG_LEVEL": "WARNING"}, log_dir
    ).start()
    try:
        print(f"{'work':>6} {'conc':>5} | {'direct p50':>10} {'p99':>8} {'rps':>7} | "
              f"{'gateway p50':>11} {'p99':>8} {'rps':>7} | p50 ratio")
        for work in args.work_ms:
            for concurrency in CONCURRENCY:
                path = f"/v1/faq/ping?work_ms={work}"
                direct = asyncio.run(measure(backend.url + path, concurrency, args.requests, args.seconds))
                proxied = asyncio.run(measure(gateway.url + path, concurrency, args.requests, args.seconds))
                ratio = proxied["p50_ms"] / direct["p50_ms"]
                print(
                    f"{work:>4g}ms {concurrency:>5} | {direct['p50_ms']:>8.2f}ms {direct['p99_ms']:>6.2f}ms "
                    f"{direct['rps']:>7.0f} | {proxied['p50_ms']:>9.2f}ms {proxied['p99_ms']:>6.2f}ms "
                    f"{proxied['rps']:>7.0f} | {ratio:.2f}x"
                    + (f"  errors {direct['errors']}/{proxied['errors']}" if direct["errors"] or proxied["errors"] else "")
                )
    finally:
        gateway.stop()
        backend.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
