"""The `/v1/faq` routes over real HTTP: upload, replace, delete, ask across languages, abstain, reject bad uploads."""

from __future__ import annotations

import httpx
import pytest

from tests.chatbot.conftest import CAFE_ENTRIES, ask, put_json

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def cafe(chatbot: httpx.Client) -> dict:
    response = put_json(chatbot, "cafe", CAFE_ENTRIES)
    assert response.status_code == 200, response.text
    return response.json()


def test_upload_answers_and_lists(chatbot: httpx.Client, cafe: dict) -> None:
    assert cafe["collection"] == "cafe" and cafe["entries"] == len(CAFE_ENTRIES) and cafe["version"]
    listed = {c["collection"]: c for c in chatbot.get("/v1/faq/collections").json()}
    assert listed["cafe"] == cafe
    reply = ask(chatbot, "cafe", "주차장이 있나요?")
    assert not reply["abstained"]
    assert reply["answer"]["id"] == "parking"
    assert reply["answer"] == reply["candidates"][0]
    assert 0.0 < reply["answer"]["score"] <= 1.0
    assert "지하 주차장" in reply["answer"]["answer"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("와이파이 비밀번호가 뭐예요?", "wifi"),  # Korean question, English-only entry
        ("프린터로 문서 출력할 수 있어요?", "printing"),
        ("What are your opening hours?", "hours"),  # English question, Korean-only entry
        ("How much does it cost per hour?", "price"),
    ],
)
def test_cross_lingual_questions_find_the_other_language(chatbot: httpx.Client, cafe: dict, question: str, expected: str) -> None:
    reply = ask(chatbot, "cafe", question)
    assert reply["candidates"][0]["id"] == expected, reply
    assert not reply["abstained"], reply


@pytest.mark.parametrize("question", ["내일 서울 날씨 어때요?", "Who wrote Hamlet?", "비트코인 지금 사도 될까요?"])
def test_abstains_when_the_collection_does_not_cover_the_question(chatbot: httpx.Client, cafe: dict, question: str) -> None:
    reply = ask(chatbot, "cafe", question)
    assert reply["abstained"] is True
    assert reply["answer"] is None
    assert reply["candidates"], "candidates are still listed for an operator to see"


def test_top_k_sets_the_number_of_candidates(chatbot: httpx.Client, cafe: dict) -> None:
    reply = ask(chatbot, "cafe", "요금이 얼마예요?", top_k=5)
    assert len(reply["candidates"]) == 5
    assert [c["score"] for c in reply["candidates"]] == sorted((c["score"] for c in reply["candidates"]), reverse=True)


def test_replace_then_delete(chatbot: httpx.Client) -> None:
    first = put_json(chatbot, "swap", CAFE_ENTRIES[:6]).json()
    assert ask(chatbot, "swap", "담배 피울 곳 있나요?")["candidates"][0]["id"] == "smoking"
    again = put_json(chatbot, "swap", CAFE_ENTRIES[:6])
    assert again.status_code == 200 and again.json() == first, "re-uploading the same entries keeps the version"
    replaced = put_json(chatbot, "swap", CAFE_ENTRIES[5:])
    assert replaced.status_code == 200
    assert replaced.json()["version"] != first["version"] and replaced.json()["entries"] == 5
    ids = {c["id"] for c in ask(chatbot, "swap", "담배 피울 곳 있나요?", top_k=5)["candidates"]}
    assert ids <= {e["id"] for e in CAFE_ENTRIES[5:]}, "the old entries are gone"
    assert chatbot.delete("/v1/faq/collections/swap").status_code == 204
    gone = chatbot.post("/v1/faq/collections/swap/ask", json={"question": "담배"})
    assert gone.status_code == 404 and gone.headers["content-type"].startswith(PROBLEM)
    assert "swap" not in {c["collection"] for c in chatbot.get("/v1/faq/collections").json()}
    assert chatbot.delete("/v1/faq/collections/swap").status_code == 404


def test_off_topic_questions_sent_with_the_upload_are_refused(chatbot: httpx.Client, cafe: dict) -> None:
    question = "What restaurants are close by?"
    assert not ask(chatbot, "cafe", question)["abstained"], "without them, the food entry answers it"
    off_topic = ["근처에 맛집 추천해 주세요", "Any good restaurants near here?", "배달 음식 시켜 먹어도 돼요?"]
    body = {"entries": CAFE_ENTRIES, "off_topic": off_topic}
    response = chatbot.put("/v1/faq/collections/cafe-strict", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["version"] != cafe["version"], "the off-topic questions are part of the version"
    reply = ask(chatbot, "cafe-strict", question)
    assert reply["abstained"] and reply["answer"] is None and reply["candidates"][0]["id"] == "food"
    food = ask(chatbot, "cafe-strict", "라면 먹을 수 있나요?")
    assert food["answer"]["id"] == "food", "the entry's own questions are still answered"
    assert chatbot.delete("/v1/faq/collections/cafe-strict").status_code == 204


def test_csv_upload(chatbot: httpx.Client) -> None:
    csv_text = (
        "id,question,answer,alt_questions,lang\n"
        'refund,환불 받을 수 있나요?,"남은 시간은 30일 안에 카운터에서 환불해 드립니다.",환불 규정|돈 돌려받을 수 있어요?,ko\n'
        "locker,Do you have lockers?,Lockers by the entrance cost 500 won a day.,Where can I leave my bag?,en\n"
        'membership,회원 가입하면 혜택이 있나요?,"회원은 요금 10% 할인과 생일 쿠폰을 받습니다.",,\n'
    )
    response = chatbot.put(
        "/v1/faq/collections/csv-cafe", content=csv_text.encode("utf-8"), headers={"content-type": "text/csv; charset=utf-8"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["entries"] == 3
    assert ask(chatbot, "csv-cafe", "남은 시간 환불되나요?")["candidates"][0]["id"] == "refund"
    assert ask(chatbot, "csv-cafe", "가방 보관할 곳 있어요?")["candidates"][0]["id"] == "locker"


def _bad_uploads() -> list[tuple[str, bytes, str]]:
    entry = {"id": "a", "question": "질문", "answer": "답"}
    import json

    big = "가" * (10 * 1024 * 1024 // 3 + 10)  # 10 MB of UTF-8 text
    return [
        ("empty body", b"", "application/json"),
        ("no entries", json.dumps({"entries": []}).encode(), "application/json"),
        ("duplicate ids", json.dumps({"entries": [entry, entry]}).encode(), "application/json"),
        ("10 MB of text", json.dumps({"entries": [{**entry, "answer": big}]}).encode(), "application/json"),
        ("id is a number", json.dumps({"entries": [{**entry, "id": 7}]}).encode(), "application/json"),
        ("entries is a string", json.dumps({"entries": "a,b"}).encode(), "application/json"),
        ("alt_questions is a string", json.dumps({"entries": [{**entry, "alt_questions": "x"}]}).encode(), "application/json"),
        ("not JSON", b"{entries: [", "application/json"),
        ("blank question", json.dumps({"entries": [{**entry, "question": ""}]}).encode(), "application/json"),
        ("CSV without answer column", b"id,question\na,b\n", "text/csv"),
        ("CSV that is not UTF-8", "id,question,answer\na,질문,답\n".encode("euc-kr"), "text/csv"),
        ("CSV with duplicate ids", b"id,question,answer\na,q1,x\na,q2,y\n", "text/csv"),
        ("XML", b"<faq/>", "application/xml"),
        (
            "translation of an unknown entry",
            json.dumps({"entries": [{**entry, "translation_of": "b"}]}).encode(),
            "application/json",
        ),
    ]


@pytest.mark.parametrize(("what", "body", "content_type"), _bad_uploads(), ids=[b[0] for b in _bad_uploads()])
def test_malformed_upload_is_rejected_and_the_collection_kept(
    chatbot: httpx.Client, cafe: dict, what: str, body: bytes, content_type: str
) -> None:
    response = chatbot.put("/v1/faq/collections/cafe", content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"]
    listed = {c["collection"]: c for c in chatbot.get("/v1/faq/collections").json()}
    assert listed["cafe"] == cafe, "the previous version is still the one answering"
    assert ask(chatbot, "cafe", "주차장이 있나요?")["answer"]["id"] == "parking"


def test_bad_requests_to_ask(chatbot: httpx.Client, cafe: dict) -> None:
    assert chatbot.post("/v1/faq/collections/nope/ask", json={"question": "hi"}).status_code == 404
    assert chatbot.post("/v1/faq/collections/cafe/ask", json={"question": ""}).status_code == 422
    assert chatbot.post("/v1/faq/collections/cafe/ask", json={"question": "hi", "top_k": 0}).status_code == 422
    assert chatbot.put("/v1/faq/collections/bad name!", json={"entries": CAFE_ENTRIES}).status_code == 422


def test_openapi_documents_both_upload_formats(chatbot: httpx.Client) -> None:
    spec = chatbot.get("/openapi.json").json()
    put = spec["paths"]["/v1/faq/collections/{collection}"]["put"]
    assert set(put["requestBody"]["content"]) == {"application/json", "text/csv"}
    assert "202" in put["responses"] and "422" in put["responses"]
    assert spec["paths"]["/v1/faq/collections/{collection}/ask"]["post"]["description"]
