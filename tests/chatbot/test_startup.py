"""Start-up with other engines: any sentence-transformers model by path (here the packaged English MiniLM)."""

from __future__ import annotations

import json

import httpx

from common.encoders import packaged_minilm_path
from tests.chatbot.conftest import CAFE_ENTRIES, FAST_ENV, ask, put_json


def test_sentence_transformers_encoder_by_path(launch_service) -> None:
    env = {
        **FAST_ENV,
        "MALGEUL_CHATBOT_ENCODERS": json.dumps([f"sentence-transformers:{packaged_minilm_path()}"]),
        "MALGEUL_CHATBOT_STARSPACE": "false",
    }
    process = launch_service("chatbot", env=env, ready=True, wait=240)
    english = [e for e in CAFE_ENTRIES if e["lang"] == "en"]
    with httpx.Client(base_url=process.url, timeout=180) as client:
        assert put_json(client, "english", english).status_code == 200
        assert ask(client, "english", "Where can I find things I left behind?")["answer"]["id"] == "lost-items"
        assert ask(client, "english", "Is it possible to reserve places for five friends?")["answer"]["id"] == "group-booking"
        assert ask(client, "english", "How do I bake sourdough bread?")["abstained"] is True
    process.stop()
