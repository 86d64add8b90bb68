"""The scenario scripts: enough topics and scenes, and malformed files rejected with a useful message."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.tts.conversation.scripts import END, ScriptError, load_scripts, load_topic
from tests.conversation.conftest import SCRIPTS


def test_the_scripts_cover_at_least_eight_topics_with_several_scenes(book):
    assert len(book.topics) >= 8
    for wanted in ("restaurant", "hotel", "airport", "shopping", "directions", "small_talk", "phone_call", "daily_life"):
        assert wanted in book.topics
    for topic in book.topics.values():
        assert len(topic.scenes) >= 3, topic.id
        assert topic.title_ko and topic.level in ("beginner", "intermediate", "advanced")
        ends = [i for s in topic.scenes.values() for i in s.intents if i.next == END]
        assert ends, f"{topic.id} never ends"
        for scene in topic.scenes.values():
            for intent in scene.intents:
                assert len(intent.phrasings) >= 4, f"{topic.id}/{scene.id}/{intent.id}"


def test_every_scene_is_reachable_from_the_start(book):
    for topic in book.topics.values():
        seen, todo = set(), [topic.start]
        while todo:
            scene = todo.pop()
            if scene in seen:
                continue
            seen.add(scene)
            todo += [i.next for i in topic.scenes[scene].intents if i.next not in (None, END)]
        assert seen == set(topic.scenes), f"{topic.id}: unreachable {set(topic.scenes) - seen}"


def test_common_intents_understood_in_every_scene(book):
    assert {i.action for i in book.common} == {"repeat", "help", "thanks", "goodbye"}


def test_a_broken_next_scene_is_reported_with_file_and_place(tmp_path: Path):
    text = (SCRIPTS / "restaurant.yaml").read_text(encoding="utf-8").replace("next: drinks", "next: drinkz", 1)
    (tmp_path / "restaurant.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError, match=r"restaurant.yaml scene arrival intent party_size: unknown next scene 'drinkz'"):
        load_topic(tmp_path / "restaurant.yaml")


def test_an_intent_with_a_single_phrasing_is_rejected(tmp_path: Path):
    (tmp_path / "tiny.yaml").write_text(
        "id: tiny\ntitle: T\ntitle_ko: 티\nlevel: beginner\nstart: a\nclosing: Bye\n"
        "scenes:\n  a:\n    bot: Hi\n    reprompt: Hi?\n    hint: Hello\n"
        "    intents:\n      - {id: hello, say: [Hello], reply: Hi, next: end}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScriptError, match="at least two phrasings"):
        load_scripts(tmp_path)
