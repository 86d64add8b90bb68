"""Fixtures of the chatbot tests: one real service process per module, small real collections."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

# Faster StarSpace, no e5 fine-tuning (test_store and test_evaluation turn it on, briefly) and no default
# collection: the tests upload their own.
FAST_ENV = {
    "MALGEUL_CHATBOT_FINETUNE_STEPS": "0",
    "MALGEUL_CHATBOT_DEFAULT_COLLECTION": "",
    "MALGEUL_CHATBOT_STARSPACE_MAX_EPOCHS": "15",
    "MALGEUL_CHATBOT_PUT_WAIT_SECONDS": "120",
}

# A small FAQ of a gaming café: Korean-only and English-only entries, so every cross-lingual
# question has exactly one right answer in the other language.
CAFE_ENTRIES = [
    {"id": "hours", "lang": "ko", "question": "영업시간이 어떻게 되나요?", "alt_questions": ["몇 시에 문 열어요?", "밤새 운영하나요?"],
     "answer": "매일 오전 10시부터 새벽 2시까지 운영합니다. 명절 당일은 오후 2시에 엽니다."},
    {"id": "price", "lang": "ko", "question": "이용 요금은 얼마인가요?", "alt_questions": ["한 시간에 얼마예요?", "요금표 알려주세요"],
     "answer": "일반석은 시간당 1,500원, 프리미엄석은 시간당 2,000원입니다. 10시간 정액권은 13,000원입니다."},
    {"id": "parking", "lang": "ko", "question": "주차할 수 있나요?", "alt_questions": ["주차장 있어요?", "차 가지고 가도 돼요?"],
     "answer": "건물 지하 주차장을 이용하실 수 있고, 2시간 이상 이용하면 주차 2시간이 무료입니다."},
    {"id": "food", "lang": "ko", "question": "음식을 주문할 수 있나요?", "alt_questions": ["라면 팔아요?", "자리에서 음식 시킬 수 있나요?"],
     "answer": "좌석의 주문 버튼으로 라면, 볶음밥, 음료를 주문할 수 있습니다. 외부 음식 반입은 안 됩니다."},
    {"id": "smoking", "lang": "ko", "question": "흡연실이 있나요?", "alt_questions": ["담배 어디서 피워요?", "전자담배 자리에서 돼요?"],
     "answer": "실내는 전 좌석 금연이며, 4층 계단 옆 흡연 부스를 이용해 주세요. 전자담배도 흡연 부스에서만 가능합니다."},
    {"id": "wifi", "lang": "en", "question": "Is there Wi-Fi for phones and laptops?", "alt_questions": ["What is the wifi password?"],
     "answer": "Yes, connect to CAFE-GUEST; the password is printed on the card at your seat."},
    {"id": "lost-items", "lang": "en", "question": "I lost something at the cafe, what should I do?", "alt_questions": ["Where is the lost and found?"],
     "answer": "Lost items are kept at the front desk for 30 days. Call us with a description of the item."},
    {"id": "group-booking", "lang": "en", "question": "Can we book seats for a group?", "alt_questions": ["Do you take reservations for teams?"],
     "answer": "Groups of five or more can reserve adjacent seats up to a week ahead through the website."},
    {"id": "minors", "lang": "en", "question": "Until what time can teenagers stay?", "alt_questions": ["Is there a curfew for minors?"],
     "answer": "By law, customers under 19 must leave by 10 pm; bring ID if you look young."},
    {"id": "printing", "lang": "en", "question": "Can I print documents here?", "alt_questions": ["Do you have a printer?"],
     "answer": "Black-and-white printing costs 100 won per page at the printer next to the counter."},
]


def put_json(client: httpx.Client, name: str, entries: list[dict], **kwargs) -> httpx.Response:
    return client.put(f"/v1/faq/collections/{name}", json={"entries": entries}, **kwargs)


def ask(client: httpx.Client, name: str, question: str, top_k: int = 3) -> dict:
    response = client.post(f"/v1/faq/collections/{name}/ask", json={"question": question, "top_k": top_k})
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_version(client: httpx.Client, name: str, version: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = {c["collection"]: c["version"] for c in client.get("/v1/faq/collections").json()}
        if listed.get(name) == version:
            return
        time.sleep(0.5)
    raise TimeoutError(f"{name} never reached version {version}")


@pytest.fixture(scope="module")
def chatbot(launch_service) -> Iterator[httpx.Client]:
    """A chatbot process with the real engines and no default collection, and a client for it."""
    process = launch_service("chatbot", env=FAST_ENV, ready=True, wait=240)
    with httpx.Client(base_url=process.url, timeout=180) as client:
        yield client
