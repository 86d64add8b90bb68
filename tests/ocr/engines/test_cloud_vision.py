"""The Cloud Vision fallback against a local fake of `images:annotate` on loopback, through the service."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from services.ocr.engines import EngineUnavailable
from services.ocr.engines.cloud_vision import CloudVisionEngine
from services.ocr.evaluate import decode
from services.ocr.synthetic import MatchTruth, PlayerTruth, ScreenStyle, TeamTruth, make_case
from tests.ocr.conftest import FakeVision, upload
from tests.processes import free_port

# Nicknames that mix scripts: Tesseract alone gets several of them wrong.
TRUTH = MatchTruth(title="Spring League Week 3", map="Icebox", teams=[
    TeamTruth("Blue Dragons", 13, "win", [PlayerTruth("꽃Zeus", 15, 4, 7), PlayerTruth("안Ace", 9, 8, 12),
                                           PlayerTruth("산Frost", 11, 6, 3)]),
    TeamTruth("부산 갈매기", 9, "loss", [PlayerTruth("tiger_철조", 6, 10, 5), PlayerTruth("지Sniper", 8, 12, 1),
                                        PlayerTruth("마안Raven", 4, 13, 9)]),
])


@pytest.fixture(scope="module")
def case():  # noqa: ANN201
    return make_case(TRUTH, ScreenStyle(layout="stacked", kda="columns", score="big", theme="dark"), seed=12)


def test_client_speaks_images_annotate(fake_vision: FakeVision, case) -> None:  # noqa: ANN001
    fake_vision.learn(case)
    engine = CloudVisionEngine(fake_vision.url, "test-key")
    words = engine.read_page(decode(case))
    assert "꽃Zeus" in [w.text for w in words]
    sent = fake_vision.requests[-1]
    assert "key=test-key" in sent["path"]
    assert sent["body"]["requests"][0]["imageContext"]["languageHints"] == ["ko", "en"]


def test_client_reports_a_wrong_key_and_a_dead_endpoint(fake_vision: FakeVision) -> None:
    image = np.full((40, 40, 3), 255, np.uint8)
    with pytest.raises(EngineUnavailable, match="403"):
        CloudVisionEngine(fake_vision.url, "wrong-key").read_page(image)
    with pytest.raises(EngineUnavailable, match="unreachable"):
        CloudVisionEngine(f"http://127.0.0.1:{free_port()}/v1/images:annotate", "k", timeout=2).read_page(image)


def test_doubtful_fields_are_reread_by_the_cloud(launch_service, fake_vision: FakeVision, case) -> None:  # noqa: ANN001
    fake_vision.learn(case)
    service = launch_service("ocr", env={
        "MALGEUL_OCR_CLOUD_URL": fake_vision.url, "MALGEUL_OCR_CLOUD_KEY": "test-key",
        "MALGEUL_OCR_RAPIDOCR": "false",
        # Every field counts as doubtful, so the fallback path is taken on this clean image.
        "MALGEUL_OCR_MIN_CONFIDENCE": "1.01",
    }, ready=True)
    before = len(fake_vision.requests)
    body = httpx.post(f"{service.url}/v1/ocr/match-results", files=upload(case), timeout=60).json()
    assert len(fake_vision.requests) == before + 1
    assert body["fallback_used"] is True
    assert body["engine"] == "tesseract+google-vision"
    assert body["match"]["teams"] == TRUTH.as_record()["teams"]


def test_cloud_down_gives_the_local_reading_with_a_warning(launch_service, case) -> None:  # noqa: ANN001
    service = launch_service("ocr", env={
        "MALGEUL_OCR_CLOUD_URL": f"http://127.0.0.1:{free_port()}/v1/images:annotate",
        "MALGEUL_OCR_CLOUD_KEY": "test-key", "MALGEUL_OCR_CLOUD_TIMEOUT": "2",
        "MALGEUL_OCR_RAPIDOCR": "false", "MALGEUL_OCR_MIN_CONFIDENCE": "1.01",
    }, ready=True)
    response = httpx.post(f"{service.url}/v1/ocr/match-results", files=upload(case), timeout=60)
    assert response.status_code == 200
    body = response.json()
    assert body["engine"] == "tesseract"
    assert any("google-vision unavailable" in w for w in body["warnings"])
    teams = body["match"]["teams"]
    assert [(t["name"], t["score"], t["result"]) for t in teams] == [("Blue Dragons", 13, "win"), ("부산 갈매기", 9, "loss")]
    assert [p["kills"] for p in teams[0]["players"]] == [15, 9, 11]


def test_structural_failure_takes_the_cloud_page(launch_service, fake_vision: FakeVision) -> None:  # noqa: ANN001
    # Text too small and blurred for Tesseract to find the table; the cloud reads it whole.
    hard = make_case(TRUTH, ScreenStyle(scale=0.3, blur=1.2), seed=13)
    fake_vision.learn(hard)
    service = launch_service("ocr", env={"MALGEUL_OCR_CLOUD_URL": fake_vision.url, "MALGEUL_OCR_CLOUD_KEY": "test-key",
                                         "MALGEUL_OCR_RAPIDOCR": "false"}, ready=True)
    body = httpx.post(f"{service.url}/v1/ocr/match-results", files=upload(hard), timeout=60).json()
    assert body["fallback_used"] is True
    assert "google-vision" in body["engine"]
    assert body["match"]["teams"] == TRUTH.as_record()["teams"]
