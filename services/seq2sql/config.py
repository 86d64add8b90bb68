"""Settings of the Korean text-to-SQL assistant (environment variables ``MALGEUL_SEQ2SQL_*``)."""

from common.settings import ServiceSettings, service_config


class Seq2SqlSettings(ServiceSettings):
    model_config = service_config("MALGEUL_SEQ2SQL_")

    port: int = 8003
