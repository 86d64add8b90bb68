"""Request and response models of `/v1/ocr` and `/v1/matches` (see docs/API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Result = Literal["win", "loss", "draw"]


class PlayerRecord(BaseModel):
    """One player's line: nickname and kills, deaths, assists (null when unreadable)."""

    nickname: str
    kills: int | None = None
    deaths: int | None = None
    assists: int | None = None


class TeamRecord(BaseModel):
    """One team as shown on the screen: name, final score, result and players in row order."""

    name: str | None = None
    score: int | None = None
    result: Result | None = None
    players: list[PlayerRecord] = Field(default_factory=list)


class MatchRecord(BaseModel):
    """A match result: title, map or mode, and the teams in screen order (left/top first)."""

    title: str | None = None
    map: str | None = None
    teams: list[TeamRecord] = Field(default_factory=list)


class MatchReadResponse(BaseModel):
    """The record read from a result screen, which engine produced it, and how sure the reader is."""

    match: MatchRecord
    engine: str = Field(description="Engines that produced the record, e.g. 'tesseract' or 'tesseract+rapidocr'.")
    fallback_used: bool = Field(description="True when a fallback engine re-read part or all of the image.")
    confidence: float = Field(ge=0.0, le=1.0, description="Mean confidence of the fields read, 0-1.")
    warnings: list[str] = Field(default_factory=list, description="Checks that failed, engines that were down.")
    id: str | None = Field(default=None, description="Id of the saved match when `save` was true.")


class TextLineOut(BaseModel):
    """A line of text and its box `[x, y, w, h]` in the uploaded image's pixels."""

    text: str
    confidence: float
    box: list[int] = Field(min_length=4, max_length=4)


class TextResponse(BaseModel):
    """All text of an image, as one string and as lines with boxes."""

    text: str
    lines: list[TextLineOut]
    engine: str


class SavedMatch(BaseModel):
    """A match stored in the match database."""

    id: str
    played_at: datetime
    tournament: str | None = None
    match: MatchRecord


class MatchList(BaseModel):
    """A page of saved matches, newest first."""

    items: list[SavedMatch]
    total: int
    limit: int
    offset: int
