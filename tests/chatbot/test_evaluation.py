"""The bundled e-sports FAQ, built by `malgeul prepare chatbot` and served: its dev questions, over HTTP.

The build (a StarSpace model and the fusion tuning) is cached under var/test-cache, keyed by the
data and the chatbot's code, so only the first run after a change pays for it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from services.chatbot.dataset import DEFAULT_COLLECTION, DEFAULT_DEV_SET, OOD_POOL, load_dev_set
from tests.processes import REPO_ROOT


def _inputs_hash() -> str:
    digest = hashlib.sha256()
    sources = sorted((REPO_ROOT / "services" / "chatbot").rglob("*.py")) + [DEFAULT_COLLECTION, DEFAULT_DEV_SET, OOD_POOL]
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def esports(launch_service, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> httpx.Client:
    built = cache_dir / f"chatbot-default-{_inputs_hash()}"
    if not (built / "chatbot" / "collections" / "esports-rules" / "CURRENT").exists():
        staging = cache_dir / f".chatbot-default-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        env = {
            **os.environ,
            "MALGEUL_VAR_DIR": str(staging),
            "MALGEUL_CHATBOT_FINETUNE_STEPS": "3",  # the real path, briefly: docs/chatbot.md has the full build's figures
            "MALGEUL_CHATBOT_E5_BASE_DIR": str(cache_dir / "chatbot-e5-base"),
        }
        subprocess.run([sys.executable, "-m", "malgeul", "prepare", "chatbot"], cwd=REPO_ROOT, env=env, check=True, timeout=900)
        os.replace(staging, built)
    var = tmp_path_factory.mktemp("esports-var")
    shutil.copytree(built / "chatbot", var / "chatbot")
    process = launch_service("chatbot", env={"MALGEUL_VAR_DIR": str(var)}, ready=True, wait=120)
    with httpx.Client(base_url=process.url, timeout=60) as client:
        yield client


def test_default_collection_is_served_after_prepare(esports: httpx.Client) -> None:
    [info] = [c for c in esports.get("/v1/faq/collections").json() if c["collection"] == "esports-rules"]
    assert info["entries"] >= 80
    reply = esports.post("/v1/faq/collections/esports-rules/ask", json={"question": "참가비 있어요?"}).json()
    assert reply["answer"]["id"] == "reg-fee-ko", "a Korean question gets the Korean entry of a bilingual topic"
    reply = esports.post("/v1/faq/collections/esports-rules/ask", json={"question": "Is there an entry fee?"}).json()
    assert reply["answer"]["id"] == "reg-fee-en"


def test_dev_questions_held_out_from_tuning(esports: httpx.Client) -> None:
    """Floors well below the issue's goals (see docs/chatbot.md for the measured figures): a regression guard."""
    right: dict[str, list[bool]] = defaultdict(list)
    for q in load_dev_set():
        if q.split != "test":
            continue
        reply = esports.post("/v1/faq/collections/esports-rules/ask", json={"question": q.text}).json()
        if q.entry_id is None:
            right["ood"].append(reply["abstained"])
        else:
            right[q.kind].append(reply["candidates"][0]["id"] == q.entry_id)
            right["answered"].append(not reply["abstained"])
    rate = {kind: sum(v) / len(v) for kind, v in right.items()}
    assert rate["ko"] >= 0.55 and rate["en"] >= 0.55, rate
    assert rate["ko->en"] >= 0.5 and rate["en->ko"] >= 0.5, rate
    assert rate["ood"] >= 0.7, rate
    assert rate["answered"] >= 0.9, rate
