"""Gateway fixtures: real backends on loopback and gateways pointed at them."""

from __future__ import annotations

import pytest

from tests.conftest import LaunchService
from tests.processes import ServiceProcess, free_port

BACKEND_APP = "tests.gateway.backend:app"


@pytest.fixture(scope="module")
def backends(launch_service: LaunchService) -> dict[str, ServiceProcess]:
    """One test backend per service name, each reporting which service it plays."""
    return {
        name: launch_service(f"backend-{name}", {"BACKEND_NAME": name}, asgi_app=BACKEND_APP)
        for name in ("chatbot", "ocr", "seq2sql", "tts")
    }


def gateway_env(backends: dict[str, ServiceProcess], **extra: str) -> dict[str, str]:
    env = {f"MALGEUL_GATEWAY_{name.upper()}_URL": proc.url for name, proc in backends.items()}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def gateway(launch_service: LaunchService, backends: dict[str, ServiceProcess]) -> ServiceProcess:
    """A gateway with default settings in front of the test backends."""
    return launch_service(
        "gateway",
        gateway_env(
            backends,
            MALGEUL_GATEWAY_TIMEOUTS='{"/v1/faq": 1.5}',
            MALGEUL_MAX_UPLOAD_BYTES=str(8 * 1024 * 1024),
        ),
    )


@pytest.fixture
def unused_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
