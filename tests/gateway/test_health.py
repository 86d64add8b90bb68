"""`/readyz` aggregates every service's readiness; `/openapi.json` documents every service's routes."""

from __future__ import annotations

import httpx

from tests.conftest import LaunchService
from tests.gateway.conftest import BACKEND_APP, gateway_env
from tests.processes import ServiceProcess


def test_readyz_is_ready_when_every_service_is(gateway: ServiceProcess) -> None:
    response = httpx.get(gateway.url + "/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "services": {"chatbot": "ready", "ocr": "ready", "seq2sql": "ready", "tts": "ready"},
    }
    assert httpx.get(gateway.url + "/healthz").json() == {"status": "ok"}


def test_readyz_reports_loading_and_down_services(
    launch_service: LaunchService, backends: dict[str, ServiceProcess], unused_url: str
) -> None:
    loading = launch_service("backend-loading", {"BACKEND_READY": "loading"}, asgi_app=BACKEND_APP)
    gateway = launch_service(
        "gateway", gateway_env(backends, MALGEUL_GATEWAY_SEQ2SQL_URL=loading.url, MALGEUL_GATEWAY_OCR_URL=unused_url)
    )
    response = httpx.get(gateway.url + "/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "services": {"chatbot": "ready", "ocr": "down", "seq2sql": "loading", "tts": "ready"},
    }


def test_openapi_merges_the_services_documents(launch_service: LaunchService) -> None:
    chatbot = launch_service("chatbot")
    tts = launch_service("tts")
    gateway = launch_service("gateway", {"MALGEUL_GATEWAY_CHATBOT_URL": chatbot.url, "MALGEUL_GATEWAY_TTS_URL": tts.url})
    document = httpx.get(gateway.url + "/openapi.json").json()
    ask = document["paths"]["/v1/faq/collections/{collection}/ask"]["post"]
    ref = ask["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "question" in document["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert "503" in ask["responses"] and "504" in ask["responses"]
    assert "/readyz" in document["paths"]
    assert "/metrics" not in document["paths"]
    assert httpx.get(gateway.url + "/docs").status_code == 200
