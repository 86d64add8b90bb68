"""`make load`: a mixed workload against the whole product; prints per-route figures and memory, exits 1 on a miss.

    python -m reliability.load [--clients 32] [--seconds 60] [--warmup 10]

Starts the product as `malgeul up` runs it (reliability.stack), deals ``--clients`` closed-loop clients to
the five features (FAQ ask, SQL ask, speech, transcription, OCR), runs a warm-up, then ``--seconds`` of
measured load while sampling each process's resident memory once a second. Goals: no failed request (warm-up
included), and no process whose mean memory over the last 20 s is more than 10% above its mean over the
first 20 s. The per-route p99 is recorded as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from reliability.stack import DEFAULT_VAR_DIR, Stack
from reliability.workload import (
    FIGURES_HEADER,
    Clients,
    RouteFigures,
    Workload,
    describe_errors,
    figures,
    percentile,
    session,
)

MEMORY_WINDOW = 20.0  # seconds at each end of the run whose mean memory is compared
MAX_MEMORY_GROWTH = 0.10


@dataclass
class MemoryFigures:
    process: str
    first_mb: float
    last_mb: float
    peak_mb: float

    @property
    def growth(self) -> float:
        return self.last_mb / self.first_mb - 1 if self.first_mb else 0.0

    def line(self) -> str:
        return (
            f"{self.process:8s} {self.first_mb:9.1f} {self.last_mb:9.1f} {self.peak_mb:9.1f} {self.growth * 100:+7.1f}%"
        )


class MemorySampler:
    """Resident memory of every process of the product, once a second (processes found once, by port)."""

    def __init__(self, stack: Stack, interval: float = 1.0) -> None:
        self.stack = stack
        self.interval = interval
        self.samples: list[tuple[float, dict[str, int]]] = []
        self._processes = stack.processes()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            sizes = {}
            for name, process in self._processes.items():
                try:
                    sizes[name] = process.memory_info().rss
                except psutil.NoSuchProcess:
                    sizes[name] = 0
            self.samples.append((time.monotonic(), sizes))
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def figures(self, start: float, end: float, window: float = MEMORY_WINDOW) -> list[MemoryFigures]:
        rows = []
        for name in self._processes:
            first = [s[name] for t, s in self.samples if start <= t < start + window]
            last = [s[name] for t, s in self.samples if end - window <= t < end]
            every = [s[name] for t, s in self.samples if start <= t < end]
            mb = 1024 * 1024
            rows.append(
                MemoryFigures(
                    name,
                    statistics.fmean(first) / mb if first else 0.0,
                    statistics.fmean(last) / mb if last else 0.0,
                    max(every, default=0) / mb,
                )
            )
        return rows


@dataclass
class LoadResult:
    routes: list[RouteFigures]
    memory: list[MemoryFigures]
    failures: list[str]
    report: str
    errors: int  # failed requests, warm-up included

    @property
    def ok(self) -> bool:
        return not self.failures


ROUTE_PATHS = {
    "faq": "/v1/faq/",
    "sql": "/v1/sql/",
    "tts": "/v1/audio/speech",
    "stt": "/v1/audio/transcriptions",
    "ocr": "/v1/ocr/",
}


def gateway_overhead(log_path: Path, offset: int) -> dict[str, list[float]]:
    """Per route, the gateway's time minus the service's for each request (ms), from the access log lines
    written after ``offset`` (both processes log every request with its id)."""
    times: dict[str, dict[str, float]] = {}
    with open(log_path, "rb") as log:
        log.seek(offset)
        for raw in log:
            if b'"malgeul.access"' not in raw:
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            times.setdefault(line.get("request_id", ""), {})[line.get("service", "")] = line.get("ms", 0.0)
            times[line["request_id"]]["path"] = line.get("path", "")  # type: ignore[assignment]
    out: dict[str, list[float]] = {route: [] for route in ROUTE_PATHS}
    for entry in times.values():
        services = [k for k in entry if k not in ("gateway", "path")]
        if "gateway" not in entry or len(services) != 1:
            continue
        for route, prefix in ROUTE_PATHS.items():
            if str(entry["path"]).startswith(prefix):
                out[route].append(entry["gateway"] - entry[services[0]])
    return out


async def run_load(stack: Stack, clients: int, seconds: float, warmup: float) -> LoadResult:
    """Warm up, then measure: per-route figures, memory, the goals missed, and the report to print."""
    lines: list[str] = []
    async with session(connections=clients + 8) as http:
        workload = await Workload.prepare(http, stack.url)
        lines.append(
            f"workload: {len(workload.faq_questions)} FAQ questions, {len(workload.sql_questions)} SQL questions, "
            f"{len(workload.speech_inputs)} texts to read, {len(workload.wavs)} WAVs, {len(workload.screens)} screens"
        )
        runner = Clients(http, stack.url, workload)
        memory = MemorySampler(stack)
        runner.start(clients)
        await asyncio.sleep(warmup)
        memory.start()
        log_offset = stack.log_path.stat().st_size if stack.log_path.exists() else 0
        started = time.monotonic()
        await asyncio.sleep(seconds)
        ended = time.monotonic()
        await runner.stop()
        await memory.stop()

    warm = [s for s in runner.samples if s.started < started]
    measured = runner.between(started, ended)
    late = [s for s in runner.samples if s.started >= ended]
    lines.append(f"{clients} clients, {warmup:g} s warm-up, {seconds:g} s measured (requests started in the window)")
    lines.append(FIGURES_HEADER)
    rows = figures(measured, ended - started)
    lines += [row.line() for row in rows]
    total = len(measured)
    errors = sum(not s.ok for s in runner.samples)
    lines.append(
        f"all    {total:6d} {sum(r.errors for r in rows):6d} {total / (ended - started):7.2f}   "
        f"(warm-up: {len(warm)} requests, {sum(not s.ok for s in warm)} errors; "
        f"{len(late)} started after the window)"
    )
    overhead = gateway_overhead(stack.log_path, log_offset) if stack.log_path.exists() else {}
    if any(overhead.values()):
        lines.append("gateway overhead (gateway time - service time per request, ms): p50 / p99 / max")
        for route, values in overhead.items():
            if values:
                lines.append(
                    f"{route:6s} {percentile(values, 50):8.1f} {percentile(values, 99):8.1f} {max(values):8.1f}"
                    f"   ({len(values)} requests)"
                )
    window = min(MEMORY_WINDOW, seconds / 3)  # short runs (tests) compare their first and last thirds
    lines.append(f"memory (resident MB): mean of the first and last {window:g} s, peak, growth")
    lines.append(f"{'process':8s} {'first':>9s} {'last':>9s} {'peak':>9s} {'growth':>8s}")
    mem_rows = memory.figures(started, ended, window)
    lines += [row.line() for row in mem_rows]

    failures = []
    if errors:
        failures.append(f"{errors} failed requests: " + "; ".join(describe_errors(runner.samples)))
    if any(r.count == 0 for r in rows):
        failures.append("a route got no answer at all: " + ", ".join(r.route for r in rows if r.count == 0))
    grown = [m for m in mem_rows if m.growth > MAX_MEMORY_GROWTH]
    if grown:
        failures.append(
            f"memory grew more than {MAX_MEMORY_GROWTH:.0%}: " + ", ".join(f"{m.process} {m.growth * 100:+.1f}%" for m in grown)
        )
    lines += [f"FAIL {f}" for f in failures] or ["PASS error rate 0, memory stable"]
    return LoadResult(rows, mem_rows, failures, "\n".join(lines), errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.load", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of load before measuring")
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_VAR_DIR, help="prepared artifacts (kept)")
    args = parser.parse_args(argv)
    print(f"starting the product (var: {args.var_dir}) ...", flush=True)
    with Stack(var_dir=args.var_dir, log_path=args.var_dir / "load.log") as stack:
        print(f"ready at {stack.url}; loading ...", flush=True)
        result = asyncio.run(run_load(stack, args.clients, args.seconds, args.warmup))
    print(result.report)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
