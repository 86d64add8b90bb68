"""The processes that make up Malgeul: where each one's app and settings live, and its port."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from common.settings import ServiceSettings


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one process of the product."""

    name: str
    app: str  # "module:attribute" of the ASGI app
    settings: str  # "module:Class" of its settings
    prepare: str | None = None  # "module:function" run by `malgeul prepare` before start-up

    def load_settings(self) -> ServiceSettings:
        module, cls = self.settings.split(":")
        return getattr(importlib.import_module(module), cls)()


SERVICES: dict[str, ProcessSpec] = {
    spec.name: spec
    for spec in (
        ProcessSpec(
            "chatbot", "services.chatbot.app:app", "services.chatbot.config:ChatbotSettings", "services.chatbot.cli:prepare"
        ),
        ProcessSpec("ocr", "services.ocr.app:app", "services.ocr.config:OcrSettings"),
        ProcessSpec("seq2sql", "services.seq2sql.app:app", "services.seq2sql.config:Seq2SqlSettings",
                    prepare="services.seq2sql.seed:prepare"),
        ProcessSpec("tts", "services.tts.app:app", "services.tts.config:TtsSettings"),
    )
}
GATEWAY = ProcessSpec("gateway", "gateway.app:app", "gateway.config:GatewaySettings")
PROCESSES: dict[str, ProcessSpec] = {**SERVICES, GATEWAY.name: GATEWAY}


def run_prepare(spec: ProcessSpec) -> None:
    """Run a service's preparation step (data, default models), if it has one."""
    if spec.prepare:
        module, func = spec.prepare.split(":")
        getattr(importlib.import_module(module), func)(spec.load_settings())
