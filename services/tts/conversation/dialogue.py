"""The role-play itself: open a scene, take a learner turn, answer in character and move the scene."""

from __future__ import annotations

from dataclasses import dataclass

from services.tts.conversation.feedback import Feedback, FeedbackWriter, Source
from services.tts.conversation.scripts import END, ScriptBook
from services.tts.conversation.sessions import SessionState
from services.tts.conversation.smalltalk import SmallTalk
from services.tts.conversation.understanding import IntentMatcher, Interpretation

FINISHED = "We've finished this role-play. Great job! Start a new session to practise again."
NOT_HEARD = "Sorry, I didn't hear anything."
NOT_FOLLOWED = "Sorry, I didn't quite follow."


@dataclass
class TurnOutcome:
    """What the bot answers to one learner turn, what it understood, and the learner's feedback."""

    reply: str
    interpretation: Interpretation
    feedback: Feedback
    small_talk: bool = False


class Dialogue:
    """Runs role-plays of a script book; the state lives in a :class:`SessionState`."""

    def __init__(self, book: ScriptBook, matcher: IntentMatcher, small_talk: SmallTalk, writer: FeedbackWriter):
        self.book = book
        self.matcher = matcher
        self.small_talk = small_talk
        self.writer = writer

    def start(self, state: SessionState) -> str:
        """Open the topic's first scene; returns the bot's opening line."""
        topic = self.book.topics[state.topic]
        state.scene = topic.start
        state.last_bot = topic.scenes[topic.start].bot
        state.history.append({"role": "bot", "text": state.last_bot})
        return state.last_bot

    def take_turn(self, state: SessionState, text: str, source: Source = "text") -> TurnOutcome:
        """Answer ``text`` in the session's current scene, updating ``state``."""
        text = " ".join(text.split())
        topic = self.book.topics[state.topic]
        scene = topic.scenes[state.scene]
        if state.finished or not text:
            interpretation = Interpretation("off_script", None, None, 0.0, None)
            reply = FINISHED if state.finished else f"{NOT_HEARD} {scene.reprompt}"
            outcome = TurnOutcome(reply, interpretation, Feedback(None, []))
            return self._record(state, text, outcome, repeat_line=False)

        interpretation = self.matcher.interpret(state.topic, state.scene, text)
        feedback = self.writer.review(text, interpretation, source)
        small_talk = False
        intent = interpretation.intent
        if interpretation.kind == "scene" and intent is not None:
            state.misses = 0
            state.scene = interpretation.scene or state.scene  # the learner may jump to another scene
            reply = intent.reply
            if intent.next == END:
                reply = f"{reply} {topic.closing}"
                state.finished = True
            elif intent.next:
                state.scene = intent.next
                opening = topic.scenes[intent.next].bot
                if not reply.endswith("?"):  # a reply ending in a question already opens the next scene
                    reply = f"{reply} {opening}"
        elif interpretation.kind == "common" and intent is not None:
            state.misses = 0
            reply = self._common(intent.action or intent.id, state)
        else:
            state.misses += 1
            chat = self.small_talk.reply(text)
            if chat is not None:
                small_talk = True
                reply = f"{chat.text} Anyway, {_lower_first(scene.reprompt)}"
            else:
                reply = f"{NOT_FOLLOWED} {scene.reprompt}"
            if state.misses >= 2:
                reply = f"{reply} You could say: \"{scene.hint}\""
        outcome = TurnOutcome(reply, interpretation, feedback, small_talk)
        repeated = interpretation.kind == "common" and intent is not None and intent.action == "repeat"
        return self._record(state, text, outcome, repeat_line=repeated)

    def _common(self, action: str, state: SessionState) -> str:
        scene = self.book.topics[state.topic].scenes[state.scene]
        if action == "repeat":
            return f"Sure. {state.last_bot}"
        if action == "help":
            return f"No problem. You could say: \"{scene.hint}\""
        if action == "thanks":
            return f"You're welcome! {scene.reprompt}"
        if action == "goodbye":
            state.finished = True
            return "Okay, let's stop here. Great practice today. Goodbye!"
        return scene.reprompt

    @staticmethod
    def _record(state: SessionState, text: str, outcome: TurnOutcome, repeat_line: bool) -> TurnOutcome:
        state.history.append({"role": "learner", "text": text})
        state.history.append({"role": "bot", "text": outcome.reply})
        if not repeat_line:
            state.last_bot = outcome.reply
        state.turn += 1
        return outcome


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text and not text.startswith("I ") else text
