"""Settings base: every process reads its configuration from environment variables only.

Shared variables keep one global name (``MALGEUL_VAR_DIR``, ``MALGEUL_DATABASE_URL``,
``MALGEUL_LOG_LEVEL``); a service's own variables carry its prefix (``MALGEUL_OCR_...``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VAR_DIR = REPO_ROOT / "var"
DATA_DIR = REPO_ROOT / "data"


def service_config(prefix: str) -> SettingsConfigDict:
    """The settings config of a service whose own variables start with ``prefix``."""
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", populate_by_name=True)


class ServiceSettings(BaseSettings):
    """Fields every service has; subclasses set ``env_prefix`` and a default ``port``."""

    model_config = service_config("MALGEUL_")

    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Field(
        default=DEFAULT_VAR_DIR, validation_alias=AliasChoices("MALGEUL_VAR_DIR", "var_dir")
    )
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("MALGEUL_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="Match database; empty means SQLite at var/matches.sqlite.",
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("MALGEUL_LOG_LEVEL", "log_level"))
    max_upload_bytes: int = Field(
        default=25 * 1024 * 1024,
        validation_alias=AliasChoices("MALGEUL_MAX_UPLOAD_BYTES", "max_upload_bytes"),
    )

    @field_validator("var_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def match_database_url(self) -> str:
        """SQLAlchemy URL of the match database (SQLite under var/ unless configured)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'matches.sqlite'}"

    def service_dir(self, name: str) -> Path:
        """A service's own folder under var/, created on demand."""
        path = self.var_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path
