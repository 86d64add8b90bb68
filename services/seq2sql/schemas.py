"""Request and response models of `/v1/sql` (see docs/API.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from services.seq2sql.schema import Annotations

MAX_QUESTION_CHARS = 500


class AskRequest(BaseModel):
    """A question in Korean about one registered database."""

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, examples=["청룡 게이밍이 이긴 경기 몇 개야?"])
    database: str = Field(default="matches", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    execute: bool = True
    max_rows: int = Field(default=100, ge=1, le=1000)


class AskResponse(BaseModel):
    """The SQL that was run (read-only), its rows, and a Korean sentence answering the question."""

    sql: str
    columns: list[str]
    rows: list[list[Any]]
    answer: str
    confidence: float = Field(ge=0, le=1)


class DatabaseRegistration(BaseModel):
    """A SQLite path (or sqlite:/// URL) or a PostgreSQL URL, with Korean annotations of its schema."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    url: str = Field(min_length=1, max_length=2000)
    annotations: Annotations = Field(default_factory=Annotations)


class DatabaseAccepted(BaseModel):
    name: str
    status: Literal["training", "ready", "failed"]


class DatabaseStatus(BaseModel):
    """Training progress of a registered database; questions are answered once it is `ready`."""

    name: str
    status: Literal["training", "ready", "failed"]
    progress: float = Field(ge=0, le=1)
    detail: str | None = None
