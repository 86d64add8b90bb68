"""docker-compose.yml and the Dockerfiles describe the same product that `make up` runs locally."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from malgeul.registry import PROCESSES
from tests.processes import REPO_ROOT


@pytest.fixture(scope="module")
def compose() -> dict:
    assert shutil.which("docker-compose"), "docker-compose is installed by scripts/install-system.sh"
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_runs_the_gateway_the_four_services_and_postgres(compose: dict) -> None:
    assert set(compose["services"]) == {"postgres", "gateway", "chatbot", "ocr", "seq2sql", "tts"}
    gateway = compose["services"]["gateway"]
    assert {name: dep["condition"] for name, dep in gateway["depends_on"].items()} == {
        name: "service_healthy" for name in ("chatbot", "ocr", "seq2sql", "tts")
    }
    for name in ("chatbot", "ocr", "seq2sql", "tts"):
        port = PROCESSES[name].load_settings().port
        assert gateway["environment"][f"MALGEUL_GATEWAY_{name.upper()}_URL"] == f"http://{name}:{port}"
    for name in ("ocr", "seq2sql"):
        assert compose["services"][name]["environment"]["MALGEUL_DATABASE_URL"].startswith("postgresql://")
        assert compose["services"][name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert compose["services"]["postgres"]["healthcheck"]["test"]


@pytest.mark.parametrize("name", ["gateway", "chatbot", "ocr", "seq2sql", "tts"])
def test_each_dockerfile_builds_its_own_process_as_non_root(compose: dict, name: str) -> None:
    service = compose["services"][name]
    dockerfile = REPO_ROOT / service["build"]["dockerfile"]
    text = dockerfile.read_text()
    port = PROCESSES[name].load_settings().port
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert f'"serve", "{name}"' in text
    assert f"EXPOSE {port}" in text and f"127.0.0.1:{port}/healthz" in text
    assert "HEALTHCHECK" in text
    assert service.get("read_only") is True
    for source in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (REPO_ROOT / source).exists(), f"{dockerfile.name} copies missing {source}"
    extra = re.search(r"pip install -c constraints.txt -e \"\.\[(\w+)\]\"", text)
    assert extra and extra.group(1) == name
