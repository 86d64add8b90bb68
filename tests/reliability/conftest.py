"""Fixtures of the reliability tests: the whole product as `malgeul up` runs it, started once per session.

The stack keeps its prepared artifacts (default FAQ, demo match database, SQL model) under
var/reliability, so only the first run on a checkout prepares them (~3-5 min); later runs start in about a
minute. It runs with the default (open) configuration; a test that needs other gateway settings starts a
gateway of its own in front of the stack's services (`stack_gateway`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from reliability.stack import SERVICES, Stack
from tests.conftest import LaunchService
from tests.processes import ServiceProcess


@pytest.fixture(scope="session")
def stack(artifacts_dir) -> Iterator[Stack]:
    """The product (launcher, four services, gateway) on free loopback ports, ready."""
    logs = artifacts_dir / "logs"
    logs.mkdir(exist_ok=True)
    with Stack(log_path=logs / "reliability-stack.log") as running:
        yield running


@pytest.fixture(scope="session")
def stack_gateway(stack: Stack, launch_service: LaunchService) -> Callable[..., ServiceProcess]:
    """Start another gateway, with extra settings (API keys, limits), in front of the stack's services."""

    def start(**env: str) -> ServiceProcess:
        urls = {f"MALGEUL_GATEWAY_{name.upper()}_URL": stack.service_url(name) for name in SERVICES}
        return launch_service("gateway", {"MALGEUL_VAR_DIR": str(stack.var_dir), **urls, **env})

    return start
