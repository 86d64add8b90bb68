"""Settings of the match-result recorder (environment variables ``MALGEUL_OCR_*``)."""

from common.settings import ServiceSettings, service_config


class OcrSettings(ServiceSettings):
    model_config = service_config("MALGEUL_OCR_")

    port: int = 8002
