"""Slot models: map a question's features to distributions over sketch, table, column, aggregate,
group and order. One file per engine, all behind :class:`SlotModel`; pick one with :func:`make_slot_model`."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

IGNORE = -100  # label of a head that does not apply to an example's sketch


class SlotModel(Protocol):
    """Trained on synthesized examples; predicts one probability row per head for each input row."""

    name: str

    def fit(self, x: np.ndarray, labels: dict[str, np.ndarray], sizes: dict[str, int]) -> dict[str, float]: ...

    def predict(self, x: np.ndarray) -> dict[str, np.ndarray]: ...

    def state(self) -> dict[str, Any]: ...

    def load_state(self, state: dict[str, Any]) -> None: ...


def make_slot_model(kind: str, **options: Any) -> SlotModel:
    """``mlp`` (torch heads over encoder + linking features, the default) or ``knn`` (nearest neighbours)."""
    if kind == "mlp":
        from services.seq2sql.engines.mlp import MlpSlotModel

        return MlpSlotModel(**options)
    if kind == "knn":
        from services.seq2sql.engines.knn import KnnSlotModel

        return KnnSlotModel(**{k: v for k, v in options.items() if k in ("k",)})
    raise ValueError(f"unknown slot model {kind!r}: use 'mlp' or 'knn'")
