"""Settings of the Korean text-to-SQL assistant (environment variables ``MALGEUL_SEQ2SQL_*``)."""

from pathlib import Path

from pydantic import Field
from sqlalchemy.engine import make_url

from common.settings import DATA_DIR, ServiceSettings, service_config


class Seq2SqlSettings(ServiceSettings):
    """Where models live, how big training is, and the limits on what a question may run."""

    model_config = service_config("MALGEUL_SEQ2SQL_")

    port: int = 8003
    encoder: str = Field(default="e5-small", description="sentence encoder spec (common/encoders.py)")
    slot_model: str = Field(default="mlp", description="'mlp' (torch heads) or 'knn' (nearest neighbours)")
    per_sketch: int = Field(default=300, ge=10, description="synthesized questions per sketch")
    epochs: int = Field(default=20, ge=1)
    model_inputs: str = Field(default="both", pattern="^(both|embedding|links)$",
                              description="slot model inputs: both, or the ablations embedding / links")
    model_dir: Path | None = Field(default=None, description="trained models; default var/seq2sql/models")
    annotations_file: Path = DATA_DIR / "seq2sql" / "matches-annotations.json"
    statement_timeout_s: float = Field(default=3.0, gt=0)
    candidates: int = Field(default=10, ge=1, description="programs tried by execution-guided selection")
    refuse_below: float = Field(default=0.6, description="refuse when the 'cannot answer' class is this likely")
    default_year: int | None = Field(default=None, description="year of '7월' without a year; default this year")
    # Registering a database lets every API key holder read it: only what the operator allows may be registered.
    database_dirs: str = Field(default="", description="comma-separated folders whose SQLite files may be "
                               "registered; empty means var/seq2sql/databases")
    database_hosts: str = Field(default="", description="comma-separated PostgreSQL hosts (host or host:port) "
                                "whose databases may be registered, besides the match database's own host")

    def allowed_database_dirs(self) -> list[Path]:
        folders = [Path(d.strip()).expanduser().resolve() for d in self.database_dirs.split(",") if d.strip()]
        if not folders:
            folders = [self.var_dir / "seq2sql" / "databases"]
            folders[0].mkdir(parents=True, exist_ok=True)
        return folders

    def allowed_database_hosts(self) -> set[str]:
        hosts = {h.strip().lower() for h in self.database_hosts.split(",") if h.strip()}
        if self.database_url.startswith(("postgresql", "postgres:")):
            own = make_url(self.database_url)
            hosts.add(f"{(own.host or 'localhost').lower()}:{own.port or 5432}")
        return hosts

    def models_path(self) -> Path:
        path = self.model_dir or (self.var_dir / "seq2sql" / "models")
        path.mkdir(parents=True, exist_ok=True)
        return path
