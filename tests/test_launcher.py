"""`malgeul up` starts every process, restarts one that crashes, and Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.processes import REPO_ROOT, free_port


def _children(pid: int) -> dict[int, str]:
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found[int(proc.name)] = cmdline
    return found


def _wait_ok(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _start_launcher(tmp_path: Path, stdout: int) -> tuple[subprocess.Popen[str], dict[str, int]]:
    """`malgeul up` on free ports, the gateway pointed at the services it starts."""
    ports = {name: free_port() for name in ("chatbot", "ocr", "seq2sql", "tts", "gateway")}
    env = {**os.environ, "MALGEUL_VAR_DIR": str(tmp_path)}
    for name, port in ports.items():
        env[f"MALGEUL_{name.upper()}_PORT"] = str(port)
        if name != "gateway":
            env[f"MALGEUL_GATEWAY_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
    launcher = subprocess.Popen(
        [sys.executable, "-m", "malgeul", "up", "--no-prepare"],
        cwd=REPO_ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return launcher, ports


def test_up_restarts_a_crashed_service_and_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    launcher, ports = _start_launcher(tmp_path, subprocess.PIPE)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(launcher.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any("Ctrl-C stops everything" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert f"[malgeul] gateway  http://127.0.0.1:{ports['gateway']}\n" in lines
        children = _children(launcher.pid)
        assert len(children) == 5

        ocr_pid = next(pid for pid, cmd in children.items() if "serve ocr" in cmd)
        os.kill(ocr_pid, signal.SIGKILL)
        time.sleep(0.5)
        assert _wait_ok(f"http://127.0.0.1:{ports['ocr']}/healthz", 30), "the crashed service was not restarted"
        assert ocr_pid not in _children(launcher.pid)

        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(timeout=30) == 0
        reader.join(timeout=5)
        assert any("ocr exited" in line and "restarting" in line for line in lines)
        for port in ports.values():
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                raise AssertionError(f"port {port} still answers after Ctrl-C")
            except httpx.ConnectError:
                pass
    finally:
        if launcher.poll() is None:
            launcher.kill()  # its children follow it (they are told to die with their parent)


def test_children_do_not_outlive_a_killed_launcher(tmp_path: Path) -> None:
    launcher, ports = _start_launcher(tmp_path, subprocess.DEVNULL)
    assert _wait_ok(f"http://127.0.0.1:{ports['gateway']}/healthz", 60)
    children = list(_children(launcher.pid))
    assert len(children) == 5
    launcher.kill()
    launcher.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in children):
        time.sleep(0.2)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists()]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, "children outlived the launcher"
