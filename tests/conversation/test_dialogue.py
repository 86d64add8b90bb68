"""The role-play: scenes move on what the learner means, stay on what the bot cannot follow."""

from __future__ import annotations

import pytest

from common.settings import DATA_DIR
from services.tts.conversation.dialogue import FINISHED, Dialogue
from services.tts.conversation.feedback import FeedbackWriter
from services.tts.conversation.sessions import SessionState
from services.tts.conversation.smalltalk import SmallTalk, load_pairs


@pytest.fixture(scope="module")
def dialogue(book, matcher, encoder) -> Dialogue:
    small_talk = SmallTalk(load_pairs(DATA_DIR / "conversation" / "smalltalk.yaml"), encoder, 0.65)
    return Dialogue(book, matcher, small_talk, FeedbackWriter(book))


def _session(dialogue: Dialogue, topic: str) -> SessionState:
    state = SessionState(id="test-session", topic=topic, scene="", voice=None)
    dialogue.start(state)
    return state


def test_a_restaurant_visit_from_door_to_payment(dialogue):
    state = _session(dialogue, "restaurant")
    assert "Table for how many" in state.last_bot
    turns = ["table for to please", "just water for me", "i will have the pasta", "it's very delicious", "card please"]
    scenes = []
    for text in turns:
        outcome = dialogue.take_turn(state, text)
        assert not outcome.interpretation.off_script, (text, outcome.reply)
        scenes.append(state.scene)
    assert scenes == ["drinks", "ordering", "meal", "paying", "paying"]
    assert state.finished and "wonderful evening" in outcome.reply
    assert dialogue.take_turn(state, "hello again").reply == FINISHED


def test_off_script_turns_get_small_talk_or_a_reprompt_then_a_hint(dialogue):
    state = _session(dialogue, "hotel")
    chat = dialogue.take_turn(state, "do you like football")
    assert chat.small_talk and "Anyway" in chat.reply and state.scene == "check_in"
    lost = dialogue.take_turn(state, "purple monkey dishwasher")
    assert not lost.small_talk and lost.reply.startswith("Sorry, I didn't quite follow.")
    assert "You could say" in lost.reply  # the second miss in a row brings the scene's hint
    assert state.scene == "check_in"


def test_repeat_says_the_last_line_again_and_help_gives_the_hint(dialogue, book):
    state = _session(dialogue, "airport")
    opening = state.last_bot
    assert dialogue.take_turn(state, "pardon? can you say it again").reply == f"Sure. {opening}"
    assert book.topics["airport"].scenes["check_in"].hint in dialogue.take_turn(state, "what should i say").reply


def test_goodbye_ends_the_session(dialogue):
    state = _session(dialogue, "small_talk")
    dialogue.take_turn(state, "bye bye i have to go")
    assert state.finished


def test_silence_is_reprompted(dialogue):
    state = _session(dialogue, "doctor")
    outcome = dialogue.take_turn(state, "   ")
    assert "didn't hear" in outcome.reply and state.scene == "symptoms"
