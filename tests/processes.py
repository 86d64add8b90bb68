"""Real service processes on loopback for tests: start, wait until healthy, kill, restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from common.service import KEEP_ALIVE_SECONDS
from common.settings import REPO_ROOT  # noqa: F401 - tests import it from here too


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """One `malgeul serve NAME` process (or an ASGI app given as ``module:attr``) on a free port."""

    def __init__(
        self, name: str, env: dict[str, str], log_dir: Path, port: int | None = None, asgi_app: str | None = None
    ) -> None:
        self.name = name
        self.asgi_app = asgi_app
        self.port = port or free_port()
        self.env = {**os.environ, **env}
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 120.0, ready: bool = False) -> ServiceProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it open
        if self.asgi_app:
            command = [sys.executable, "-m", "uvicorn", self.asgi_app, "--port", str(self.port), "--no-access-log",
                       "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS)]
        else:
            command = [sys.executable, "-m", "malgeul", "serve", self.name, "--port", str(self.port)]
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_until("/readyz" if ready else "/healthz", wait)
        return self

    def wait_until(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; log:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + path, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not answering {path} after {timeout} s; log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        """Kill the process at once (SIGKILL), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
