"""Understanding learner turns: imperfect and mis-transcribed English, off-script turns, the dev set."""

from __future__ import annotations

from services.tts.conversation.evaluation import INTENT_GOAL, OFF_SCRIPT_GOAL, evaluate, load_dev_set
from tests.conversation.conftest import SCRIPTS


def test_mistranscribed_complaint_is_the_dirty_table(matcher):
    result = matcher.interpret("restaurant", "meal", "his table was dirty can you clean it")
    assert result.intent is not None and result.intent.id == "dirty_table"


def test_learner_who_jumps_ahead_is_followed(matcher):
    result = matcher.interpret("restaurant", "ordering", "can i have the check please")
    assert result.intent is not None and result.intent.id == "ask_bill" and result.scene == "meal"


def test_common_intents_work_in_any_topic(matcher):
    assert matcher.interpret("hotel", "problem", "sorry can you say again").intent.id == "repeat"
    assert matcher.interpret("airport", "seat", "i dont know what i should say").intent.id == "help"


def test_off_script_and_empty_turns_do_not_move_the_scene(matcher):
    for text in ("what is the capital of france", "purple monkey dishwasher", "", "my brother is a doctor"):
        assert matcher.interpret("restaurant", "arrival", text).off_script, text


def test_dev_set_meets_the_goals(book, matcher):
    cases = load_dev_set(SCRIPTS / "eval" / "dev.yaml", book)
    assert sum(c.intent is not None for c in cases) >= 300
    assert len({c.topic for c in cases}) == len(book.topics)
    report = evaluate(matcher, cases)
    assert report.intent_accuracy >= INTENT_GOAL, report.errors[:20]
    assert report.off_script_rate >= OFF_SCRIPT_GOAL, report.errors[:20]
