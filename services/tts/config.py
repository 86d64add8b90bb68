"""Settings of the speech service (environment variables ``MALGEUL_TTS_*``)."""

from common.settings import ServiceSettings, service_config


class TtsSettings(ServiceSettings):
    model_config = service_config("MALGEUL_TTS_")

    port: int = 8004
