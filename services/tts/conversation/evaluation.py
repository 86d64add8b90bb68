"""`malgeul eval conversation`: intent recognition and off-script handling on the dev set.

The dev set (``data/conversation/eval/dev.yaml``) holds learner utterances per topic, scene and intended
intent, plus off-script utterances per scene. An utterance counts as recognised when the matcher, in
that scene, returns the intended intent; an off-script utterance counts as handled when the matcher
returns no scene or common intent (the bot then re-prompts or small-talks; the scene does not move).
A third figure measures the feedback notes (see :mod:`services.tts.conversation.feedback`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from services.tts.conversation.scripts import ScriptBook

INTENT_GOAL = 0.90
OFF_SCRIPT_GOAL = 0.85


@dataclass(frozen=True)
class Case:
    topic: str
    scene: str
    text: str
    intent: str | None  # None: off-script


@dataclass
class Report:
    """Scores of one evaluation run."""

    intent_total: int = 0
    intent_right: int = 0
    off_total: int = 0
    off_right: int = 0
    per_topic: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    errors: list[str] = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_right / max(1, self.intent_total)

    @property
    def off_script_rate(self) -> float:
        return self.off_right / max(1, self.off_total)


def load_dev_set(path: Path, book: ScriptBook) -> list[Case]:
    """The dev set's cases; common intents are tried in each topic's start scene in turn."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases: list[Case] = []
    topics = sorted(book.topics)
    turn = 0
    for intent, texts in (doc.get("_common") or {}).items():
        for text in texts:
            topic = book.topics[topics[turn % len(topics)]]
            cases.append(Case(topic.id, topic.start, text, intent))
            turn += 1
    for topic_id, scenes in doc.items():
        if topic_id == "_common":
            continue
        if topic_id not in book.topics:
            raise ValueError(f"dev set: unknown topic {topic_id!r}")
        for scene_id, intents in scenes.items():
            if scene_id not in book.topics[topic_id].scenes:
                raise ValueError(f"dev set: unknown scene {topic_id}/{scene_id}")
            for intent, texts in intents.items():
                for text in texts:
                    cases.append(Case(topic_id, scene_id, str(text), None if intent == "_off" else intent))
    return cases


def evaluate(matcher, cases: list[Case]) -> Report:
    """Run every case through ``matcher`` (an IntentMatcher) and count."""
    report = Report()
    groups: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for case in cases:
        groups[(case.topic, case.scene)].append(case)
    for (topic, scene), group in groups.items():
        results = matcher.interpret_many(topic, scene, [c.text for c in group])
        for case, result in zip(group, results, strict=True):
            got = result.intent.id if result.intent else None
            tally = report.per_topic[topic]
            tally[1] += 1
            if case.intent is None:
                report.off_total += 1
                ok = result.off_script
                report.off_right += ok
            else:
                report.intent_total += 1
                ok = got == case.intent
                report.intent_right += ok
            tally[0] += ok
            if not ok:
                report.errors.append(
                    f"{topic}/{scene}: {case.text!r} -> {got or 'off-script'} ({result.score:.2f}), "
                    f"wanted {case.intent or 'off-script'}"
                )
    return report


def run(argv: list[str]) -> int:
    """Entry point of `malgeul eval conversation [--encoder SPEC] [--errors]`."""
    from common.encoders import load_encoder
    from services.tts.conversation.config import ConversationSettings
    from services.tts.conversation.feedback import evaluate_feedback
    from services.tts.conversation.scripts import load_scripts
    from services.tts.conversation.understanding import IntentMatcher

    settings = ConversationSettings()
    parser = argparse.ArgumentParser(prog="malgeul eval conversation", description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default=settings.encoder, help="sentence encoder spec (common/encoders.py)")
    parser.add_argument("--dev-set", type=Path, default=settings.scripts_dir / "eval" / "dev.yaml")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args(argv)

    book = load_scripts(settings.scripts_dir)
    started = time.perf_counter()
    matcher = IntentMatcher(book, load_encoder(args.encoder), settings.matcher())
    built = time.perf_counter() - started
    cases = load_dev_set(args.dev_set, book)
    started = time.perf_counter()
    report = evaluate(matcher, cases)
    per_case_ms = (time.perf_counter() - started) * 1000 / max(1, len(cases))
    if args.errors:
        for line in report.errors:
            print("  miss:", line)
    for topic, (right, total) in sorted(report.per_topic.items()):
        print(f"  {topic:12s} {right}/{total} = {right / total:.3f}")
    print(
        f"conversation intents: {report.intent_right}/{report.intent_total} = {report.intent_accuracy:.3f} "
        f"(goal >= {INTENT_GOAL})"
    )
    print(
        f"conversation off-script handled: {report.off_right}/{report.off_total} = {report.off_script_rate:.3f} "
        f"(goal >= {OFF_SCRIPT_GOAL})"
    )
    feedback = evaluate_feedback(settings.scripts_dir / "eval" / "feedback.yaml", book)
    print(
        f"conversation feedback notes: recall {feedback.recall:.3f} ({feedback.found}/{feedback.expected}), "
        f"false alarms on the scripts' own phrasings {feedback.false_alarm_rate:.3f} "
        f"({feedback.false_alarms}/{feedback.clean_checked})"
    )
    print(
        f"encoder {matcher.encoder.name}, {len(book.topics)} topics, index built in {built:.1f} s, "
        f"{per_case_ms:.1f} ms per utterance",
        file=sys.stderr,
    )
    met = report.intent_accuracy >= INTENT_GOAL and report.off_script_rate >= OFF_SCRIPT_GOAL
    return 0 if met else 1
