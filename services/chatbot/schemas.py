"""Request and response models of `/v1/faq` (see docs/API.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field


class FaqEntry(BaseModel):
    """One FAQ entry: a question, its answer, and other ways people ask it."""

    id: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, max_length=2000)
    answer: str = Field(min_length=1, max_length=20000)
    alt_questions: list[str] = Field(default_factory=list, max_length=100)
    lang: Literal["ko", "en"] | None = None
    translation_of: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The id of this entry's translation in the other language: the two answer as one topic, "
        "each in the asker's language. Entries that do not say are paired when the encoders see a clear "
        "translation.",
    )


class CollectionUpload(BaseModel):
    """A whole collection; it replaces the previous version atomically."""

    entries: list[FaqEntry] = Field(min_length=1)
    off_topic: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=list,
        max_length=1000,
        description="Questions this collection must not answer (e.g. ones users asked that it answered "
        "wrongly): they join the service's off-topic examples for this collection, and it abstains on "
        "questions nearer one of them than their answer.",
    )


class CollectionInfo(BaseModel):
    collection: str
    entries: int
    version: str


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    top_k: int = Field(default=3, ge=1, le=20)


class Candidate(BaseModel):
    id: str
    question: str
    answer: str
    score: float


class AskResponse(BaseModel):
    """The best answer, or null with ``abstained`` when the collection does not cover the question."""

    answer: Candidate | None
    candidates: list[Candidate]
    abstained: bool
