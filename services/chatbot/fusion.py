"""Weighted rank fusion of the retrieval engines, and the tuning of its weights and abstention threshold.

Each engine's candidates are split by language into two channels: entries in the question's language
(``same``) and entries in the other language (``cross``), ranked separately. Cross-lingual similarities
are lower than same-language ones for every encoder, and lexical engines find nothing across languages,
so one ranking would bury the English-only entry a Korean question is about under Korean near-misses.

A channel votes for its candidates with ``weight * evidence * (k + 1) / (k + rank)``: the rank decides
the order (cosine, BM25 and StarSpace scales do not compare), the evidence term (the raw score mapped
onto [0, 1] between what out-of-domain and in-domain questions typically score in that channel) keeps
a rank-1 vote from a channel that found nothing alike from counting as much as a real match. The fused
score is in [0, 1]; below ``threshold`` the bot abstains. Weights, ``k`` and the threshold are chosen
on held-out questions by grid search.

An entry's fused score is the weighted mean of the votes of the channels that can vote for it: the
same-language channels for an entry in the question's language, the cross-language ones for an entry
only the other language has, both for an entry whose translation twin is in the collection. (Dividing
every entry by the larger side's weight, as collections built before 2026-11-29 do, let an entry with
a twin sum two sides' votes: it buried entries that exist in one language only, the ones a question in
the other language is about.)
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import asdict, dataclass, field

import numpy as np

from services.chatbot.engines import Hits

logger = logging.getLogger("malgeul.chatbot.fusion")

WEIGHT_GRID = (0.0, 1.0, 2.0)  # finer grids fitted the tuning questions better and the test questions worse
# k = 1 (votes 1, 2/3, 1/2... by rank): with k also in the grid it was chosen by differences of ~0.01 in the
# tuning objective, and k = 3 or 10 answered 67-68 of the 83 same-language test questions against 73 (2026-11-29).
K_GRID = (1.0,)
OFF_TOPIC_MARGINS = tuple(round(0.02 * i, 2) for i in range(16))  # cosine differences, 0 to 0.3
BAGS = 16  # bootstrap resamples of the tuning questions in the weight search (see tune)
MAX_FALSE_ABSTENTION = 0.05
FALSE_ABSTENTION_PENALTY = 3.0  # objective lost per unit of false abstention past MAX_FALSE_ABSTENTION
# For collections without cross-language tuning questions: the weight of each encoder's cross-language
# channel and how much lower its cross-language cosines run, as tuned on the bundled ko/en dev set.
CROSS_PRIOR: dict[str, tuple[float, float]] = {"dense:use-multilingual": (2.0, 0.06), "dense:e5-small": (1.0, 0.06), "dense:e5-tuned": (1.0, 0.06)}
DEFAULT_CROSS_PRIOR = (1.0, 0.06)
_HANGUL = re.compile(r"[가-힣ㄱ-ㅎㅏ-ㅣ]")


SAME, BOTH, CROSS = 0, 1, 2  # which channels can vote for an entry (its "reach")


class Channels(dict):
    """Channel name -> Hits, and ``reach[e]``: SAME, BOTH or CROSS, which sides can vote for entry ``e``."""

    reach: np.ndarray | None = None


def language_of(text: str) -> str:
    """'ko' when the text has any Hangul, else 'en' (the two languages the service serves)."""
    return "ko" if _HANGUL.search(text) else "en"


def channel(signal: str, same_language: bool) -> str:
    return f"{signal}|{'same' if same_language else 'cross'}"


@dataclass
class FusionParams:
    """What the fusion needs at query time; stored with the collection."""

    weights: dict[str, float]  # channel ("engine|same" or "engine|cross") -> weight
    calibration: dict[str, tuple[float, float]]  # channel -> (low, high) raw scores mapped to 0 and 1
    k: float = 3.0
    threshold: float = 0.3  # on the fused score (on the abstainer's probability in collections that have one)
    report: dict[str, float] = field(default_factory=dict)  # how the tuning questions fared
    # A logistic regression on abstention_features: builds chose it over the threshold when it won their
    # cross-validation, until 2026-11-29. Collections saved with one answer with it until rebuilt.
    abstainer: dict | None = None
    # Abstain too when the question is nearer one of the collection's off-topic examples than its answer
    # by more than this (cosines of the encoder the examples were embedded with; None: no such rule).
    off_topic_margin: float | None = None
    normalisation: str = "reach"  # "reach": mean over the channels that can vote; "larger-side": before 2026-11-29

    def to_json(self) -> dict:
        return asdict(self)

    def confidence(self, channels: dict[str, Hits], entries: np.ndarray, scores: np.ndarray) -> float:
        """What ``threshold`` is compared with: the fused top score, or the abstainer's probability."""
        if not scores.size:
            return 0.0
        if self.abstainer is None:
            return float(scores[0])
        return float(abstainer_probability(self.abstainer, abstention_features(channels, self, entries, scores)[None, :])[0])

    @classmethod
    def from_json(cls, data: dict) -> FusionParams:
        data = dict(data)
        data["calibration"] = {k: (float(v[0]), float(v[1])) for k, v in data["calibration"].items()}
        data.setdefault("normalisation", "larger-side")  # saved before the field existed: tuned that way
        return cls(**data)


def evidence(raw: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip((raw - low) / max(high - low, 1e-6), 0.0, 1.0)


def split_channels(
    hits: dict[str, Hits], same: np.ndarray, twin: np.ndarray | None = None, per_channel: int = 20, reach: np.ndarray | None = None
) -> dict[str, Hits]:
    """Each engine's hits as two channels; ``same[e]`` says whether entry ``e`` is in the question's language.

    ``twin[e]`` (or -1) is the translation of entry ``e`` in the question's language: a cross-language
    vote for an entry that has one goes to the translation, so a topic the FAQ has in both languages
    is answered in the asker's language. ``reach`` (see reach_of) may be given when it is known already.
    """
    out = Channels()
    for name, h in hits.items():
        mask = same[h.entries] if h.entries.size else np.zeros(0, dtype=bool)
        out[channel(name, True)] = Hits(h.entries[mask][:per_channel], h.scores[mask][:per_channel])
        cross = h.entries[~mask][:per_channel]
        if twin is not None and cross.size:
            cross = np.where(twin[cross] >= 0, twin[cross], cross)
        out[channel(name, False)] = Hits(cross, h.scores[~mask][:per_channel])
    out.reach = reach if reach is not None else reach_of(same, twin)
    return out


def reach_of(same: np.ndarray, twin: np.ndarray | None) -> np.ndarray:
    """SAME, BOTH or CROSS per entry, for a question whose language ``same`` marks (``twin`` as in split_channels)."""
    has_twin = np.zeros(len(same), dtype=bool)
    if twin is not None:
        has_twin[twin[twin >= 0]] = True
    return np.where(same, np.where(has_twin, BOTH, SAME), CROSS).astype(np.int8)


def fuse(channels: dict[str, Hits], params: FusionParams) -> tuple[np.ndarray, np.ndarray]:
    """Entry indexes best first and their fused scores in [0, 1]."""
    scores: dict[int, float] = {}
    for name, h in channels.items():
        weight = params.weights.get(name, 0.0)
        if weight <= 0 or h.entries.size == 0:
            continue
        low, high = params.calibration.get(name, (0.0, 1.0))
        votes = weight * evidence(h.scores, low, high) * (params.k + 1) / (params.k + np.arange(1, h.entries.size + 1))
        for entry, vote in zip(h.entries.tolist(), votes.tolist(), strict=True):
            scores[entry] = scores.get(entry, 0.0) + vote
    if not scores:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    entries = np.fromiter(scores.keys(), dtype=np.int64, count=len(scores))
    values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores)) / divisors(params, getattr(channels, "reach", None), entries)
    order = np.lexsort((entries, -values))  # ties: the earlier entry first, for stable answers
    return entries[order], values[order].astype(np.float32)


def abstention_features(channels: dict[str, Hits], params: FusionParams, entries: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The abstainer's features (collections saved with one): fused top score, its margin over the
    runner-up, the weight share of channels whose first is the answer, and the best rank-1 evidence on
    each language side."""
    top = float(scores[0]) if scores.size else 0.0
    margin = top - (float(scores[1]) if scores.size > 1 else 0.0)
    best = int(entries[0]) if entries.size else -1
    agree = total = 0.0
    evidence_side = {"same": 0.0, "cross": 0.0}
    for name, h in channels.items():
        weight = params.weights.get(name, 0.0)
        if weight <= 0 or h.entries.size == 0:
            continue
        total += weight
        agree += weight * (int(h.entries[0]) == best)
        low, high = params.calibration.get(name, (0.0, 1.0))
        side = name.rsplit("|", 1)[1]
        evidence_side[side] = max(evidence_side[side], float(evidence(h.scores[:1], low, high)[0]))
    return np.array([top, margin, agree / total if total else 0.0, evidence_side["same"], evidence_side["cross"]])


def abstainer_probability(model: dict, features: np.ndarray) -> np.ndarray:
    z = (features - np.array(model["mean"])) / np.array(model["scale"])
    return 1.0 / (1.0 + np.exp(-(z @ np.array(model["coef"]) + model["bias"])))


def side_weights(weights: dict[str, float]) -> tuple[float, float]:
    """The total weight of the same-language channels and of the cross-language ones."""
    same = sum(w for n, w in weights.items() if n.endswith("|same"))
    cross = sum(w for n, w in weights.items() if n.endswith("|cross"))
    return same, cross


def divisors(params: FusionParams, reach: np.ndarray | None, entries: np.ndarray) -> np.ndarray:
    """What each entry's summed votes are divided by: the weight of the channels that can vote for it."""
    same, cross = side_weights(params.weights)
    if params.normalisation != "reach" or reach is None:
        return np.full(len(entries), max(same, cross) or 1.0)
    return reach_divisors(reach[entries], same, cross)


def reach_divisors(reach: np.ndarray, same: float | np.ndarray, cross: float | np.ndarray) -> np.ndarray:
    total = np.where(reach == SAME, same, np.where(reach == CROSS, cross, np.add(same, cross)))
    return np.where(total > 0, total, 1.0)


@dataclass(frozen=True)
class TuningQuestion:
    """A held-out question: ``entry`` is the index of the right entry, or None when it should be abstained on."""

    text: str
    entry: int | None
    kind: str = "held-out"
    absent: int | None = None  # an entry treated as missing from the collection while this question is asked


def calibrate(names: list[str], runs: list[dict[str, Hits]], gold: list[int | None]) -> dict[str, tuple[float, float]]:
    """Per channel: the median top score of out-of-domain questions -> 0, the upper quartile of right answers -> 1."""
    calibration: dict[str, tuple[float, float]] = {}
    for name in names:
        ood = [float(r[name].scores[0]) if r[name].scores.size else 0.0 for r, g in zip(runs, gold, strict=True) if g is None]
        # In-domain: the channel's score of the right entry, when the channel ranks it first.
        right = [
            float(r[name].scores[0])
            for r, g in zip(runs, gold, strict=True)
            if g is not None and r[name].entries.size and int(r[name].entries[0]) == g
        ]
        low = float(np.median(ood)) if ood else (float(np.quantile(right, 0.05)) if right else 0.0)
        high = float(np.quantile(right, 0.75)) if right else low + 1.0
        calibration[name] = (low, max(high, low + 1e-3))
    for name in names:
        signal, side = name.rsplit("|", 1)
        no_positives = not any(
            g is not None and r[name].entries.size and int(r[name].entries[0]) == g for r, g in zip(runs, gold, strict=True)
        )
        if side == "cross" and no_positives and channel(signal, True) in calibration:
            # No cross-language question to measure on: the same-language range, shifted by the prior.
            offset = CROSS_PRIOR.get(signal, DEFAULT_CROSS_PRIOR)[1]
            low, high = calibration[channel(signal, True)]
            calibration[name] = (low - offset, high - offset)
    return calibration


def cross_prior_weights(names: list[str]) -> dict[str, float]:
    """Fixed weights of the cross-language channels, for collections tuned without cross-language questions."""
    return {n: CROSS_PRIOR.get(n.rsplit("|", 1)[0], DEFAULT_CROSS_PRIOR)[0] for n in names if n.endswith("|cross")}


def tune(
    names: list[str],
    runs: list[dict[str, Hits]],
    gold: list[int | None],
    kinds: list[str] | None = None,
    fixed: dict[str, float] | None = None,
    bags: int = BAGS,
    seed: int = 0,
) -> FusionParams:
    """Grid-search channel weights and ``k`` on held-out questions, bagged, then the threshold.

    ``runs[i]`` holds the channel hits of question ``i``; channels named in ``fixed`` keep that weight.
    The grid search runs on ``bags`` bootstrap resamples of the questions and the weights they pick are
    averaged: on a few hundred questions the single best grid point is chosen by a question or two, and
    it moved from one build to the next (same-language test top-1 67-73 of 83 over four tunings of the
    bundled FAQ; 72-74 bagged).
    """
    fixed = fixed or {}
    calibration = calibrate(names, runs, gold)
    in_domain = np.array([g is not None for g in gold])
    weight = kind_weights(kinds or ["question"] * len(gold), in_domain)
    grids = [WEIGHT_GRID if n not in fixed else (fixed[n],) for n in names]
    combos = np.array([w for w in itertools.product(*grids) if sum(w) > 0], dtype=np.float64)
    same = np.array([n.endswith("|same") for n in names])
    tensors = {k: _vote_tensor(names, runs, gold, calibration, k) for k in K_GRID}
    samples = resamples(len(gold), bags, seed)
    chosen = [_best_grid_point(combos, tensors, same, in_domain, weight * sample) for sample in samples]
    w = np.mean([c[0] for c in chosen], axis=0)
    ks = [c[1] for c in chosen]
    k = max(set(ks), key=ks.count)
    votes, correct, reach = tensors[k]
    scores, right = _top_of(w[None], votes, correct, reach, same)
    # The threshold too: the median of the resamples' best ones (one question more or less abstained on
    # moved the single best one by a tenth of the score range).
    threshold = float(np.median([best_threshold(scores[0], right[0], in_domain, weight * sample)[0] for sample in samples]))
    report = report_at(scores[0] < threshold, right[0], in_domain, weight)
    weights = {n: round(float(x), 4) for n, x in zip(names, w, strict=True)}
    params = FusionParams(weights, calibration, k, threshold, report)
    logger.info(
        "fusion tuned",
        extra={"weights": params.weights, "k": params.k, "threshold": round(params.threshold, 4),
               **params.report},
    )
    return params


def resamples(n: int, bags: int = BAGS, seed: int = 0) -> list[np.ndarray]:
    """``bags`` bootstrap resamples of ``n`` questions, as counts per question (all ones when bags <= 1)."""
    if bags <= 1:
        return [np.ones(n)]
    rng = np.random.default_rng(seed)
    return [np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(bags)]


def tune_off_topic_margin(
    top_score: np.ndarray,
    top_correct: np.ndarray,
    in_domain: np.ndarray,
    weight: np.ndarray,
    gap: np.ndarray,
    forced: np.ndarray | None = None,
    bags: int = BAGS,
    seed: int = 0,
) -> tuple[float | None, float, dict]:
    """The off-topic margin and the threshold that go together (margin None when no margin helps), and how
    the tuning questions fare with both.

    ``gap[i]``: how much nearer question ``i`` is to the nearest off-topic example than to its fused answer.
    A question whose gap is above the margin is abstained on, whatever its fused score, and so is every
    ``forced`` one (nearer an off-topic example the upload named than its answer). Each bootstrap
    resample picks the margin with the best tuning objective (ties: the larger margin, which abstains on
    fewer questions; none at all is the largest) and the median pick is kept.
    """
    samples = resamples(len(top_score), bags, seed)
    grid = [*OFF_TOPIC_MARGINS, np.inf]
    refused = np.zeros(len(top_score), dtype=bool) if forced is None else forced

    def scores(margin: float) -> np.ndarray:
        return np.where(refused | (gap > margin), -1.0, top_score)

    picks = []
    for sample in samples:
        objectives = [best_threshold(scores(m), top_correct, in_domain, weight * sample)[1] for m in grid]
        best = max(objectives)
        picks.append(max(m for m, o in zip(grid, objectives, strict=True) if o >= best - 1e-9))
    margin = float(np.median(picks))
    # Not below 0: the forced abstentions' score of -1 would otherwise pull it there when none is needed.
    thresholds = [best_threshold(scores(margin), top_correct, in_domain, weight * s)[0] for s in samples]
    threshold = max(0.0, float(np.median(thresholds)))
    report = report_at(scores(margin) < threshold, top_correct, in_domain, weight)
    return (None if np.isinf(margin) else margin), threshold, report


def report_at(abstained: np.ndarray, top_correct: np.ndarray, in_domain: np.ndarray, weight: np.ndarray) -> dict:
    """How the tuning questions fare when the ``abstained`` ones are refused (weighted rates)."""

    def share(mask: np.ndarray, of: np.ndarray) -> float:
        return round(float((weight * mask).sum() / max(float(weight[of].sum()), 1e-9)), 4)

    return {
        "top1": share(top_correct & in_domain, in_domain),
        "top1_answered": share(top_correct & in_domain & ~abstained, in_domain),
        "false_abstention": share(in_domain & abstained, in_domain),
        "ood_abstention": share(~in_domain & abstained, ~in_domain),
        "questions": len(abstained),
    }


def _top_of(
    weights: np.ndarray, votes: np.ndarray, correct: np.ndarray, reach: np.ndarray, same: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each weight vector (rows) and question: the fused score of the first candidate and whether it is right."""
    norm = reach_divisors(reach[None], weights[:, same].sum(axis=1)[:, None, None], weights[:, ~same].sum(axis=1)[:, None, None])
    fused = np.einsum("ws,qsc->wqc", weights, votes) / norm
    top = fused.argmax(axis=2)
    top_score = np.take_along_axis(fused, top[..., None], axis=2)[..., 0]
    top_correct = np.take_along_axis(np.broadcast_to(correct, fused.shape), top[..., None], axis=2)[..., 0]
    return top_score, top_correct


def _best_grid_point(
    combos: np.ndarray, tensors: dict, same: np.ndarray, in_domain: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, float]:
    """The weights and ``k`` with the best tuning objective (ties: the better top-1) for these question weights."""
    best: tuple[tuple[float, float], np.ndarray, float] | None = None
    for k, (votes, correct, reach) in tensors.items():
        for start in range(0, len(combos), 256):
            chunk = combos[start : start + 256]
            top_score, top_correct = _top_of(chunk, votes, correct, reach, same)
            for w, scores, right in zip(chunk, top_score, top_correct, strict=True):
                _, objective, report = best_threshold(scores, right, in_domain, weight)
                key = (round(objective, 6), report["top1"])
                if best is None or key > best[0]:
                    best = (key, w, k)
    assert best is not None
    return best[1], best[2]


def _vote_tensor(
    names: list[str], runs: list[dict[str, Hits]], gold: list[int | None], calibration: dict[str, tuple[float, float]], k: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """votes[q, s, c]: the unweighted vote of channel s for candidate c of question q; correct[q, c]; reach[q, c]."""
    candidate_lists: list[dict[int, int]] = []
    for run in runs:
        candidates: dict[int, int] = {}
        for name in names:
            for entry in run[name].entries.tolist():
                candidates.setdefault(entry, len(candidates))
        candidate_lists.append(candidates)
    width = max((len(c) for c in candidate_lists), default=1) or 1
    votes = np.zeros((len(runs), len(names), width))
    correct = np.zeros((len(runs), width), dtype=bool)
    reach = np.full((len(runs), width), SAME, dtype=np.int8)  # padding candidates have no votes: any reach does
    for q, (run, candidates) in enumerate(zip(runs, candidate_lists, strict=True)):
        if getattr(run, "reach", None) is not None and candidates:
            reach[q, : len(candidates)] = run.reach[list(candidates)]
        for s, name in enumerate(names):
            h = run[name]
            if h.entries.size == 0:
                continue
            low, high = calibration[name]
            v = evidence(h.scores, low, high) * (k + 1) / (k + np.arange(1, h.entries.size + 1))
            votes[q, s, [candidates[e] for e in h.entries.tolist()]] = v
        if gold[q] is not None and gold[q] in candidates:
            correct[q, candidates[gold[q]]] = True
    return votes, correct, reach


def kind_weights(kinds: list[str], in_domain: np.ndarray) -> np.ndarray:
    """Each kind of question (held-out, ko, ko->en, ...) counts as much as any other, however many it has."""
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return np.array([1.0 / counts[kind] for kind in kinds]) * np.where(in_domain, 1.0, 1.0)


def best_threshold(
    top_score: np.ndarray, top_correct: np.ndarray, in_domain: np.ndarray, weight: np.ndarray | None = None
) -> tuple[float, float, dict]:
    """The threshold maximising right answers + right abstentions, penalising false abstention past 5 %.

    ``weight`` balances kinds of questions; rates are weighted means within in-domain and out-of-domain.
    """
    weight = np.ones(len(top_score)) if weight is None else weight
    order = np.argsort(top_score)
    s = top_score[order]
    ind = in_domain[order]
    w = weight[order]
    right = (top_correct & in_domain)[order]
    n_in = max(float(w[ind].sum()), 1e-9)
    n_ood = float(w[~ind].sum())
    # Threshold between s[i-1] and s[i] abstains on the i lowest questions (i = 0..n).
    abstained_in = np.concatenate([[0], np.cumsum(w * ind)])
    abstained_ood = np.concatenate([[0], np.cumsum(w * ~ind)])
    lost_right = np.concatenate([[0], np.cumsum(w * right)])
    total_right = float((w * right).sum())
    answered_right = (total_right - lost_right) / n_in
    false_abstention = abstained_in / n_in
    ood_abstention = abstained_ood / n_ood if n_ood else np.zeros_like(false_abstention, dtype=float)
    objective = answered_right + ood_abstention - FALSE_ABSTENTION_PENALTY * np.maximum(0.0, false_abstention - MAX_FALSE_ABSTENTION)
    # Only cut between distinct scores.
    valid = np.ones(len(s) + 1, dtype=bool)
    valid[1:-1] = s[1:] > s[:-1]
    objective = np.where(valid, objective, -np.inf)
    i = int(np.argmax(objective))
    if i == 0:
        threshold = float(s[0]) / 2 if len(s) else 0.0
    elif i == len(s):
        threshold = float(s[-1]) + 1e-6
    else:
        threshold = float(s[i - 1] + s[i]) / 2  # halfway: a margin both ways
    report = {
        "top1": round(total_right / n_in, 4),
        "top1_answered": round(float(answered_right[i]), 4),
        "false_abstention": round(float(false_abstention[i]), 4),
        "ood_abstention": round(float(ood_abstention[i]), 4),
        "questions": len(s),
    }
    return threshold, float(objective[i]), report
