"""Rank fusion and its tuning on synthetic engine outputs whose right answers are known."""

from __future__ import annotations

import numpy as np

from services.chatbot.engines import Hits
from services.chatbot.fusion import (
    FusionParams,
    best_threshold,
    fuse,
    language_of,
    split_channels,
    tune,
    tune_off_topic_margin,
)
from services.chatbot.offtopic import OffTopicExamples


def _hits(entries: list[int], scores: list[float]) -> Hits:
    return Hits(np.array(entries), np.array(scores, dtype=np.float32))


def test_language_split_ranks_the_other_language_separately() -> None:
    same = np.array([True, True, False])
    channels = split_channels({"dense": _hits([0, 2, 1], [0.5, 0.45, 0.2])}, same)
    assert channels["dense|same"].entries.tolist() == [0, 1]
    assert channels["dense|cross"].entries.tolist() == [2]
    assert language_of("참가비 얼마?") == "ko" and language_of("entry fee?") == "en"


def test_an_engine_that_found_nothing_alike_barely_votes() -> None:
    params = FusionParams(weights={"a|same": 1.0, "b|same": 1.0}, calibration={"a|same": (0.3, 0.7), "b|same": (0.3, 0.7)}, k=3)
    strong = fuse({"a|same": _hits([4, 5], [0.9, 0.5]), "b|same": _hits([4], [0.8])}, params)
    weak = fuse({"a|same": _hits([4, 5], [0.32, 0.31]), "b|same": _hits([5], [0.31])}, params)
    assert strong[0][0] == 4 and strong[1][0] > 0.9
    assert weak[1][0] < 0.1, "rank 1 with out-of-domain-like scores is no evidence"


def test_tuning_learns_to_trust_the_engine_that_is_right_and_to_abstain() -> None:
    rng = np.random.default_rng(0)
    runs, gold, kinds = [], [], []
    for q in range(60):
        right = q % 10
        good = _hits([right, (right + 1) % 10], [0.8 + rng.random() * 0.1, 0.5])  # engine "good" ranks the right entry first
        bad = _hits([(right + 3) % 10, right], [0.8, 0.7])  # engine "bad" does not
        runs.append({"good|same": good, "bad|same": bad})
        gold.append(right)
        kinds.append("held-out")
    for _ in range(30):  # out of domain: low scores everywhere
        runs.append({"good|same": _hits([1, 2], [0.3 + rng.random() * 0.1, 0.2]), "bad|same": _hits([3], [0.35])})
        gold.append(None)
        kinds.append("ood")
    params = tune(["good|same", "bad|same"], runs, gold, kinds)
    assert params.weights["good|same"] > params.weights["bad|same"]
    assert params.report["top1"] == 1.0
    assert params.report["ood_abstention"] == 1.0 and params.report["false_abstention"] == 0.0


def test_threshold_respects_the_false_abstention_budget() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9])
    correct = np.array([False, False, True, True, True, True, True])
    in_domain = np.array([False, False, True, True, True, True, True])
    threshold, _, report = best_threshold(scores, correct, in_domain)
    assert 0.2 < threshold < 0.3
    assert report["false_abstention"] == 0.0 and report["ood_abstention"] == 1.0


def test_a_collection_saved_with_an_abstainer_abstains_by_it_until_rebuilt() -> None:
    # Builds chose a learned abstainer over the threshold until 2026-11-29; such a collection, loaded after
    # an upgrade, must answer as it was built while it is rebuilt.
    channels = {"a|same": _hits([0, 1], [0.9, 0.5]), "b|same": _hits([1, 0], [0.9, 0.5])}  # engines disagree
    params = FusionParams(
        weights={"a|same": 1.0, "b|same": 1.0},
        calibration={"a|same": (0.3, 0.8), "b|same": (0.3, 0.8)},
        k=1.0,
    )
    entries, scores = fuse(channels, params)
    assert params.confidence(channels, entries, scores) == float(scores[0]) > 0.5
    # Features: top score, margin, agreement, best evidence same / cross. This one trusts agreement only.
    abstainer = {"mean": [0.0] * 5, "scale": [1.0] * 5, "coef": [0.0, 0.0, 8.0, 0.0, 0.0], "bias": -5.0}
    saved = FusionParams.from_json({**params.to_json(), "abstainer": abstainer, "threshold": 0.5})
    entries, scores = fuse(channels, saved)
    assert saved.confidence(channels, entries, scores) < 0.5, "half the weight agrees: it says off-topic"
    agreeing = {"a|same": _hits([0, 1], [0.9, 0.5]), "b|same": _hits([0, 1], [0.9, 0.5])}
    entries, scores = fuse(agreeing, saved)
    assert saved.confidence(agreeing, entries, scores) > 0.5


def _two_language_channels(same_hits: Hits, cross_hits: Hits) -> dict[str, Hits]:
    """Entries 0-2 Korean, 3-5 English; 0 and 3 translate each other; the question is Korean."""
    same = np.array([True, True, True, False, False, False])
    twin = np.array([-1, -1, -1, 0, -1, -1])  # English 3 -> Korean 0
    return split_channels({"dense": Hits(np.concatenate([same_hits.entries, cross_hits.entries]),
                                         np.concatenate([same_hits.scores, cross_hits.scores]).astype(np.float32))}, same, twin)


def test_an_entry_only_the_other_language_has_is_not_buried_by_one_with_a_translation() -> None:
    # A Korean question about English-only entry 4: a full match among the English entries, while the
    # Korean entry 0 (twin of English 3) half matches on both sides.
    channels = _two_language_channels(_hits([0, 1], [0.65, 0.40]), _hits([4, 3], [0.80, 0.70]))
    assert channels.reach.tolist() == [1, 0, 0, 2, 2, 2], "0 has a twin: both sides vote; 4 and 5 only the cross side"
    params = FusionParams(
        weights={"dense|same": 1.0, "dense|cross": 1.0},
        calibration={"dense|same": (0.3, 0.8), "dense|cross": (0.3, 0.8)},
        k=1.0,
    )
    entries, _ = fuse(channels, params)
    assert entries[0] == 4, "the weighted mean over the channels that can vote for each entry"
    saved = FusionParams.from_json({k: v for k, v in params.to_json().items() if k != "normalisation"})
    assert saved.normalisation == "larger-side", "a collection saved before the field keeps the fusion it was tuned with"
    entries, _ = fuse(channels, saved)
    assert entries[0] == 0, "the old sum over both sides put the entry with a twin first"


def test_tuning_is_steady_across_resamples_of_the_questions() -> None:
    rng = np.random.default_rng(1)
    runs, gold, kinds = [], [], []
    for q in range(80):
        right = q % 10
        wrong = (right + 1 + q % 3) % 10
        a_first = right if rng.random() < 0.75 else wrong  # engine "a" is right 75% of the time, "b" 55%
        b_first = right if rng.random() < 0.55 else wrong
        runs.append({
            "a|same": _hits([a_first, wrong if a_first == right else right], [0.7 + 0.2 * rng.random(), 0.5]),
            "b|same": _hits([b_first, wrong if b_first == right else right], [0.7 + 0.2 * rng.random(), 0.5]),
        })
        gold.append(right)
        kinds.append("held-out")
    for _ in range(20):
        runs.append({"a|same": _hits([1], [0.3 * rng.random()]), "b|same": _hits([2], [0.3 * rng.random()])})
        gold.append(None)
        kinds.append("ood")
    first = tune(["a|same", "b|same"], runs, gold, kinds, seed=0)
    second = tune(["a|same", "b|same"], runs, gold, kinds, seed=1)
    assert first.weights["a|same"] > first.weights["b|same"]
    assert abs(first.weights["a|same"] - second.weights["a|same"]) <= 0.5, "bagged weights barely depend on the resampling"
    assert abs(first.threshold - second.threshold) <= 0.1


def _margin_case(ood_gap: float, in_gap: float) -> tuple:
    """40 right in-domain answers and 20 off-topic questions, half of which score as high as right answers."""
    rng = np.random.default_rng(1)
    high_ood = rng.uniform(0.5, 0.8, 10)
    scores = np.concatenate([rng.uniform(0.4, 0.9, 40), rng.uniform(0.05, 0.2, 10), high_ood])
    in_domain = np.arange(60) < 40
    gap = np.concatenate(
        [
            in_gap + rng.uniform(-0.05, 0.05, 40),
            rng.uniform(-0.3, 0.3, 10),
            ood_gap + rng.uniform(-0.02, 0.02, 10),
        ]
    )
    weight = np.where(in_domain, 1 / 40, 1 / 20)
    return scores, in_domain.copy(), in_domain, weight, gap


def test_off_topic_questions_that_score_high_are_caught_by_their_nearness_to_an_off_topic_example() -> None:
    scores, correct, in_domain, weight, gap = _margin_case(ood_gap=0.15, in_gap=-0.2)
    margin, threshold, report = tune_off_topic_margin(scores, correct, in_domain, weight, gap)
    assert margin is not None and -0.15 < margin < 0.13
    abstained = (scores < threshold) | (gap > margin)
    assert abstained[~in_domain].all() and not abstained[in_domain].any()
    assert report["ood_abstention"] == 1.0 and report["false_abstention"] == 0.0


def test_no_off_topic_margin_when_the_examples_look_like_the_collection() -> None:
    # The in-domain questions are as near the examples as the off-topic ones: any margin would refuse them.
    scores, correct, in_domain, weight, gap = _margin_case(ood_gap=0.15, in_gap=0.15)
    margin, threshold, _ = tune_off_topic_margin(scores, correct, in_domain, weight, gap)
    assert margin is None
    assert threshold == best_threshold(scores, correct, in_domain, weight)[0]


def test_an_off_topic_example_asked_in_tuning_is_not_compared_with_itself() -> None:
    texts = [f"example {i}" for i in range(10)]
    vectors = np.eye(10, 16, dtype=np.float32)
    examples = OffTopicExamples("dense:test", texts, vectors)
    asked = np.stack([vectors[3], 0.6 * vectors[3] + 0.8 * vectors[7]])
    nearest, nearest_uploaded = examples.nearest_held_out(["example 3", "another question"], asked)
    assert nearest[0] < 0.5, "example 3 and the one beside it (its fold) are left out"
    assert nearest[1] == np.float32(0.8)
    assert examples.nearest(vectors[3]) == (1.0, -1.0), "none was uploaded"
    assert (nearest_uploaded == -1.0).all()
