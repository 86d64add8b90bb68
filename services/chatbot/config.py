"""Settings of the FAQ chatbot (environment variables ``MALGEUL_CHATBOT_*``)."""

from common.settings import ServiceSettings, service_config


class ChatbotSettings(ServiceSettings):
    model_config = service_config("MALGEUL_CHATBOT_")

    port: int = 8001
