"""`malgeul up`: every service and the gateway as local child processes, restarted when they crash.

Children run in their own process groups so that Ctrl-C reaches the launcher alone, which then
stops every child (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import deque
from dataclasses import dataclass, field

from malgeul.registry import ProcessSpec

GRACE_SECONDS = 10.0
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0
HEALTH_WAIT = 120.0


@dataclass
class Child:
    spec: ProcessSpec
    url: str
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)
    given_up: bool = False


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it when the launcher dies, even by SIGKILL (no orphans)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _say(message: str) -> None:
    print(f"[malgeul] {message}", flush=True)


class Launcher:
    """Starts, watches and stops the product's processes."""

    def __init__(self, specs: list[ProcessSpec]) -> None:
        self.children = []
        for spec in specs:
            settings = spec.load_settings()
            self.children.append(Child(spec, f"http://{settings.host}:{settings.port}"))
        self._stopping = False

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            [sys.executable, "-m", "malgeul", "serve", child.spec.name],
            start_new_session=True,
            env=os.environ.copy(),
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    def _stop_all(self) -> None:
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def _restart_if_crashed(self, child: Child) -> None:
        if child.given_up or child.process is None or child.process.poll() is None:
            return
        now = time.monotonic()
        while child.restarts and now - child.restarts[0] > RESTART_WINDOW:
            child.restarts.popleft()
        if len(child.restarts) >= MAX_RESTARTS:
            _say(f"{child.spec.name} crashed {MAX_RESTARTS} times within a minute; not restarting it")
            child.given_up = True
            return
        _say(f"{child.spec.name} exited with code {child.process.returncode}; restarting")
        child.restarts.append(now)
        self._start(child)

    @staticmethod
    def _healthy(child: Child) -> bool:
        try:
            with urllib.request.urlopen(child.url + "/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def _announce(self, pending: list[Child]) -> None:
        for child in pending:
            _say(f"{child.spec.name} did not answer /healthz at {child.url} in {HEALTH_WAIT:.0f} s")
        for child in self.children:
            _say(f"{child.spec.name:8s} {child.url}")
        gateway = self.children[-1].url
        _say(f"open {gateway}/ for the demo pages, {gateway}/docs for the API; Ctrl-C stops everything")

    def run(self) -> int:
        def on_signal(signum: int, _frame: object) -> None:
            self._stopping = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        for child in self.children:
            self._start(child)
        # Watch for crashes from the first moment, also while the others are still starting.
        pending = list(self.children)
        started = time.monotonic()
        announced = False
        try:
            while not self._stopping:
                for child in self.children:
                    self._restart_if_crashed(child)
                pending = [c for c in pending if not self._healthy(c)]
                if not announced and (not pending or time.monotonic() - started > HEALTH_WAIT):
                    self._announce(pending)
                    announced = True
                time.sleep(0.5)
        finally:
            _say("stopping")
            self._stop_all()
        return 0
