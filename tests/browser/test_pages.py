"""The demo pages in a real browser (Debian chromium) against the real gateway and services."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Stack, built


def test_home_page_links_every_demo_and_shows_status(page, stack: Stack, artifacts_dir: Path):
    page.goto("/")
    for href in ("/demo/voice", "/demo/ocr", "/demo/faq", "/demo/sql"):
        expect(page.locator(f"main a[href='{href}']")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("tts")
    page.screenshot(path=str(artifacts_dir / "page-home.png"), full_page=True)
    for href in ("/demo/voice", "/demo/ocr", "/demo/faq", "/demo/sql"):
        response = httpx.get(stack.url + href)
        assert response.status_code == 200 and "<main" in response.text and 'name="viewport"' in response.text


def test_voice_page_full_turn_with_the_microphone(page, stack: Stack, artifacts_dir: Path):
    stack.ready("tts")
    page.goto("/demo/voice")
    expect(page.locator("#topic option[value='restaurant']")).to_have_count(1)
    page.select_option("#topic", "restaurant")
    page.click("#start")
    expect(page.locator("#log li.bot").first).to_contain_text("Table for how many")
    expect(page.locator("#player")).to_have_attribute("src", re.compile(r"/audio/0\.wav$"))
    expect(page.locator("#record")).to_be_enabled()

    page.click("#record")  # the fake microphone plays "A table for two, please."
    expect(page.locator("#record")).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(3800)
    page.click("#record")
    learner = page.locator("#log li.learner-turn")
    expect(learner).to_contain_text(re.compile("table", re.I), timeout=30000)
    expect(page.locator("#log li.bot").nth(1)).to_contain_text("something to drink")
    expect(page.locator("#player")).to_have_attribute("src", re.compile(r"/audio/1\.wav$"))
    page.wait_for_function("() => document.getElementById('player').currentTime > 0", timeout=15000)
    page.screenshot(path=str(artifacts_dir / "page-voice.png"), full_page=True)

    page.fill("#text", "i want a coke")  # a typed turn gets feedback
    page.click("#send")
    expect(page.locator("#log li.learner-turn").nth(1).locator(".feedback")).to_contain_text("I'd like")


def test_ocr_page_shows_the_score_of_a_generated_screenshot(page, stack: Stack, artifacts_dir: Path, tmp_path):
    try:
        from services.ocr.synthetic import random_case
    except ImportError as exc:
        pytest.fail(f"the OCR screenshot generator (services/ocr/synthetic.py, issue #4) is missing: {exc}")
    stack.ready("ocr")
    case = random_case(7, degraded=False, lang="en")
    built(httpx.post(stack.url + "/v1/ocr/match-results", files={"image": ("s.png", case.image, case.media_type)},
                     timeout=120), "OCR service", 4)
    image = tmp_path / ("screen.png" if case.media_type == "image/png" else "screen.jpg")
    image.write_bytes(case.image)
    page.goto("/demo/ocr")
    page.set_input_files("#image", str(image))
    page.click("#read")
    summary = page.locator("#teams-summary")
    expect(summary).to_be_visible(timeout=120000)
    for row, team in enumerate(case.truth.teams):
        expect(summary.locator("tbody tr").nth(row).locator("td").nth(1)).to_have_text(str(team.score))
    page.screenshot(path=str(artifacts_dir / "page-ocr.png"), full_page=True)
    page.click("#save")
    expect(page.locator("#saved")).to_contain_text("Saved as", timeout=120000)


FAQ = {
    "entries": [
        {"id": "hours", "question": "영업시간이 어떻게 되나요?", "answer": "평일 오전 9시부터 오후 6시까지 운영합니다.", "lang": "ko"},
        {"id": "refund", "question": "How do I get a refund?", "answer": "Refunds are issued within 7 days of purchase.", "lang": "en"},
        {"id": "parking", "question": "주차가 가능한가요?", "answer": "건물 지하 주차장을 2시간 무료로 이용할 수 있습니다.", "lang": "ko"},
    ]
}


def test_faq_page_answers(page, stack: Stack, artifacts_dir: Path):
    stack.ready("chatbot")
    put = built(httpx.put(stack.url + "/v1/faq/collections/browser-demo", json=FAQ, timeout=120), "FAQ chatbot", 3)
    assert put.status_code in (200, 202), put.text
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # a 202 means the collection is still being built
        names = [c["collection"] for c in httpx.get(stack.url + "/v1/faq/collections").json()]
        if "browser-demo" in names:
            break
        time.sleep(0.5)
    page.goto("/demo/faq")
    page.fill("#collection", "browser-demo")
    page.fill("#question", "영업시간이 어떻게 되나요")
    page.click("#send")
    expect(page.locator("#log li.answer")).to_contain_text("오전 9시", timeout=30000)
    page.screenshot(path=str(artifacts_dir / "page-faq.png"), full_page=True)


def test_sql_page_shows_sql_and_rows(page, stack: Stack, artifacts_dir: Path):
    stack.ready("seq2sql")
    question = "팀은 모두 몇 개야?"
    built(httpx.post(stack.url + "/v1/sql/ask", json={"question": question}, timeout=120), "text-to-SQL service", 5)
    page.goto("/demo/sql")
    page.fill("#question", question)
    page.click("#send")
    answer = page.locator("#log li.answer")
    expect(answer.locator("code.sql")).to_contain_text(re.compile("select", re.I), timeout=60000)
    expect(answer.locator("table thead th").first).to_be_visible()
    expect(answer.locator("table tbody tr").first).to_be_visible()  # a count has one row
    page.screenshot(path=str(artifacts_dir / "page-sql.png"), full_page=True)
