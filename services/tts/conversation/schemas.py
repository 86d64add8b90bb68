"""Request and response models of `/v1/conversation` (see docs/API.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TopicInfo(BaseModel):
    """A role-play topic a learner can pick."""

    id: str = Field(examples=["restaurant"])
    title: str = Field(examples=["At a restaurant"])
    title_ko: str = Field(examples=["식당에서"])
    level: str = Field(examples=["beginner"])
    bot_role: str = Field(description="Who the bot plays.", examples=["server"])
    learner_role: str = Field(description="Who the learner plays.", examples=["customer"])
    scenes: int = Field(description="How many scenes the role-play has.")


class SessionCreate(BaseModel):
    """Start a role-play on ``topic``; replies are read in ``voice`` (see GET /v1/audio/voices)."""

    topic: str = Field(min_length=1, max_length=100, examples=["restaurant"])
    voice: str | None = Field(default=None, max_length=100, examples=["en-joe"])


class BotReply(BaseModel):
    """What the bot says, as text and (when speech is available) as a WAV to fetch."""

    text: str
    audio_url: str | None = Field(description="Path of the reply's WAV on this server, or null without speech.")


class SessionCreated(BaseModel):
    session_id: str
    reply: BotReply


class TurnText(BaseModel):
    """A learner turn typed as text."""

    text: str = Field(min_length=1, max_length=2000, examples=["his table was dirty can you clean it"])


class TurnFeedback(BaseModel):
    """A more natural way to say what the learner meant (null when it was already natural) and short notes."""

    suggestion: str | None
    notes: list[str]


class Understanding(BaseModel):
    """What the bot understood: the intent and its score, or off-script."""

    intent: str | None = Field(description="Recognised intent id, or null when off-script.")
    kind: Literal["scene", "common", "off_script"]
    score: float
    small_talk: bool = Field(description="The bot answered an off-script turn with small talk.")


class TurnResult(BaseModel):
    """The learner's words (the transcript of an audio turn), the bot's reply and the feedback."""

    transcript: str
    reply: BotReply
    feedback: TurnFeedback
    understood: Understanding
    scene: str = Field(description="The scene after this turn.")
    finished: bool = Field(description="The role-play is over; start a new session to practise again.")


class HistoryLine(BaseModel):
    role: Literal["bot", "learner"]
    text: str


class SessionInfo(BaseModel):
    """A session's topic, current scene and what has been said."""

    session_id: str
    topic: str
    scene: str
    voice: str | None
    finished: bool
    history: list[HistoryLine]
    expires_in_seconds: float
