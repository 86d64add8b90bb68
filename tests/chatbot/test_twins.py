"""Translation twins: which Korean and English entries say the same thing, and the cross-language tuning
questions made from them (a bilingual collection needs no hand-written cross-language questions)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from common.encoders import E5Encoder, UseEncoder
from services.chatbot.collection import (
    _rows,
    declared_twins,
    find_twins,
    translation_pairs,
    twin_questions,
    twin_similarity,
)
from services.chatbot.dataset import load_entries
from services.chatbot.engines.dense import DenseSignal
from services.chatbot.schemas import FaqEntry
from tests.chatbot.conftest import CAFE_ENTRIES


def _similarity(values: list[list[float]]) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def test_twins_are_mutual_nearest_above_the_bar_and_confirmed_by_every_encoder() -> None:
    # Entries 0, 1 Korean; 2, 3 English. 0-2 translate each other; 1 and 3 are each other's nearest but weakly.
    use = _similarity([[-1, -1, 0.8, 0.3], [-1, -1, 0.2, 0.45], [0.8, 0.2, -1, -1], [0.3, 0.45, -1, -1]])
    assert find_twins(use) == [(0, 2)], "0.45 is under the bar"
    agreeing = _similarity([[-1, -1, 0.9, 0.8], [-1, -1, 0.7, 0.9], [0.9, 0.7, -1, -1], [0.8, 0.9, -1, -1]])
    assert find_twins(use, agreeing) == [(0, 2)]
    disagreeing = _similarity([[-1, -1, 0.7, 0.9], [-1, -1, 0.9, 0.7], [0.7, 0.9, -1, -1], [0.9, 0.7, -1, -1]])
    assert find_twins(use, disagreeing) == [], "a pair one encoder does not see is no pair"


def test_declared_translations_hold_and_the_encoders_pair_the_rest() -> None:
    # Entries 0, 1 Korean; 2, 3 English. The upload says 1 translates 3; by the vectors c's nearest is b.
    entries = [
        FaqEntry(id="a", lang="ko", question="가", answer="가"),
        FaqEntry(id="b", lang="ko", question="나", answer="나"),
        FaqEntry(id="c", lang="en", question="c", answer="c"),
        FaqEntry(id="d", lang="en", question="d", answer="d", translation_of="b"),
    ]
    similarity = _similarity([[-1, -1, 0.8, 0.3], [-1, -1, 0.9, 0.2], [0.8, 0.9, -1, -1], [0.3, 0.2, -1, -1]])
    assert find_twins(similarity) == [(1, 2)], "by the vectors alone, b and c would pair"
    assert translation_pairs(entries, similarity) == [(1, 3)], "c's nearest, b, is declared: c has no pair"
    similarity[0, 2] = similarity[2, 0] = 0.95  # now a and c are each other's nearest: the encoders pair them
    assert translation_pairs(entries, similarity) == [(0, 2), (1, 3)]


@pytest.fixture(scope="module")
def bundled() -> list[FaqEntry]:
    return load_entries()


def test_the_bundled_faq_pairs_every_translation_and_nothing_else(bundled: list[FaqEntry]) -> None:
    rows = _rows(bundled, {})

    def similarity(encoder) -> np.ndarray:
        dense = DenseSignal.build(encoder, rows.texts, rows.kinds, rows.entry, len(bundled), hnsw_above=10**9)
        return twin_similarity(bundled, dense.index.vectors, rows)

    twins = find_twins(similarity(UseEncoder()), similarity(E5Encoder()))
    topic = [e.id.rsplit("-", 1)[0] for e in bundled]  # the bundled ids name the topic, then the language
    translated = {t for t in topic if topic.count(t) == 2}
    found = {topic[a] for a, b in twins if topic[a] == topic[b]}
    wrong = [(bundled[a].id, bundled[b].id) for a, b in twins if topic[a] != topic[b]]
    assert wrong == [], "a false pair sends one topic's votes to another"
    assert len(found) >= len(translated) - 1, f"missed: {sorted(translated - found)}"


def test_the_bundled_faq_declares_every_translation(bundled: list[FaqEntry]) -> None:
    topic = [e.id.rsplit("-", 1)[0] for e in bundled]
    translated = {t for t in topic if topic.count(t) == 2}
    declared = {topic[a] for a, b in declared_twins(bundled) if topic[a] == topic[b]}
    assert declared == translated and len(declared_twins(bundled)) == len(translated)


def test_pairs_become_cross_language_tuning_questions() -> None:
    entries = [FaqEntry.model_validate(e) for e in CAFE_ENTRIES]
    twins = [(0, 5)]
    held_out = {5: entries[5].alt_questions[0]} if entries[5].alt_questions else {}
    questions = twin_questions(entries, twins, held_out, limit=10, rng=random.Random(0))
    assert {(q.entry, q.absent) for q in questions} == {(0, 5), (5, 0)}, "each side asked as if the other were missing"
    asked_for_0 = next(q for q in questions if q.entry == 0)
    assert asked_for_0.text in [entries[5].question, *entries[5].alt_questions]
    assert asked_for_0.text not in held_out.values(), "alt questions held out for tuning are asked as themselves"
