"""`make chaos`: kill and freeze each service of the running product under load; prints figures, exits 1 on a miss.

    python -m reliability.chaos [--clients 5] [--baseline 15] [--settle 5] [--services chatbot,ocr,...]

Starts the product as `malgeul up` runs it (reliability.stack) with short gateway timeouts (CHAOS_TIMEOUTS),
runs a light mixed load (reliability.workload), measures each route's baseline latency, then for each service:

- kill: SIGKILL it (a crash). Goals: every request to its routes in the outage is answered 503 within 1 s
  (counted from the kill for requests already in flight); the other routes have no error and keep their
  median latency (at most 2x the baseline, +0.1 s); the launcher restarts it; the gateway answers its routes
  again within 5 s of the restarted service reporting ready.
- freeze: SIGSTOP it (a backend that hangs), one request to it must get the gateway's 504 at the route's
  configured timeout (within +1 s), then SIGCONT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

from reliability.stack import DEFAULT_VAR_DIR, SERVICES, Stack
from reliability.workload import (
    FIGURES_HEADER,
    ROUTES,
    SERVICE_OF,
    Clients,
    Sample,
    Workload,
    describe_errors,
    figures,
    send,
    session,
)

# Short gateway timeouts so a frozen backend costs seconds, not minutes; still far above each route's latency
# under the light chaos load.
CHAOS_TIMEOUTS = {
    "/v1/faq": 5.0,
    "/v1/sql": 5.0,
    "/v1/matches": 5.0,
    "/v1/ocr": 30.0,
    "/v1/audio": 10.0,
    "/v1/audio/transcriptions": 30.0,
    "/v1/conversation": 10.0,
}
# The route each freeze probe uses, with the timeout the gateway applies to it.
FREEZE_PROBES = {
    "chatbot": ("GET", "/v1/faq/collections", "/v1/faq"),
    "seq2sql": ("GET", "/v1/sql/databases", "/v1/sql"),
    "ocr": ("GET", "/v1/matches?limit=1", "/v1/matches"),
    "tts": ("GET", "/v1/audio/voices", "/v1/audio"),
}
# Which feature's request probes a killed service (the real work, so "recovered" means it answers again).
KILL_PROBES = {"chatbot": "faq", "seq2sql": "sql", "ocr": "ocr", "tts": "tts"}
MAX_503_SECONDS = 1.0
MAX_RECOVERY_SECONDS = 5.0
MAX_LATENCY_RATIO = 2.0
LATENCY_SLACK = 0.1  # seconds, so millisecond routes are not failed for noise
MAX_TIMEOUT_OVERSHOOT = 1.0
RESTART_WAIT = 300.0


@dataclass
class KillFigures:
    service: str
    outage_answers: int = 0  # requests to the killed service answered while it was down
    outage_statuses: dict[int, int] = field(default_factory=dict)
    max_503_seconds: float = math.nan  # slowest 503, from max(request start, kill)
    slowest_503: dict[str, float] = field(default_factory=dict)  # by who answered: gateway or service
    restarted_pid: bool = False
    ready_after: float = math.nan  # kill -> the restarted service's own /readyz says ready
    recovery: float = math.nan  # ready -> first answer through the gateway
    others: dict[str, tuple[float, float, int, int]] = field(default_factory=dict)  # route: (base p50, p50, n, errors)
    failures: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        statuses = ", ".join(f"{code or 'none'} x{n}" for code, n in sorted(self.outage_statuses.items()))
        out = [
            f"kill {self.service}: {self.outage_answers} requests answered while down ({statuses}); "
            f"slowest 503 {self.max_503_seconds:.3f} s ("
            + ", ".join(f"{who} {t:.3f} s" for who, t in sorted(self.slowest_503.items()))
            + f"); restarted by the launcher: {self.restarted_pid}; "
            f"ready {self.ready_after:.1f} s after the kill; gateway answered {self.recovery:.2f} s after ready",
        ]
        for route, (base, p50, n, errors) in self.others.items():
            ratio = p50 / base if base else math.nan
            out.append(
                f"    other route {route:4s}: p50 {p50:.3f} s over {n} requests while down "
                f"(baseline {base:.3f} s, x{ratio:.2f}), {errors} errors"
            )
        return out


@dataclass
class FreezeFigures:
    service: str
    path: str
    timeout: float
    status: int = 0
    seconds: float = math.nan
    background: dict[int, int] = field(default_factory=dict)  # statuses of its failed load requests meanwhile
    stream: str = ""  # how a streamed answer that stalled mid-way ended (speech only)
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        bg = ", ".join(f"{code} x{n}" for code, n in sorted(self.background.items())) or "none"
        return (
            f"freeze {self.service}: {self.path} answered {self.status} after {self.seconds:.2f} s "
            f"(timeout {self.timeout:g} s); failed load requests meanwhile: {bg}"
            + (f"; a speech stream stalled mid-way {self.stream}" if self.stream else "")
        )


async def _service_ready(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url + "/readyz", timeout=aiohttp.ClientTimeout(total=1.0)) as response:
            await response.read()
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


def _pid(stack: Stack, name: str) -> int | None:
    process = stack.processes().get(name)
    return process.pid if process else None


async def kill_and_recover(
    stack: Stack, http: aiohttp.ClientSession, runner: Clients, service: str, baseline: dict[str, float]
) -> KillFigures:
    """SIGKILL ``service`` under the running load; measure the 503s, the restart and the recovery."""
    result = KillFigures(service)
    routes = [r for r, s in SERVICE_OF.items() if s == service]
    probe_route = KILL_PROBES[service]
    old_pid = _pid(stack, service)
    killed = time.monotonic()
    stack.kill(service)
    probes: list[Sample] = []
    ready_at: float | None = None

    async def probe() -> None:
        # Sequential probes through the gateway until one succeeds after the service is ready again.
        while True:
            method, path, kwargs = runner.workload.request(probe_route)
            sample = await send(http, stack.url, probe_route, method, path, **kwargs)
            probes.append(sample)
            if sample.ok and ready_at is not None:
                return
            await asyncio.sleep(0.1)

    prober = asyncio.create_task(probe())
    deadline = killed + RESTART_WAIT
    while time.monotonic() < deadline:
        if await _service_ready(http, stack.service_url(service)):
            ready_at = time.monotonic()
            break
        await asyncio.sleep(0.1)
    if ready_at is None:
        prober.cancel()
        result.failures.append(f"{service} was not ready again {RESTART_WAIT:.0f} s after the kill")
        return result
    try:
        await asyncio.wait_for(prober, timeout=60)
    except TimeoutError:
        result.failures.append(f"the gateway did not answer {service}'s routes within 60 s of it being ready")
        return result
    # Every route of the service answered again (the load's clients of its other routes too).
    until = time.monotonic() + 60
    while time.monotonic() < until and not all(
        any(s.ok and s.route == r and s.started >= killed for s in runner.samples + probes) for r in routes
    ):
        await asyncio.sleep(0.2)
    # Recovered when a request that reached the service through the gateway first succeeded (its start: the
    # answer itself takes the route's normal time, e.g. seconds for OCR).
    mine_after = [s for s in runner.samples + probes if s.route in routes and s.started >= killed]
    # Per route (speech and transcription share a service but may come back one after the other).
    back = {r: min((s.started for s in mine_after if s.ok and s.route == r), default=math.inf) for r in routes}
    recovered = max(t for t in back.values() if t < math.inf)
    result.ready_after = ready_at - killed
    result.recovery = max(0.0, recovered - ready_at)
    relapses = [s for s in mine_after if s.started > back[s.route] and not s.ok]
    if relapses:
        result.failures.append(f"{service} failed again after recovering: " + "; ".join(describe_errors(relapses)))
    new_pid = await asyncio.to_thread(_pid, stack, service)
    result.restarted_pid = new_pid is not None and new_pid != old_pid

    # Everything that touched the killed service's routes and was answered while it was down.
    mine = [s for s in runner.samples + probes if s.route in routes and killed <= s.ended and s.started < recovered]
    failed = [s for s in mine if not s.ok]
    result.outage_answers = len(mine)
    for s in mine:
        result.outage_statuses[s.status] = result.outage_statuses.get(s.status, 0) + 1
    for s in failed:
        if s.status == 503:
            # The gateway's own 503 (the port is closed) or the restarted service's (still loading).
            source = "gateway" if f"({service})" in s.detail else "service"
            delay = s.ended - max(s.started, killed)
            result.slowest_503[source] = max(result.slowest_503.get(source, 0.0), delay)
    result.max_503_seconds = max(result.slowest_503.values(), default=math.nan)
    wrong = [s for s in failed if s.status != 503]
    if wrong:
        result.failures.append(f"{service} down: answers other than 503: " + "; ".join(describe_errors(wrong)))
    if not failed:
        result.failures.append(f"{service} down: no request got a 503 (was it really down?)")
    elif result.max_503_seconds > MAX_503_SECONDS:
        result.failures.append(f"{service} down: a 503 took {result.max_503_seconds:.2f} s (goal {MAX_503_SECONDS:g} s)")
    if not result.restarted_pid:
        result.failures.append(f"the launcher did not restart {service} (pid {old_pid} -> {new_pid})")
    if result.recovery > MAX_RECOVERY_SECONDS:
        result.failures.append(
            f"the gateway answered {service} {result.recovery:.2f} s after it was ready (goal {MAX_RECOVERY_SECONDS:g} s)"
        )

    for route in ROUTES:
        if route in routes or route not in baseline:
            continue
        during = runner.between(killed, recovered, [route])
        errors = [s for s in during if not s.ok]
        p50 = statistics.median(s.seconds for s in during) if during else math.nan
        result.others[route] = (baseline[route], p50, len(during), len(errors))
        if errors:
            result.failures.append(f"{route} failed while {service} was down: " + "; ".join(describe_errors(errors)))
        if during and p50 > MAX_LATENCY_RATIO * baseline[route] + LATENCY_SLACK:
            result.failures.append(
                f"{route} median {p50:.3f} s while {service} was down, baseline {baseline[route]:.3f} s "
                f"(goal at most x{MAX_LATENCY_RATIO:g} + {LATENCY_SLACK:g} s)"
            )
    return result


async def freeze(
    stack: Stack, http: aiohttp.ClientSession, runner: Clients, service: str, timeouts: dict[str, float]
) -> FreezeFigures:
    """SIGSTOP ``service``: a request to it must get a 504 at the route's timeout; then SIGCONT."""
    method, path, prefix = FREEZE_PROBES[service]
    result = FreezeFigures(service, path, timeouts[prefix])
    routes = [r for r, s in SERVICE_OF.items() if s == service]
    process = stack.processes()[service]
    stream = await _open_speech_stream(http, stack.url) if service == "tts" else None
    frozen = time.monotonic()
    process.suspend()
    try:
        sample = await send(http, stack.url, f"freeze-{service}", method, path)
        if stream is not None:
            result.stream = await _finish_stream(stream, frozen)
            if result.stream.startswith("ended cleanly"):
                result.failures.append(
                    f"frozen {service}: a speech stream that stalled after its first bytes {result.stream}, "
                    "so the client cannot tell the audio is cut off"
                )
    finally:
        try:
            process.resume()
        except psutil.NoSuchProcess:
            pass
    thawed = time.monotonic()
    result.status, result.seconds = sample.status, sample.seconds
    if sample.status != 504:
        result.failures.append(f"frozen {service}: {path} answered {sample.status} ({sample.detail}), not 504")
    elif not result.timeout - 0.05 <= sample.seconds <= result.timeout + MAX_TIMEOUT_OVERSHOOT:
        result.failures.append(
            f"frozen {service}: the 504 came after {sample.seconds:.2f} s, timeout {result.timeout:g} s"
        )
    # The load's own requests to the frozen service: a failure must be a 504 (each at its own route's timeout).
    for s in runner.samples:
        if s.route in routes and not s.ok and frozen <= s.ended <= thawed + MAX_TIMEOUT_OVERSHOOT:
            result.background[s.status] = result.background.get(s.status, 0) + 1
            if s.status == 200:
                # Headers and the start of a streamed body came before the freeze; the gateway then ended the body
                # cleanly at its read timeout, so the client took a cut-off answer for a whole one.
                result.failures.append(
                    f"frozen {service}: a streamed {s.route} answer was cut off but arrived as a complete 200 "
                    f"({s.detail}) after {s.seconds:.1f} s"
                )
            elif s.status == 0 and "ClientPayloadError" in s.detail:
                pass  # a streamed answer cut off by the freeze and seen as broken: what the client must see
            elif s.status != 504:
                result.failures.append(f"frozen {service}: a {s.route} request got {s.status} ({s.detail[:100]})")
    return result


async def _open_speech_stream(http: aiohttp.ClientSession, base_url: str) -> tuple[aiohttp.ClientResponse, int]:
    """A long text (40 sentences, ~2 min of audio) read aloud, streamed: returns once its first bytes arrived."""
    text = " ".join(f"This is sentence number {i} of a long answer read aloud." for i in range(1, 41))
    response = await http.post(
        base_url + "/v1/audio/speech", json={"input": text, "voice": "en-joe"}, timeout=aiohttp.ClientTimeout(total=120)
    )
    return response, len(await response.content.readany())


async def _finish_stream(stream: tuple[aiohttp.ClientResponse, int], frozen: float) -> str:
    """How a stream whose service froze mid-way ended for the client (times from the freeze)."""
    response, received = stream
    try:
        async for chunk in response.content.iter_any():
            received += len(chunk)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"broke off with {type(exc).__name__} {time.monotonic() - frozen:.1f} s after the freeze"
    finally:
        response.release()
    return f"ended cleanly (200, {received} bytes in all) {time.monotonic() - frozen:.1f} s after the freeze"


async def run_chaos(
    stack: Stack, clients: int, baseline_seconds: float, settle: float, services: list[str], freezes: bool
) -> tuple[bool, str]:
    lines: list[str] = []
    failures: list[str] = []
    async with session(connections=clients + 8) as http:
        workload = await Workload.prepare(http, stack.url)
        runner = Clients(http, stack.url, workload)
        runner.start(clients)
        await asyncio.sleep(2.0)  # let every client get going
        base_start = time.monotonic()
        await asyncio.sleep(baseline_seconds)
        base_end = time.monotonic()
        base_samples = runner.between(base_start, base_end)
        rows = figures(base_samples, base_end - base_start)
        baseline = {r.route: r.p50 for r in rows if r.count}
        lines.append(f"baseline: {clients} clients, {baseline_seconds:g} s")
        lines.append(FIGURES_HEADER)
        lines += [r.line() for r in rows]
        if any(not s.ok for s in base_samples):
            failures.append("errors before any fault: " + "; ".join(describe_errors(base_samples)))

        for service in services:
            result = await kill_and_recover(stack, http, runner, service, baseline)
            lines += result.lines()
            failures += result.failures
            settled = time.monotonic()
            await asyncio.sleep(settle)
            after = runner.between(settled, time.monotonic())
            if any(not s.ok for s in after):
                failures.append(f"errors after {service} recovered: " + "; ".join(describe_errors(after)))

        if freezes:
            for service in services:
                result = await freeze(stack, http, runner, service, stack_timeouts(stack))
                lines.append(result.line())
                failures += result.failures
                await asyncio.sleep(settle)
        await runner.stop()
    lines += [f"FAIL {f}" for f in failures] or ["PASS every goal met"]
    return not failures, "\n".join(lines)


def stack_timeouts(stack: Stack) -> dict[str, float]:
    """The gateway's route timeouts as this stack configured them."""
    from gateway.routing import DEFAULT_ROUTES

    timeouts = {r.prefix: r.timeout for r in DEFAULT_ROUTES}
    timeouts.update(json.loads(stack.env.get("MALGEUL_GATEWAY_TIMEOUTS") or "{}"))
    return timeouts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=5, help="background load (dealt to the five features)")
    parser.add_argument("--baseline", type=float, default=15.0, help="seconds of load measured before any fault")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of load between faults")
    parser.add_argument("--services", default=",".join(SERVICES), help="comma-separated, in kill order")
    parser.add_argument("--no-freeze", action="store_true", help="skip the SIGSTOP (504) part")
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_VAR_DIR, help="prepared artifacts (kept)")
    args = parser.parse_args(argv)
    services = [s for s in args.services.split(",") if s]
    unknown = set(services) - set(SERVICES)
    if unknown:
        parser.error(f"unknown services: {', '.join(sorted(unknown))}")
    env = {"MALGEUL_GATEWAY_TIMEOUTS": json.dumps(CHAOS_TIMEOUTS)}
    print(f"starting the product (var: {args.var_dir}) ...", flush=True)
    with Stack(var_dir=args.var_dir, env=env, log_path=args.var_dir / "chaos.log") as stack:
        print(f"ready at {stack.url}; faults under load ...", flush=True)
        ok, report = asyncio.run(
            run_chaos(stack, args.clients, args.baseline, args.settle, services, not args.no_freeze)
        )
    print(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
