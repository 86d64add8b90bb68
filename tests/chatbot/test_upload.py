"""Parsing uploads: what operators send (JSON, CSV from a spreadsheet) and the mistakes they make."""

from __future__ import annotations

import json

import pytest

from common.errors import ProblemError
from services.chatbot.upload import parse_collection


def test_csv_from_a_spreadsheet_with_bom_alts_and_quotes() -> None:
    body = '\ufeffid,question,answer,alt_questions,lang\nfee,"참가비, 있나요?","없습니다, 무료예요.",돈 내요?|등록비,ko\n'.encode()
    [entry] = parse_collection(body, "text/csv", 100)
    assert entry.id == "fee" and entry.question == "참가비, 있나요?" and entry.answer == "없습니다, 무료예요."
    assert entry.alt_questions == ["돈 내요?", "등록비"] and entry.lang == "ko"


def test_json_without_content_type_is_read_as_json() -> None:
    body = json.dumps({"entries": [{"id": "a", "question": "q", "answer": "a"}]}).encode()
    assert parse_collection(body, "", 100)[0].lang is None


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
    ],
)
def test_mistakes_get_a_4xx_that_says_what_is_wrong(body: bytes, content_type: str, status: int, says: str) -> None:
    with pytest.raises(ProblemError) as caught:
        parse_collection(body, content_type, 100)
    assert caught.value.status == status
    assert says in caught.value.detail


def test_entry_limit() -> None:
    entries = [{"id": str(i), "question": "q", "answer": "a"} for i in range(11)]
    with pytest.raises(ProblemError) as caught:
        parse_collection(json.dumps({"entries": entries}).encode(), "application/json", 10)
    assert caught.value.status == 422 and "limit is 10" in caught.value.detail
