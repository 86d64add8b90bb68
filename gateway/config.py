"""Settings of the gateway (environment variables ``MALGEUL_GATEWAY_*``, plus ``MALGEUL_API_KEYS``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator

from common.settings import ServiceSettings, service_config


class GatewaySettings(ServiceSettings):
    model_config = service_config("MALGEUL_GATEWAY_")

    port: int = 8000
    chatbot_url: str = "http://127.0.0.1:8001"
    ocr_url: str = "http://127.0.0.1:8002"
    seq2sql_url: str = "http://127.0.0.1:8003"
    tts_url: str = "http://127.0.0.1:8004"

    api_keys: str = Field(
        default="",
        validation_alias=AliasChoices("MALGEUL_API_KEYS", "api_keys"),
        description="Comma-separated API keys; empty leaves /v1/* open (local default).",
    )
    rate_limit: str = Field(default="120/minute", description="Per API key, in the `limits` notation.")
    anonymous_rate_limit: str = Field(
        default="", description="Per client address when no keys are configured; empty means none."
    )
    rate_limit_storage: str = Field(
        default="async+memory://", description="`async+memory://` or `async+redis://host:6379`."
    )
    cors_origins: list[str] = Field(default_factory=list, description="JSON list of allowed origins.")
    connect_timeout: float = 1.0
    timeouts: dict[str, float] = Field(
        default_factory=dict, description='Per route prefix, seconds, e.g. {"/v1/faq": 5}.'
    )
    readiness_timeout: float = 1.0
    max_connections: int = 200

    @field_validator("chatbot_url", "ocr_url", "seq2sql_url", "tts_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def keys(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    def service_urls(self) -> dict[str, str]:
        return {
            "chatbot": self.chatbot_url,
            "ocr": self.ocr_url,
            "seq2sql": self.seq2sql_url,
            "tts": self.tts_url,
        }
