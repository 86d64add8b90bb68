"""A tiny piper-compatible multi-speaker voice, built here with onnx.helper (no training, no download).

Same inputs and outputs as a real piper VITS export (`input`, `input_lengths`, `scales`, `sid` -> audio
[1, 1, T]); each phoneme id becomes 256 samples of a tone whose pitch depends on the speaker, and the
length scale stretches the audio, so speaker choice and speed are audible and testable.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HOP = 256
RATE = 16000
SPEAKERS = {"alice": 0, "bora": 1, "chul": 2}


def build_tiny_piper(directory: Path, phoneme_id_map: dict[str, list[int]]) -> Path:
    """Write `tiny-multi.onnx` and `tiny-multi.onnx.json` into ``directory``; returns the model path."""
    directory.mkdir(parents=True, exist_ok=True)
    vocab = max(i for ids in phoneme_id_map.values() for i in ids) + 1
    t = np.arange(HOP) / RATE
    table = np.zeros((len(SPEAKERS), vocab, HOP), dtype=np.float32)
    for speaker in range(len(SPEAKERS)):
        base = 110.0 * (1.6**speaker)
        for phoneme in range(vocab):
            pitch = base * (1 + (phoneme % 7) / 20)
            table[speaker, phoneme] = 0.4 * np.sin(2 * np.pi * pitch * t) if phoneme > 3 else 0.0
    nodes = [
        helper.make_node("Gather", ["table", "sid"], ["speaker_table"], axis=0),  # [1, vocab, HOP]
        helper.make_node("Squeeze", ["speaker_table", "axis0"], ["speaker_rows"]),  # [vocab, HOP]
        helper.make_node("Gather", ["speaker_rows", "input"], ["frames"], axis=0),  # [1, N, HOP]
        helper.make_node("Reshape", ["frames", "flat_shape"], ["flat"]),  # [1, 1, N*HOP]
        helper.make_node("Slice", ["scales", "one", "two"], ["length_scale"]),  # [1]
        helper.make_node("Concat", ["ones2", "length_scale"], ["resize_scales"], axis=0),  # [1, 1, ls]
        helper.make_node("Resize", ["flat", "", "resize_scales"], ["output"], mode="linear"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_piper",
        inputs=[
            helper.make_tensor_value_info("input", TensorProto.INT64, [1, "phonemes"]),
            helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
            helper.make_tensor_value_info("sid", TensorProto.INT64, [1]),
        ],
        outputs=[helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, "samples"])],
        initializer=[
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"),
            numpy_helper.from_array(np.array([1, 1, -1], dtype=np.int64), "flat_shape"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "one"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "two"),
            numpy_helper.from_array(np.array([1.0, 1.0], dtype=np.float32), "ones2"),
        ],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="malgeul-tests"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = directory / "tiny-multi.onnx"
    onnx.save(model, path)
    config = {
        "audio": {"sample_rate": RATE, "quality": "x_low"},
        "espeak": {"voice": "en-us"},
        "language": {"code": "en_US"},
        "inference": {"noise_scale": 0.667, "length_scale": 1, "noise_w": 0.8},
        "phoneme_type": "espeak",
        "phoneme_map": {},
        "phoneme_id_map": phoneme_id_map,
        "num_symbols": vocab,
        "num_speakers": len(SPEAKERS),
        "speaker_id_map": SPEAKERS,
    }
    Path(f"{path}.json").write_text(json.dumps(config), encoding="utf-8")
    return path
