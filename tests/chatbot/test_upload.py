"""Parsing uploads: what operators send (JSON, CSV from a spreadsheet) and the mistakes they make."""

from __future__ import annotations

import json

import pytest

from common.errors import ProblemError
from services.chatbot.upload import parse_collection


def test_csv_from_a_spreadsheet_with_bom_alts_and_quotes() -> None:
    body = '\ufeffid,question,answer,alt_questions,lang\nfee,"참가비, 있나요?","없습니다, 무료예요.",돈 내요?|등록비,ko\n'.encode()
    [entry] = parse_collection(body, "text/csv", 100).entries
    assert entry.id == "fee" and entry.question == "참가비, 있나요?" and entry.answer == "없습니다, 무료예요."
    assert entry.alt_questions == ["돈 내요?", "등록비"] and entry.lang == "ko"


def test_json_without_content_type_is_read_as_json() -> None:
    body = json.dumps({"entries": [{"id": "a", "question": "q", "answer": "a"}]}).encode()
    assert parse_collection(body, "", 100).entries[0].lang is None


_KOREAN = {"id": "fee-ko", "lang": "ko", "question": "참가비가 있나요?", "answer": "무료입니다."}
_ENGLISH = {"id": "fee-en", "lang": "en", "question": "A fee?", "answer": "No.", "translation_of": "fee-ko"}


def _pair(english: dict, *more: dict) -> bytes:
    """A Korean entry and its English translation (changed by ``english``), and ``more`` entries."""
    return json.dumps({"entries": [_KOREAN, {**_ENGLISH, **english}, *more]}).encode()


def _one(**more: object) -> bytes:
    """One entry, and ``more`` fields of the upload."""
    return json.dumps({"entries": [{"id": "a", "question": "q", "answer": "x"}], **more}).encode()


def test_translations_are_declared_from_either_side_in_json_or_csv() -> None:
    [korean, english] = parse_collection(_pair({}), "application/json", 100).entries
    assert english.translation_of == "fee-ko" and korean.translation_of is None
    both = b"id,question,answer,lang,translation_of\nko,q,x,ko,en\nen,q,x,en,ko\nmore,q,x,en,\n"
    entries = parse_collection(both, "text/csv", 100).entries
    assert [e.translation_of for e in entries] == ["en", "ko", None]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [
        (b"   ", "application/json", 400, "empty"),
        (b'{"entries": [{"id": "a", "question": "q", "answer": "x"}, {"id": "a", "question": "r", "answer": "y"}]}', "application/json", 422, "repeated: a"),
        (b'{"entries": [{"id": "a", "question": "q", "answer": "x", "lang": "fr"}]}', "application/json", 422, "lang"),
        (b"id,question,answer\na,q\n", "text/csv", 422, "answer"),
        (b"id,question,answer\na,q,x,extra\n", "text/csv", 422, "more fields"),
        (b"id,question\n", "text/csv", 422, "missing: answer"),
        (b"hello", "text/plain", 415, "text/plain"),
        (_pair({"translation_of": "fee-kr"}), "application/json", 422, "'fee-kr', which is not in"),
        (_pair({"translation_of": "fee-en"}), "application/json", 422, "names itself"),
        (_pair({"lang": "ko", "question": "참가비 있어요?"}), "application/json", 422, "both in 'ko'"),
        (_pair({}, {**_ENGLISH, "id": "fee-en2"}), "application/json", 422, "translation of both"),
        (b"id,question,answer,lang,translation_of\nb,q,x,en,nowhere\n", "text/csv", 422, "'nowhere'"),
        (_one(off_topic="weather"), "application/json", 422, "off_topic"),
        (_one(off_topic=[""]), "application/json", 422, "off_topic.0"),
    ],
)
def test_mistakes_get_a_4xx_that_says_what_is_wrong(body: bytes, content_type: str, status: int, says: str) -> None:
    with pytest.raises(ProblemError) as caught:
        parse_collection(body, content_type, 100)
    assert caught.value.status == status
    assert says in caught.value.detail


def test_off_topic_questions_come_with_a_json_upload() -> None:
    questions = ["오늘 날씨 어때?", "Who won the World Cup?"]
    body = json.dumps({"entries": [_KOREAN], "off_topic": questions}).encode()
    assert parse_collection(body, "application/json", 100).off_topic == questions
    assert parse_collection(_pair({}), "application/json", 100).off_topic == []


def test_entry_limit() -> None:
    entries = [{"id": str(i), "question": "q", "answer": "a"} for i in range(11)]
    with pytest.raises(ProblemError) as caught:
        parse_collection(json.dumps({"entries": entries}).encode(), "application/json", 10)
    assert caught.value.status == 422 and "limit is 10" in caught.value.detail
