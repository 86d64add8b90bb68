"""API keys guard /v1/* when configured, with a per-key rate limit; health routes stay open."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LaunchService
from tests.gateway.conftest import gateway_env
from tests.processes import ServiceProcess


@pytest.fixture(scope="module")
def keyed_gateway(launch_service: LaunchService, backends: dict[str, ServiceProcess]) -> ServiceProcess:
    return launch_service(
        "gateway",
        gateway_env(backends, MALGEUL_API_KEYS="alpha-key, beta-key", MALGEUL_GATEWAY_RATE_LIMIT="3/minute"),
    )


def test_missing_or_wrong_key_is_401(keyed_gateway: ServiceProcess) -> None:
    missing = httpx.get(keyed_gateway.url + "/v1/faq/collections")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = httpx.get(keyed_gateway.url + "/v1/faq/collections", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "nope" not in wrong.text


def test_valid_key_passes_and_is_not_forwarded(keyed_gateway: ServiceProcess) -> None:
    response = httpx.get(keyed_gateway.url + "/v1/sql/ping", headers={"Authorization": "Bearer beta-key"})
    assert response.status_code == 200
    assert response.json()["authorization"] is None


def test_health_and_docs_need_no_key(keyed_gateway: ServiceProcess) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/"):
        assert httpx.get(keyed_gateway.url + path).status_code == 200, path


def test_rate_limit_is_per_key_with_retry_after(keyed_gateway: ServiceProcess) -> None:
    alpha = {"Authorization": "Bearer alpha-key"}
    statuses = [httpx.get(keyed_gateway.url + "/v1/faq/x", headers=alpha).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = httpx.get(keyed_gateway.url + "/v1/faq/x", headers=alpha)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["content-type"] == "application/problem+json"
    # Another key has its own budget (it used one request above).
    beta = {"Authorization": "Bearer beta-key"}
    assert httpx.get(keyed_gateway.url + "/v1/faq/x", headers=beta).status_code == 200


def test_openapi_declares_bearer_auth_when_keys_are_set(keyed_gateway: ServiceProcess) -> None:
    document = httpx.get(keyed_gateway.url + "/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
