"""A multi-head classifier in PyTorch over frozen sentence-encoder features plus linking features."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from services.seq2sql.engines import IGNORE

logger = logging.getLogger("malgeul.seq2sql.mlp")


class _Net(nn.Module):
    def __init__(self, dim_in: int, hidden: int, sizes: dict[str, int], dropout: float) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(dim_in, hidden), nn.GELU(), nn.Dropout(dropout),
                                   nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout))
        self.heads = nn.ModuleDict({name: nn.Linear(hidden, size) for name, size in sizes.items()})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.trunk(x)
        return {name: head(h) for name, head in self.heads.items()}


class MlpSlotModel:
    """Shared two-layer trunk, one softmax head per slot; trained with cross-entropy on synthesized data."""

    name = "mlp"

    def __init__(self, hidden: int = 256, epochs: int = 25, lr: float = 2e-3, dropout: float = 0.2,
                 batch: int = 128, seed: int = 7) -> None:
        self.hidden, self.epochs, self.lr, self.dropout, self.batch, self.seed = hidden, epochs, lr, dropout, batch, seed
        self.net: _Net | None = None
        self.sizes: dict[str, int] = {}
        self.dim_in = 0

    def fit(self, x: np.ndarray, labels: dict[str, np.ndarray], sizes: dict[str, int]) -> dict[str, float]:
        torch.manual_seed(self.seed)
        self.sizes, self.dim_in = dict(sizes), x.shape[1]
        self.net = _Net(self.dim_in, self.hidden, self.sizes, self.dropout)
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=1e-4)
        xs = torch.from_numpy(x.astype(np.float32))
        ys = {k: torch.from_numpy(v.astype(np.int64)) for k, v in labels.items()}
        loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)
        n = len(xs)
        started = time.monotonic()
        last = 0.0
        for epoch in range(self.epochs):
            self.net.train()
            order = torch.randperm(n)
            total = 0.0
            for i in range(0, n, self.batch):
                idx = order[i:i + self.batch]
                out = self.net(xs[idx])
                loss = sum(loss_fn(out[k], ys[k][idx]) for k in self.sizes if (ys[k][idx] != IGNORE).any())
                opt.zero_grad()
                loss.backward()  # type: ignore[union-attr]
                opt.step()
                total += float(loss.detach()) * len(idx)  # type: ignore[union-attr]
            last = total / n
            logger.debug("epoch", extra={"epoch": epoch, "loss": last})
        self.net.eval()
        return {"loss": last, "seconds": time.monotonic() - started}

    @torch.no_grad()
    def predict(self, x: np.ndarray) -> dict[str, np.ndarray]:
        assert self.net is not None, "model not trained"
        out = self.net(torch.from_numpy(x.astype(np.float32)))
        return {k: torch.softmax(v, dim=-1).numpy() for k, v in out.items()}

    def state(self) -> dict[str, Any]:
        assert self.net is not None
        return {"kind": self.name, "sizes": self.sizes, "dim_in": self.dim_in, "hidden": self.hidden,
                "weights": self.net.state_dict()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.sizes, self.dim_in, self.hidden = state["sizes"], state["dim_in"], state["hidden"]
        self.net = _Net(self.dim_in, self.hidden, self.sizes, 0.0)
        self.net.load_state_dict(state["weights"])
        self.net.eval()
