"""The whole product as `malgeul up` runs it (launcher, four services, gateway), on free loopback ports.

Fuzzing, chaos and load runs all start the product this way, so they exercise the topology a user runs:
the real launcher (which restarts a crashed child), each service in its own process, the gateway in front.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from common.settings import REPO_ROOT
from tests.processes import free_port

SERVICES = ("chatbot", "ocr", "seq2sql", "tts")
# Prepared artifacts (default FAQ, demo match DB, SQL model) are kept between runs under this folder.
DEFAULT_VAR_DIR = REPO_ROOT / "var" / "reliability"


class Stack:
    """`malgeul up` on free ports; ``with Stack() as stack:`` waits until the gateway's /readyz is 200."""

    def __init__(
        self,
        var_dir: Path = DEFAULT_VAR_DIR,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
        prepare: bool = True,
    ) -> None:
        self.var_dir = Path(var_dir).resolve()
        self.ports = {name: free_port() for name in (*SERVICES, "gateway")}
        self.env = {**os.environ, "MALGEUL_VAR_DIR": str(self.var_dir), **(env or {})}
        for name, port in self.ports.items():
            self.env[f"MALGEUL_{name.upper()}_PORT"] = str(port)
            if name != "gateway":
                self.env[f"MALGEUL_GATEWAY_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
        self.log_path = log_path or self.var_dir / "stack.log"
        self.prepare = prepare
        self.launcher: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The gateway's base URL."""
        return self.service_url("gateway")

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, timeout: float = 900.0) -> Stack:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "malgeul", "up"] + ([] if self.prepare else ["--no-prepare"])
        log = open(self.log_path, "ab")  # noqa: SIM115 - the launcher keeps it open
        self.launcher = subprocess.Popen(
            command, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        """Wait until the gateway reports every service ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.launcher is not None and self.launcher.poll() is not None:
                raise RuntimeError(f"the launcher exited ({self.launcher.returncode}); see {self.log_path}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the product was not ready after {timeout:.0f} s; see {self.log_path}")

    def processes(self) -> dict[str, psutil.Process]:
        """The running process of each service and the gateway, by name (found by the port it listens on)."""
        by_port = {port: name for name, port in self.ports.items()}
        found: dict[str, psutil.Process] = {}
        if self.launcher is None:
            return found
        for child in psutil.Process(self.launcher.pid).children(recursive=True):
            try:
                for conn in child.net_connections(kind="tcp"):
                    if conn.status == psutil.CONN_LISTEN and conn.laddr.port in by_port:
                        found[by_port[conn.laddr.port]] = child
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def rss_bytes(self) -> dict[str, int]:
        """Resident memory of each process now (0 when it is not running)."""
        sizes = {name: 0 for name in self.ports}
        for name, process in self.processes().items():
            try:
                sizes[name] = process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return sizes

    def kill(self, name: str) -> None:
        """SIGKILL one service, as a crash would; the launcher restarts it."""
        process = self.processes().get(name)
        if process is None:
            raise RuntimeError(f"{name} is not running")
        process.send_signal(signal.SIGKILL)

    def stop(self) -> None:
        if self.launcher is None or self.launcher.poll() is not None:
            return
        os.killpg(self.launcher.pid, signal.SIGINT)
        try:
            self.launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.launcher.pid, signal.SIGKILL)
            self.launcher.wait()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
