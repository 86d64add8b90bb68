"""Collections survive restarts, and a replacement never interrupts answers (the old version answers until the new one is live)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.chatbot.conftest import CAFE_ENTRIES, FAST_ENV, ask, put_json, wait_for_version


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
    env = {**FAST_ENV, "MALGEUL_VAR_DIR": str(tmp_path / "var")}
    first = launch_service("chatbot", env={**env, "MALGEUL_CHATBOT_STARSPACE": "false"}, ready=True, wait=240)
    with httpx.Client(base_url=first.url, timeout=60) as client:
        old = put_json(client, "cafe", CAFE_ENTRIES).json()["version"]
    first.stop()

    # StarSpace turned on: the saved version lacks it and is rebuilt; it answers (not 503) until the new one is live.
    second = launch_service("chatbot", env=env, ready=False, wait=120)
    with httpx.Client(base_url=second.url, timeout=60) as client:
        assert client.get("/readyz").status_code == 200
        seen: list[str] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert ask(client, "cafe", "Is there wifi?")["answer"]["id"] == "wifi"
            version = {c["collection"]: c["version"] for c in client.get("/v1/faq/collections").json()}["cafe"]
            if version not in seen:
                seen.append(version)
            if version != old:
                break
            time.sleep(0.2)
        assert seen[0] == old and len(seen) == 2, "the saved version answered until the rebuilt one replaced it"
    second.stop()


def test_a_collection_built_by_an_older_release_answers_while_it_is_rebuilt(launch_service, tmp_path) -> None:
    env = {**FAST_ENV, "MALGEUL_VAR_DIR": str(tmp_path / "var")}
    first = launch_service("chatbot", env=env, ready=True, wait=240)
    with httpx.Client(base_url=first.url, timeout=60) as client:
        current = put_json(client, "cafe", CAFE_ENTRIES).json()["version"]
    first.stop()
    # What an older build revision left: the same files under another version (its fusion was tuned otherwise).
    saved = tmp_path / "var" / "chatbot" / "collections" / "cafe" / current / "collection.json"
    meta = json.loads(saved.read_text(encoding="utf-8"))
    meta["version"] = "older0release"
    saved.write_text(json.dumps(meta), encoding="utf-8")

    second = launch_service("chatbot", env=env, ready=False, wait=120)
    with httpx.Client(base_url=second.url, timeout=60) as client:
        seen: list[str] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert ask(client, "cafe", "Is there wifi?")["answer"]["id"] == "wifi"
            version = {c["collection"]: c["version"] for c in client.get("/v1/faq/collections").json()}["cafe"]
            if version not in seen:
                seen.append(version)
            if version == current:
                break
            time.sleep(0.2)
        assert seen == ["older0release", current], "the old build answered until this release's build replaced it"
    second.stop()
