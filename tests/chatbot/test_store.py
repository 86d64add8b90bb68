"""Collections survive restarts, and a replacement never interrupts answers (the old version answers until the new one is live)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.chatbot.conftest import CAFE_ENTRIES, FAST_ENV, ask, put_json, wait_for_version
from tests.processes import REPO_ROOT


def test_restart_keeps_collections_and_replacement_is_atomic(launch_service, tmp_path) -> None:
    env = {**FAST_ENV, "MALGEUL_VAR_DIR": str(tmp_path / "var"), "MALGEUL_CHATBOT_PUT_WAIT_SECONDS": "0"}
    first = launch_service("chatbot", env=env, ready=True, wait=240)
    with httpx.Client(base_url=first.url, timeout=60) as client:
        created = put_json(client, "cafe", CAFE_ENTRIES[:5])
        assert created.status_code == 202, "with no wait, PUT answers while the build goes on"
        v1 = created.json()["version"]
        wait_for_version(client, "cafe", v1)
        assert ask(client, "cafe", "라면 먹을 수 있나요?")["answer"]["id"] == "food"

        # Replace: until the new version is live, every answer comes whole from the old one.
        v2 = put_json(client, "cafe", CAFE_ENTRIES[3:]).json()["version"]
        assert v2 != v1
        seen_old = seen_new = 0
        old_ids = {e["id"] for e in CAFE_ENTRIES[:5]}
        new_ids = {e["id"] for e in CAFE_ENTRIES[3:]}
        while True:
            listed = {c["collection"]: c["version"] for c in client.get("/v1/faq/collections").json()}
            ids = {c["id"] for c in ask(client, "cafe", "라면 먹을 수 있나요?", top_k=5)["candidates"]}
            assert ids <= old_ids or ids <= new_ids, "never a mix of two versions"
            if listed["cafe"] == v2:
                seen_new += 1
                if seen_new >= 2:
                    break
            else:
                assert listed["cafe"] == v1
                seen_old += 1
        assert seen_old >= 1, "the old version answered while the new one was built"
        assert ids <= new_ids
        assert client.put("/v1/faq/collections/cafe", json={"entries": []}).status_code == 422
    first.stop()

    # Saved collections load before the port opens: the first request after a restart gets its answer.
    second = launch_service("chatbot", env=env, ready=False, wait=120)
    with httpx.Client(base_url=second.url, timeout=60) as client:
        started = time.monotonic()
        assert ask(client, "cafe", "라면 먹을 수 있나요?")["answer"]["id"] == "food"
        assert time.monotonic() - started < 5, "the restarted service answered without loading first"
        assert client.get("/readyz").status_code == 200
        listed = {c["collection"]: c for c in client.get("/v1/faq/collections").json()}
        assert listed["cafe"]["version"] == v2 and listed["cafe"]["entries"] == len(CAFE_ENTRIES[3:])
        reply = ask(client, "cafe", "Is there wifi?")
        assert reply["answer"]["id"] == "wifi"
    second.stop()


def test_a_new_collection_answers_with_base_e5_while_its_own_e5_fine_tunes(launch_service, tmp_path, cache_dir: Path) -> None:
    env = {
        **FAST_ENV,
        "MALGEUL_VAR_DIR": str(tmp_path / "var"),
        "MALGEUL_CHATBOT_PUT_WAIT_SECONDS": "0",
        "MALGEUL_CHATBOT_FINETUNE_STEPS": "2",
        "MALGEUL_CHATBOT_FINETUNE_BATCH": "6",
        "MALGEUL_CHATBOT_E5_BASE_DIR": str(cache_dir / "chatbot-e5-base"),
    }
    process = launch_service("chatbot", env=env, ready=True, wait=240)
    with httpx.Client(base_url=process.url, timeout=60) as client:
        version = put_json(client, "cafe", CAFE_ENTRIES).json()["version"]
        seen: list[str] = []
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            listed = {c["collection"]: c["version"] for c in client.get("/v1/faq/collections").json()}
            if "cafe" in listed:
                if listed["cafe"] not in seen:
                    seen.append(listed["cafe"])
                assert ask(client, "cafe", "라면 먹을 수 있나요?")["answer"]["id"] == "food"
                if listed["cafe"] == version:
                    break
            time.sleep(0.5)
        assert seen == [version + "-base", version], "the base-e5 version answered until the fine-tuned one replaced it"
    assert (tmp_path / "var" / "chatbot" / "collections" / "cafe" / version / "e5-tuned.bin").exists()
    process.stop()


def test_a_collection_saved_with_other_engines_answers_while_it_is_rebuilt(launch_service, tmp_path) -> None:
    env, old = saved_cafe(launch_service, tmp_path, {"MALGEUL_CHATBOT_STARSPACE": "false"})

    # StarSpace turned on: the saved version lacks it and is rebuilt; it answers (not 503) until the new one is live.
    second = launch_service("chatbot", env=env, ready=False, wait=120)
    with httpx.Client(base_url=second.url, timeout=60) as client:
        assert client.get("/readyz").status_code == 200
        seen = versions_answering_until(client, lambda version: version != old)
        assert seen[0] == old and len(seen) == 2, "the saved version answered until the rebuilt one replaced it"
    second.stop()


def test_a_collection_built_by_an_older_release_answers_while_it_is_rebuilt(launch_service, tmp_path) -> None:
    env, current = saved_cafe(launch_service, tmp_path)
    # What an older build revision left: the same files under another version (its fusion was tuned otherwise).
    saved = tmp_path / "var" / "chatbot" / "collections" / "cafe" / current / "collection.json"
    meta = json.loads(saved.read_text(encoding="utf-8"))
    meta["version"] = "older0release"
    saved.write_text(json.dumps(meta), encoding="utf-8")

    second = launch_service("chatbot", env=env, ready=False, wait=120)
    with httpx.Client(base_url=second.url, timeout=60) as client:
        seen = versions_answering_until(client, lambda version: version == current)
        assert seen == ["older0release", current], "the old build answered until this release's build replaced it"
    second.stop()


def test_prepare_builds_the_default_collection_only(launch_service, tmp_path) -> None:
    """`malgeul prepare chatbot` (run by `make up`) leaves other stale collections to the service."""
    env, old = saved_cafe(launch_service, tmp_path, {"MALGEUL_CHATBOT_STARSPACE": "false"})
    current = tmp_path / "var" / "chatbot" / "collections" / "cafe" / "CURRENT"
    subprocess.run(
        [sys.executable, "-m", "malgeul", "prepare", "chatbot"], cwd=REPO_ROOT, env={**os.environ, **env}, check=True, timeout=600
    )
    assert current.read_text().strip() == old, "prepare did not rebuild a collection it does not serve by default"


def versions_answering_until(client: httpx.Client, done, timeout: float = 180.0) -> list[str]:
    """Ask 'cafe' over and over (every answer must be right) and list its versions in order, until ``done(version)``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert ask(client, "cafe", "Is there wifi?")["answer"]["id"] == "wifi"
        version = {c["collection"]: c["version"] for c in client.get("/v1/faq/collections").json()}["cafe"]
        if version not in seen:
            seen.append(version)
        if done(version):
            break
        time.sleep(0.2)
    return seen


def saved_cafe(launch_service, tmp_path, build_env: dict[str, str] | None = None) -> tuple[dict[str, str], str]:
    """A service run that saves the 'cafe' collection (built with ``build_env`` on top); the env for later runs
    and the saved version."""
    env = {**FAST_ENV, "MALGEUL_VAR_DIR": str(tmp_path / "var")}
    first = launch_service("chatbot", env={**env, **(build_env or {})}, ready=True, wait=240)
    with httpx.Client(base_url=first.url, timeout=60) as client:
        version = put_json(client, "cafe", CAFE_ENTRIES).json()["version"]
    first.stop()
    return env, version
