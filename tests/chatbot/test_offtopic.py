"""Off-topic examples: a real collection refuses a question nearer one of them than its answer, keeps
the rule across a restart, and does not take its own topic for off-topic."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from services.chatbot.collection import FaqCollection, content_version
from services.chatbot.config import ChatbotSettings
from services.chatbot.schemas import FaqEntry
from services.chatbot.startup import collection_builder, load_engines
from tests.chatbot.conftest import CAFE_ENTRIES

ENTRIES = [FaqEntry.model_validate(e) for e in CAFE_ENTRIES]


@pytest.fixture(scope="module")
def build():
    settings = ChatbotSettings().model_copy(update={"finetune_steps": 0, "starspace_max_epochs": 15})
    return collection_builder(settings, load_engines(settings))


@pytest.fixture(scope="module")
def cafe(build) -> FaqCollection:
    return build("cafe", ENTRIES)


def test_an_example_the_collection_answers_is_not_off_topic_for_it(cafe: FaqCollection) -> None:
    assert cafe.off_topic is not None
    assert "PC방 요금은 시간당 얼마예요?" not in cafe.off_topic.texts, "a gaming café's FAQ answers what an hour costs"
    assert "How do I get a refund for a game I bought on Steam?" in cafe.off_topic.texts
    assert cafe.ask("PC방 한 시간에 얼마예요?").candidates[0].id == "price"


def test_a_question_nearer_an_off_topic_example_than_its_answer_is_refused_after_a_restart_too(
    cafe: FaqCollection, tmp_path: Path
) -> None:
    # Every fused score clears a threshold of 0: only the off-topic rule can refuse.
    strict = dataclasses.replace(cafe.fusion, threshold=0.0, off_topic_margin=0.0)
    collection = FaqCollection(cafe.name, cafe.version, cafe.entries, cafe.signals, strict, cafe.engines, cafe.twins, cafe.off_topic)
    collection.save(tmp_path)
    reloaded = FaqCollection.load(tmp_path, cafe.engines)
    assert reloaded is not None and reloaded.fusion.off_topic_margin == 0.0
    for served in (collection, reloaded):
        refund = served.ask("스팀에서 산 게임 환불 받으려면 어떻게 해요?")
        assert refund.abstained and refund.candidates, "refused, the candidates still listed for the operator"
        hour = served.ask("한 시간 이용하면 얼마예요?")
        assert not hour.abstained and hour.candidates[0].id == "price"


def test_an_uploads_own_off_topic_questions_are_kept_and_saved_with_it(build, tmp_path: Path) -> None:
    mine = ["근처에 맛집 추천해 주세요", "Any good restaurants near here?", "배달 음식 시켜 먹어도 돼요?"]
    built = build("cafe", ENTRIES, off_topic=mine)
    built.save(tmp_path)
    reloaded = FaqCollection.load(tmp_path, built.engines)
    assert reloaded is not None and reloaded.off_topic is not None
    assert reloaded.uploaded_off_topic == mine
    examples = reloaded.off_topic
    kept = [t for t, u in zip(examples.texts, examples.uploaded, strict=True) if u]
    assert kept == mine, "kept though they are near the food entry"
    version = content_version(reloaded.entries, reloaded.engines, reloaded.uploaded_off_topic)
    assert version == reloaded.version, "a restart does not rebuild it"
    for served in (built, reloaded):
        assert served.ask("What restaurants are close by?").abstained
        food = served.ask("Can I order food at my seat?")
        assert not food.abstained and food.candidates[0].id == "food"
