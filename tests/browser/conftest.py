"""The real product for browser tests: every service and the gateway as processes, and Debian's chromium.

Chromium is driven by Playwright with the system browser (never `playwright install`); its fake
microphone plays a WAV of a learner saying "A table for two, please."
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.processes import ServiceProcess

CHROMIUM = "/usr/bin/chromium"
SERVICES = ("tts", "chatbot", "ocr", "seq2sql")
UTTERANCE = "A table for two, please."


@dataclass
class Stack:
    gateway: ServiceProcess
    services: dict[str, ServiceProcess]
    failures: dict[str, str]

    @property
    def url(self) -> str:
        return self.gateway.url

    def ready(self, name: str, timeout: float = 240.0) -> None:
        """Wait until ``name`` is ready; a service that did not start fails the test with its log."""
        if name in self.failures:
            pytest.fail(f"the {name} service did not start:\n{self.failures[name]}")
        self.services[name].wait_until("/readyz", timeout)


def _service_env(name: str, cache_dir: Path, database_url: str) -> dict[str, str]:
    """Real engines; only the start-up work a page test does not need is trimmed (or cached between runs)."""
    if name == "chatbot":
        # no default collection to build at start-up; the FAQ test uploads its own
        return {"MALGEUL_CHATBOT_DEFAULT_COLLECTION": "", "MALGEUL_CHATBOT_STARSPACE_MAX_SECONDS": "5"}
    if name == "seq2sql":
        # nearest-neighbour slots on fewer synthesized questions: ready in ~20 s instead of minutes of training;
        # models are keyed by a hash of their inputs, so reusing them across runs is safe
        return {"MALGEUL_DATABASE_URL": database_url, "MALGEUL_SEQ2SQL_SLOT_MODEL": "knn",
                "MALGEUL_SEQ2SQL_PER_SKETCH": "60", "MALGEUL_SEQ2SQL_MODEL_DIR": str(cache_dir / "browser-seq2sql-models")}
    if name == "ocr":
        return {"MALGEUL_DATABASE_URL": database_url}  # what the OCR page saves, the SQL page can query
    return {}


@pytest.fixture(scope="session")
def stack(launch_service, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Stack:
    services: dict[str, ServiceProcess] = {}
    failures: dict[str, str] = {}
    env: dict[str, str] = {}
    database_url = f"sqlite:///{tmp_path_factory.mktemp('matchdb') / 'matches.sqlite'}"
    for name in SERVICES:
        try:
            services[name] = launch_service(name, env=_service_env(name, cache_dir, database_url), wait=120)
            env[f"MALGEUL_GATEWAY_{name.upper()}_URL"] = services[name].url
        except (RuntimeError, TimeoutError) as exc:
            failures[name] = str(exc)
            env[f"MALGEUL_GATEWAY_{name.upper()}_URL"] = "http://127.0.0.1:9"  # nothing listens: the gateway says 503
    gateway = launch_service("gateway", env=env)
    return Stack(gateway, services, failures)


@pytest.fixture(scope="session")
def fake_microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 3.5 s of audio: a short pause, the sentence, then silence (chromium loops the file)."""
    folder = tmp_path_factory.mktemp("mic")
    raw = folder / "raw.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), UTTERANCE], check=True)
    wav = folder / "microphone.wav"
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(wav), "pad", "0.4", "1.2"], check=True)
    return wav


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is open,
# which would break every later test that runs its own loop.
@pytest.fixture(scope="module")
def browser(fake_microphone: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                f"--use-file-for-fake-audio-capture={fake_microphone}", "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, stack: Stack):
    context = browser.new_context(base_url=stack.url, viewport={"width": 412, "height": 915})  # a phone
    context.grant_permissions(["microphone"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def built(response: httpx.Response, what: str, issue: int) -> httpx.Response:
    """Skip, saying why, while a service still answers with its 501 placeholder; else the response."""
    if response.status_code == 501:
        pytest.skip(f"the {what} is not built yet (issue #{issue}): {response.json().get('detail')}")
    return response
