"""Feedback notes: the mistakes they name, and silence on good English."""

from __future__ import annotations

import pytest

from services.tts.conversation.feedback import FeedbackWriter, evaluate_feedback
from services.tts.conversation.understanding import Interpretation
from tests.conversation.conftest import SCRIPTS


@pytest.fixture(scope="module")
def writer(book) -> FeedbackWriter:
    return FeedbackWriter(book)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("I have resturant reservation", "'restaurant'"),
        ("I have headache", "'a headache'"),
        ("I stay for two night", "'two nights'"),
        ("I go to the doctor yesterday", "'went' instead of 'go'"),
        ("What you recommend?", "'What do you recommend?'"),
        ("Where I can find the sweaters?", "'Where can I find the sweaters?'"),
        ("We are four peoples", "'people'"),
        ("I want check please", "I'd like"),
        ("Can I have a apple juice?", "'an apple'"),
    ],
)
def test_notes_name_the_mistake(writer, text, fragment):
    notes = writer.notes(text)
    assert any(fragment in n for n in notes), notes


def test_recogniser_homophones_are_not_blamed_on_a_speaker(writer):
    assert writer.notes("can i have the czech please", "text")
    assert writer.notes("can i have the czech please", "speech") == []


def test_gibberish_gets_no_wild_spelling_guess(writer):
    assert not any("Spelling" in n for n in writer.notes("asdf qwerty"))


def test_suggestion_carries_the_learners_number(writer, book):
    intent = next(i for i in book.topics["restaurant"].scenes["arrival"].intents if i.id == "party_size")
    understood = Interpretation("scene", intent, "arrival", 0.8, "A table for two, please.")
    feedback = writer.review("table for four peoples", understood)
    assert feedback.suggestion == "A table for four, please."
    assert any("people" in n for n in feedback.notes)


def test_natural_turn_needs_no_suggestion(writer, book):
    intent = book.topics["restaurant"].scenes["meal"].intents[-1]
    understood = Interpretation("scene", intent, "meal", 0.9, intent.phrasings[0])
    assert writer.review(intent.phrasings[0], understood).suggestion is None


def test_feedback_recall_and_false_alarms_on_the_labelled_set(book):
    score = evaluate_feedback(SCRIPTS / "eval" / "feedback.yaml", book)
    assert score.expected >= 40
    assert score.recall >= 0.9
    assert score.false_alarm_rate <= 0.02  # the scripts' own phrasings are good English
