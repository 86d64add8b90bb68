"""Scoring a built collection on dev questions: top-1 per kind, abstention both ways, latency."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from services.chatbot.collection import Answer, FaqCollection
from services.chatbot.dataset import KINDS, DevQuestion
from services.chatbot.fusion import CROSS, fuse

GOALS = {"same_language_top1": 0.90, "cross_language_top1": 0.85, "ood_abstention": 0.85, "false_abstention": 0.05}


@dataclass
class EvalReport:
    """``top1[kind]``: right entry ranked first (answered or not); ``answered_right[kind]``: right and not abstained."""

    questions: dict[str, int] = field(default_factory=dict)
    top1: dict[str, float] = field(default_factory=dict)
    answered_right: dict[str, float] = field(default_factory=dict)
    false_abstention: float = 0.0
    ood_abstention: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_p50_ms: float = 0.0  # CPU time of the process (every thread) per question: what the work costs, whatever the load
    misses: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        for kind in KINDS:
            if kind == "ood" or kind not in self.questions:
                continue
            out.append(
                f"top-1 {kind:7s} {self.top1[kind]:.3f}  (answered and right {self.answered_right[kind]:.3f}, n={self.questions[kind]})"
            )
        out.append(f"out-of-domain abstention {self.ood_abstention:.3f}  (n={self.questions.get('ood', 0)})")
        out.append(f"false abstention {self.false_abstention:.3f}  (in-domain questions abstained on)")
        out.append(
            f"latency p50 {self.p50_ms:.1f} ms  p99 {self.p99_ms:.1f} ms  (in-process, per question; "
            f"CPU p50 {self.cpu_p50_ms:.1f} ms, load average {os.getloadavg()[0]:.1f})"
        )
        return out


@dataclass(frozen=True)
class Asked:
    """One dev question's answer, and what asking took."""

    question: DevQuestion
    answer: Answer
    ms: float
    cpu_ms: float


def ask_all(collection: FaqCollection, questions: list[DevQuestion]) -> list[Asked]:
    known = {e.id for e in collection.entries}
    asked = []
    for q in questions:
        if q.entry_id is not None and q.entry_id not in known:
            raise ValueError(f"dev question refers to unknown entry {q.entry_id}")
        started, cpu_started = time.perf_counter(), time.process_time()
        answer = collection.ask(q.text, top_k=3)
        ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000
        asked.append(Asked(q, answer, ms, cpu_ms))
    return asked


def score(asked: list[Asked]) -> EvalReport:
    """The report of questions already asked (so that sets and their pool are scored from one asking)."""
    report = EvalReport()
    hits: dict[str, list[bool]] = {}
    right: dict[str, list[bool]] = {}
    abstained_in: list[bool] = []
    abstained_ood: list[bool] = []
    latencies = [a.ms for a in asked]
    cpu = [a.cpu_ms for a in asked]
    for a in asked:
        q, answer = a.question, a.answer
        if q.entry_id is None:
            abstained_ood.append(answer.abstained)
            if not answer.abstained:
                report.misses.append(f"ood answered: {q.text!r} -> {answer.candidates[0].id} ({answer.candidates[0].score})")
            continue
        first = answer.candidates[0].id if answer.candidates else None
        hits.setdefault(q.kind, []).append(first == q.entry_id)
        right.setdefault(q.kind, []).append(first == q.entry_id and not answer.abstained)
        abstained_in.append(answer.abstained)
        if first != q.entry_id or answer.abstained:
            what = "abstained" if answer.abstained else "wrong"
            report.misses.append(f"{q.kind} {what}: {q.text!r} -> {first} (want {q.entry_id})")
    for kind, values in hits.items():
        report.questions[kind] = len(values)
        report.top1[kind] = float(np.mean(values))
        report.answered_right[kind] = float(np.mean(right[kind]))
    report.questions["ood"] = len(abstained_ood)
    report.ood_abstention = float(np.mean(abstained_ood)) if abstained_ood else 0.0
    report.false_abstention = float(np.mean(abstained_in)) if abstained_in else 0.0
    report.p50_ms = float(np.percentile(latencies, 50)) if latencies else 0.0
    report.p99_ms = float(np.percentile(latencies, 99)) if latencies else 0.0
    report.cpu_p50_ms = float(np.percentile(cpu, 50)) if cpu else 0.0
    return report


def diagnose(collection: FaqCollection, questions: list[DevQuestion]) -> list[str]:
    """Where the wrong answers come from: ranking within a language side, or choosing the side.

    For same-language (ko, en) and cross-language (ko->en, en->ko) questions: how often each channel alone
    ranks the right entry first among the entries of the right side (the question's language, or entries
    only the other language has), and how often the fused ranking does when it is told the side. The
    fused top-1 below those is what choosing between the two sides costs.
    """
    index = {e.id: i for i, e in enumerate(collection.entries)}
    groups = {"same-language": ("ko", "en"), "cross-language": ("ko->en", "en->ko")}
    right: dict[tuple[str, str], int] = {}
    counts: dict[str, int] = {}
    for q in questions:
        group = next((g for g, kinds in groups.items() if q.kind in kinds), None)
        if group is None or q.entry_id is None:
            continue
        gold = index[q.entry_id]
        channels = collection.channels(q.text)
        counts[group] = counts.get(group, 0) + 1
        side = "cross" if group == "cross-language" else "same"
        for name, hits in channels.items():
            if name.endswith("|" + side) and collection.fusion.weights.get(name, 0.0) > 0:
                first = int(hits.entries[0]) if hits.entries.size else -1
                right[(group, name)] = right.get((group, name), 0) + (first == gold)
        entries, _ = fuse(channels, collection.fusion)
        told = entries[(channels.reach[entries] == CROSS) == (side == "cross")]
        for name, ranked in (("fused, side given", told), ("fused", entries)):
            right[(group, name)] = right.get((group, name), 0) + bool(ranked.size and ranked[0] == gold)
    lines = []
    for (group, name), n in right.items():
        lines.append(f"{group:14s} {name:32s} {n}/{counts[group]} = {n / counts[group]:.3f}")
    return lines
