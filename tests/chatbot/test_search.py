"""A question's engines: e5 on the request's thread, the others beside it on a side thread when the cores are
free; the answer must not depend on which way they ran."""

from __future__ import annotations

import numpy as np
import pytest

from services.chatbot.collection import FaqCollection
from services.chatbot.config import ChatbotSettings
from services.chatbot.engines.dense import DenseSignal
from services.chatbot.schemas import FaqEntry
from services.chatbot.startup import collection_builder, load_engines
from tests.chatbot.conftest import CAFE_ENTRIES

QUESTIONS = ["몇 시까지 열어요?", "Where can I park my car?", "와이파이 비밀번호가 뭐예요?", "Can I smoke inside?", "주식 투자 어떻게 해요?"]


@pytest.fixture(scope="module")
def cafe() -> FaqCollection:
    settings = ChatbotSettings().model_copy(update={"finetune_steps": 0, "starspace_max_epochs": 15})
    return collection_builder(settings, load_engines(settings))("cafe", [FaqEntry(**e) for e in CAFE_ENTRIES])


def test_e5_runs_on_two_threads_and_the_other_engines_beside_it(cafe: FaqCollection) -> None:
    wide = [s.name for s in cafe.signals if isinstance(s, DenseSignal) and s.encoder_threads > 1]
    assert wide == ["dense:e5-tuned"], "only e5 takes both cores for a question"
    assert {s.name for s in cafe.signals} - set(wide) == {"dense:use-multilingual", "bm25", "starspace"}


def test_engines_side_by_side_find_what_they_find_one_after_another(cafe: FaqCollection) -> None:
    for question in QUESTIONS:
        beside_hits, beside_vectors = cafe._search(question, beside=True)
        alone_hits, alone_vectors = cafe._search(question, beside=False)
        assert list(beside_hits) == list(alone_hits) == [s.name for s in cafe.signals], question
        for name, hits in alone_hits.items():
            assert beside_hits[name].entries.tolist() == hits.entries.tolist(), (question, name)
            np.testing.assert_allclose(beside_hits[name].scores, hits.scores, atol=1e-4, err_msg=f"{question} {name}")
        assert set(beside_vectors) == set(alone_vectors) == {"dense:e5-tuned", "dense:use-multilingual"}
        for name, vector in alone_vectors.items():
            assert float(beside_vectors[name] @ vector) > 0.9999, (question, name)
