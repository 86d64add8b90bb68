"""`make fuzz`: schemathesis against the gateway's /openapi.json, then the bad-file corpus, on loopback.

Starts the product as `malgeul up` runs it (reliability/stack.py) with an API key configured, then:
1. sends schemathesis-generated requests to every operation of the merged API document, with the key
   (valid and invalid data) and without it (every `/v1/*` must be a 401), checking each response: no 5xx,
   the status, content type and body as the document declares them, an answer within the timeout;
2. sends the bad-file corpus (reliability/badfiles.py) to every upload route.
It prints the figures (requests, statuses, failures, time, peak RSS of each process) and exits non-zero
when anything failed. Each failure is printed with a curl command that repeats it.

    python -m reliability.fuzz                      # the full run (docs/reliability.md has its figures)
    python -m reliability.fuzz --examples 5 --no-badfiles
    python -m reliability.fuzz --url http://127.0.0.1:8000 --key KEY   # against a product already running
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from reliability import badfiles
from reliability.stack import DEFAULT_VAR_DIR, Stack

FUZZ_KEY = "fuzz-key-0123456789"
# Generous, so the fuzzer sees the API's answers rather than the rate limiter's (429 is tested elsewhere).
FUZZ_RATE_LIMIT = "100000/minute"
REQUEST_TIMEOUT_S = 120.0
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Operations whose valid requests cost seconds of CPU each (a collection build, a training, speech): fewer examples.
EXPENSIVE = {
    "PUT /v1/faq/collections/{collection}": 0.25,
    "POST /v1/sql/databases": 0.25,
    "POST /v1/audio/speech": 0.25,
    "POST /v1/audio/transcriptions": 0.5,
    "POST /v1/conversation/sessions/{session_id}/turns": 0.5,
    "POST /v1/ocr/match-results": 0.5,
}


# Open bugs in services whose owners are changing them now (strict xfail tests in tests/reliability): reported
# apart, so a run fails only on something new. (operation, text in "<status> <message>") -> the bug.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


@dataclass
class Failure:
    operation: str
    mode: str
    status: int | None
    message: str
    curl: str

    @property
    def known(self) -> str | None:
        """The open bug this failure is, if it is a known one."""
        text = f"{self.status} {self.message}"
        return next((bug for (op, word), bug in KNOWN_FAILURES.items() if op == self.operation and word in text), None)


@dataclass
class FuzzReport:
    requests: int = 0
    without_key: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    per_operation: Counter = field(default_factory=Counter)

    def unique_failures(self) -> list[Failure]:
        """One failure per operation, status and kind of problem (the values that differ are blanked)."""
        seen: dict[tuple[str, int | None, str], Failure] = {}
        for failure in self.failures:
            kind = re.sub(r'"[^"]*"|\d+', "_", failure.message.splitlines()[0])
            seen.setdefault((failure.operation, failure.status, kind), failure)
        return list(seen.values())


def _describe(exc: BaseException) -> str:
    inner = getattr(exc, "exceptions", None)
    if inner:
        return "\n".join(_describe(e) for e in inner)
    title = getattr(exc, "title", "") or type(exc).__name__
    message = getattr(exc, "message", "") or str(exc)
    return f"{title}: {message}".strip()


def load_schema(base_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(base_url + "/openapi.json", wait_for_schema=30)


def fuzz_operation(
    operation: schemathesis.APIOperation,
    base_url: str,
    report: FuzzReport,
    *,
    mode: GenerationMode,
    examples: int,
    headers: dict[str, str],
    seed: int,
    expect_status: int | None = None,
) -> None:
    """Send up to ``examples`` generated requests to one operation and record what they got."""
    label = f"{operation.method.upper()} {operation.path}"
    session = requests.Session()

    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.seed(seed)
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        started = time.perf_counter()
        try:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=REQUEST_TIMEOUT_S)
        except requests.Timeout:
            report.requests += 1
            report.failures.append(Failure(label, mode.value, None, f"no answer within {REQUEST_TIMEOUT_S:.0f} s",
                                           case.as_curl_command(headers=headers)))
            return
        except requests.RequestException as exc:
            report.requests += 1
            report.failures.append(Failure(label, mode.value, None, f"connection failed: {exc}",
                                           case.as_curl_command(headers=headers)))
            return
        seconds = time.perf_counter() - started
        report.requests += 1
        report.without_key += "Authorization" not in headers
        report.per_operation[label] += 1
        report.statuses[response.status_code] += 1
        report.slowest = max(report.slowest, (seconds, label))
        problems: list[str] = []
        if expect_status is not None and response.status_code != expect_status:
            problems.append(f"status {response.status_code}, expected {expect_status}")
        # /readyz answers 503 while a service loads or rebuilds: that is what it reports, not a server error.
        checks = CHECKS[1:] if label == "GET /readyz" else CHECKS
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is recorded, the run goes on
            problems.append(_describe(exc))
        if problems:
            report.failures.append(Failure(label, mode.value, response.status_code, "\n".join(problems),
                                           case.as_curl_command(headers=headers)))

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # an operation with nothing (left) to vary, e.g. a GET without parameters
    finally:
        session.close()


def operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    """Every operation of the document (one schemathesis cannot read stops the run, rather than being skipped)."""
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(
    base_url: str,
    key: str | None,
    examples: int,
    seed: int = 8,
    log: Callable[[str], None] = lambda line: None,
    only: Iterable[str] | None = None,
) -> FuzzReport:
    """The schemathesis run: with the key (valid and invalid data), then without it (a 401 for every `/v1/*`)."""
    schema = load_schema(base_url)
    report = FuzzReport()
    wanted = set(only) if only is not None else None
    with_key = {"Authorization": f"Bearer {key}"} if key else {}
    for operation in operations(schema):
        label = f"{operation.method.upper()} {operation.path}"
        if wanted is not None and label not in wanted:
            continue
        count = max(2, int(examples * EXPENSIVE.get(label, 1.0)))
        before = report.requests
        started = time.perf_counter()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(operation, base_url, report, mode=mode, examples=count, headers=with_key, seed=seed)
        if key and operation.path.startswith("/v1/"):
            fuzz_operation(operation, base_url, report, mode=GenerationMode.POSITIVE, examples=max(2, count // 4),
                           headers={}, seed=seed, expect_status=401)
        log(f"{label:55s} {report.requests - before:5d} requests  {time.perf_counter() - started:6.1f} s")
    return report


def _print_table(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    for name, value in rows:
        print(f"  {name:40s} {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=40, help="generated requests per operation and mode")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--no-schemathesis", action="store_true")
    parser.add_argument("--no-badfiles", action="store_true")
    parser.add_argument("--url", help="fuzz a product already running here instead of starting one")
    parser.add_argument("--key", default=None, help="its API key (with --url)")
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_VAR_DIR)
    parser.add_argument("--report", type=Path, default=None, help="write the figures and failures as JSON here")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, flush=True)

    stack: Stack | None = None
    if args.url:
        base_url, key = args.url.rstrip("/"), args.key
    else:
        key = FUZZ_KEY
        stack = Stack(args.var_dir, env={"MALGEUL_API_KEYS": key, "MALGEUL_GATEWAY_RATE_LIMIT": FUZZ_RATE_LIMIT})
        log(f"starting the product (malgeul up, var {args.var_dir}) ...")
        started = time.perf_counter()
        stack.start()
        base_url = stack.url
        log(f"ready in {time.perf_counter() - started:.0f} s at {base_url}")
    summary: dict = {"url": base_url, "examples": args.examples, "seed": args.seed}
    failed = False
    try:
        watch = badfiles.MemoryWatch(stack.rss_bytes if stack else dict, interval=0.5)
        with watch:
            if not args.no_schemathesis:
                faq_before = _collections(base_url, key)
                log("\n== schemathesis: every operation of /openapi.json, with and without the API key")
                started = time.perf_counter()
                report = fuzz(base_url, key, args.examples, args.seed, log)
                seconds = time.perf_counter() - started
                _drop_new_collections(base_url, key, faq_before)
                unique = report.unique_failures()
                new = [f for f in unique if not f.known]
                failed |= bool(new)
                _print_table("schemathesis figures", [
                    ("requests sent", f"{report.requests:,} ({report.without_key:,} of them without the key)"),
                    ("per status", ", ".join(f"{s}: {n}" for s, n in sorted(report.statuses.items()))),
                    ("failures (unique)", f"{len(report.failures)} ({len(unique)}: {len(new)} new, "
                                          f"{len(unique) - len(new)} known open bugs)"),
                    ("time", f"{seconds:.0f} s"),
                    ("slowest answer", f"{report.slowest[0]:.1f} s ({report.slowest[1]})"),
                ])
                for failure in unique:
                    tag = f"KNOWN ({failure.known})" if failure.known else "FAIL"
                    print(f"\n{tag} {failure.operation} [{failure.mode}] -> {failure.status}\n{failure.message}\n"
                          f"  repeat: {failure.curl}")
                summary["schemathesis"] = {
                    "requests": report.requests, "statuses": dict(report.statuses), "seconds": round(seconds, 1),
                    "without_key": report.without_key,
                    "failures": [{**vars(f), "known": f.known} for f in unique], "per_operation": dict(report.per_operation),
                }
            if not args.no_badfiles:
                if stack is None:
                    print("the bad-file corpus needs the product's processes: run it without --url", file=sys.stderr)
                    return 2
                log("\n== bad files: the corpus to every upload route")
                started = time.perf_counter()
                outcomes, peak = badfiles.run(
                    base_url,
                    lambda: {name: p.pid for name, p in stack.processes().items()},
                    stack.rss_bytes,
                    headers={"Authorization": f"Bearer {key}"},
                    cache=args.var_dir / "badfiles",
                    log=log,
                )
                seconds = time.perf_counter() - started
                bad = [o for o in outcomes if not o.ok]
                new_bad = [o for o in bad if (o.item, o.route) not in badfiles.KNOWN_BUGS]
                failed |= bool(new_bad)
                statuses = Counter(o.status for o in outcomes)
                _print_table("bad-file figures", [
                    ("files x routes sent", f"{len(outcomes)} ({len(badfiles.CORPUS)} files, {len(badfiles.ROUTES)} routes)"),
                    ("per status", ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items(), key=str))),
                    ("failures", f"{len(bad)} ({len(new_bad)} new, {len(bad) - len(new_bad)} known open bugs)"),
                    ("time", f"{seconds:.0f} s (slowest {max(o.seconds for o in outcomes):.1f} s)"),
                    ("largest RSS growth in one request", f"{max(o.rss_growth for o in outcomes) / 2**20:.0f} MB"),
                ])
                for outcome in bad:
                    known = badfiles.KNOWN_BUGS.get((outcome.item, outcome.route))
                    tag = f"KNOWN ({known})" if known else "FAIL"
                    print(f"{tag} {outcome.item} -> {outcome.route}: {'; '.join(outcome.problems)}")
                summary["badfiles"] = {
                    "requests": len(outcomes), "statuses": {str(k): v for k, v in statuses.items()},
                    "seconds": round(seconds, 1), "failures": [vars(o) for o in bad],
                }
        if stack is not None:
            _print_table("peak RSS of each process over the run", [
                (name, f"{size / 2**20:.0f} MB") for name, size in sorted(watch.peak.items())
            ])
            summary["peak_rss_mb"] = {name: round(size / 2**20) for name, size in watch.peak.items()}
    finally:
        if stack is not None:
            stack.stop()
    if args.report:
        args.report.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    print("\nFAILED" if failed else "\nOK: nothing new (no 5xx, no answer off its schema, no hang; every bad file got a "
                                    "clean 4xx) apart from the known open bugs listed above")
    return 1 if failed else 0


def _collections(base_url: str, key: str | None) -> set[str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = requests.get(base_url + "/v1/faq/collections", headers=headers, timeout=30)
    return {c["collection"] for c in response.json()} if response.ok else set()


def _drop_new_collections(base_url: str, key: str | None, before: set[str]) -> None:
    """Generated uploads may have built FAQ collections: delete them, so var/ does not grow run after run."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    for name in _collections(base_url, key) - before:
        requests.delete(f"{base_url}/v1/faq/collections/{requests.utils.quote(name, safe='')}", headers=headers, timeout=30)


if __name__ == "__main__":
    sys.exit(main())
