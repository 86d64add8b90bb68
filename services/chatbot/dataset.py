"""The FAQ data the repo ships: the default collection, its dev set, and the off-topic questions used in tuning."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from common.settings import DATA_DIR
from services.chatbot.schemas import CollectionUpload, FaqEntry

FAQ_DIR = DATA_DIR / "faq"
DEFAULT_COLLECTION = FAQ_DIR / "esports-rules.json"
DEFAULT_DEV_SET = FAQ_DIR / "esports-rules-dev.json"
OOD_POOL = FAQ_DIR / "ood-pool.json"

KINDS = ("ko", "en", "ko->en", "en->ko", "ood")


@dataclass(frozen=True)
class DevQuestion:
    """A paraphrased question of the dev set; ``entry_id`` is None for out-of-domain questions."""

    text: str
    kind: str
    entry_id: str | None
    split: str  # "tune" or "test"


def load_entries(path: Path = DEFAULT_COLLECTION) -> list[FaqEntry]:
    return CollectionUpload.model_validate_json(path.read_text(encoding="utf-8")).entries


def load_dev_set(path: Path = DEFAULT_DEV_SET) -> list[DevQuestion]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [DevQuestion(q["text"], q["kind"], q["id"], q["split"]) for q in data["queries"]]


def load_ood_pool(path: Path = OOD_POOL) -> list[str]:
    return list(json.loads(path.read_text(encoding="utf-8"))["questions"])
