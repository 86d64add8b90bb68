"""The `malgeul` command: `up`, `serve`, `prepare`, `eval`, `train`, and each service's own commands.

A service adds commands in an optional ``services/<name>/cli.py`` defining any of
``EVALS``, ``TRAINERS`` (dicts of name -> ``fn(argv) -> exit code``) and ``main(argv)``,
which `malgeul <service> ...` calls.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from collections.abc import Callable
from types import ModuleType

from malgeul.registry import PROCESSES, SERVICES, run_prepare

Command = Callable[[list[str]], int]


def _service_cli(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"services.{name}.cli")
    except ModuleNotFoundError as exc:
        # A container holds only its own service: another service's folder may be absent.
        if exc.name in (f"services.{name}", f"services.{name}.cli"):
            return None
        raise


def _collect(attr: str) -> dict[str, Command]:
    found: dict[str, Command] = {}
    for name in SERVICES:
        module = _service_cli(name)
        if module is not None:
            found.update(getattr(module, attr, {}))
    return found


def _run_named(kind: str, attr: str, argv: list[str]) -> int:
    commands = _collect(attr)
    if not argv or argv[0] not in commands:
        known = ", ".join(sorted(commands)) or "none yet"
        print(f"usage: malgeul {kind} NAME [ARGS...]  (NAME: {known})", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


def _run_bench(argv: list[str]) -> int:
    from common.settings import REPO_ROOT

    names = sorted(p.parent.name for p in (REPO_ROOT / "bench").glob("*/run.py"))
    if not argv or argv[0] not in names:
        print(f"usage: malgeul bench NAME [ARGS...]  (NAME: {', '.join(names)})", file=sys.stderr)
        return 2
    script = REPO_ROOT / "bench" / argv[0] / "run.py"
    return subprocess.call([sys.executable, str(script), *argv[1:]], cwd=REPO_ROOT)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="malgeul", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="prepare and run every service and the gateway as local processes")
    up.add_argument("--no-prepare", action="store_true", help="skip the preparation step")
    serve = sub.add_parser("serve", help="run one process")
    serve.add_argument("name", choices=sorted(PROCESSES))
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    prepare = sub.add_parser("prepare", help="prepare data and models of the services (idempotent)")
    prepare.add_argument("names", nargs="*", metavar="SERVICE", help=", ".join(SERVICES))
    sub.add_parser("eval", help="print an evaluation score: malgeul eval NAME", add_help=False)
    sub.add_parser("train", help="train a model: malgeul train NAME", add_help=False)
    sub.add_parser("bench", help="run a benchmark: malgeul bench NAME [ARGS...] (bench/NAME/run.py)", add_help=False)
    for name in SERVICES:
        sub.add_parser(name, help=f"{name} service commands (where it has any)", add_help=False)

    if argv and argv[0] in ("eval", "train"):
        return _run_named(argv[0], "EVALS" if argv[0] == "eval" else "TRAINERS", argv[1:])
    if argv and argv[0] == "bench":
        return _run_bench(argv[1:])
    if argv and argv[0] in SERVICES:
        module = _service_cli(argv[0])
        if module is not None and hasattr(module, "main"):
            return int(module.main(argv[1:]) or 0)

    args = parser.parse_args(argv)
    if args.command == "serve":
        from common.service import run

        spec = PROCESSES[args.name]
        run(spec.app, spec.name, spec.load_settings(), host=args.host, port=args.port)
        return 0
    if args.command == "prepare":
        unknown = set(args.names) - set(SERVICES)
        if unknown:
            parser.error(f"unknown service(s): {', '.join(sorted(unknown))}")
        for name in args.names or SERVICES:
            run_prepare(SERVICES[name])
        return 0
    if args.command == "up":
        from malgeul.launcher import Launcher

        if not args.no_prepare:
            # In a child process: preparing loads models and starts thread pools that the launcher
            # would otherwise keep (memory held for nothing, and threads that delay its exit).
            prepared = subprocess.run([sys.executable, "-m", "malgeul", "prepare"], check=False)
            if prepared.returncode != 0:
                print("[malgeul] preparation failed; see the messages above", file=sys.stderr)
                return prepared.returncode
        return Launcher(list(PROCESSES.values())).run()
    parser.error(f"the {args.command} service has no commands of its own")
    return 2
