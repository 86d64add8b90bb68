"""Rank fusion and its tuning on synthetic engine outputs whose right answers are known."""

from __future__ import annotations

import numpy as np

from services.chatbot.engines import Hits
from services.chatbot.fusion import FusionParams, best_threshold, fuse, language_of, split_channels, tune


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


def test_abstainer_separates_questions_the_fused_score_alone_cannot() -> None:
    from services.chatbot.fusion import abstainer_probability, fit_abstainer

    rng = np.random.default_rng(1)
    # Same fused top scores for both kinds; in-domain questions have channels agreeing (feature 2), off-topic ones not.
    top = rng.uniform(0.3, 0.6, 80)
    agreement = np.r_[rng.uniform(0.7, 1.0, 40), rng.uniform(0.0, 0.4, 40)]
    features = np.stack([top, top * 0.2, agreement, top, np.zeros(80)], axis=1)
    in_domain = np.r_[np.ones(40, dtype=bool), np.zeros(40, dtype=bool)]
    model = fit_abstainer(features, in_domain, np.ones(80))
    probability = abstainer_probability(model, features)
    assert probability[in_domain].min() > 0.5 > probability[~in_domain].max()
