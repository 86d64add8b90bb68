"""`malgeul eval faq` and `malgeul chatbot ...`: evaluate the default collection, build it ahead of start-up."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path

from services.chatbot.config import ChatbotSettings


def _engines(encoders: list[str] | None, finetune_steps: int | None = None):
    from services.chatbot.startup import load_engines

    settings = ChatbotSettings()
    if encoders:
        settings = settings.model_copy(update={"encoders": encoders})
    if finetune_steps is not None:
        settings = settings.model_copy(update={"finetune_steps": finetune_steps})
    return settings, load_engines(settings)


def eval_faq(argv: list[str]) -> int:
    """Build the default collection (tuned on the dev set's 'tune' split) and score the 'test' split."""
    parser = argparse.ArgumentParser(prog="malgeul eval faq", description=eval_faq.__doc__)
    parser.add_argument("--encoders", help="comma-separated encoder specs (default: MALGEUL_CHATBOT_ENCODERS)")
    parser.add_argument("--split", default="test", choices=["test", "tune", "all"])
    parser.add_argument(
        "--dev-set", type=Path, action="append",
        help="questions to score, repeatable, one build for all (default: the dev set and the held-out sets beside it, *-fresh*.json)",
    )
    parser.add_argument("--finetune-steps", type=int, help="fine-tuning steps of e5-tuned (default: MALGEUL_CHATBOT_FINETUNE_STEPS; 0: base e5)")
    parser.add_argument(
        "--finetune-seed", type=int,
        help="seed of e5's fine-tuning (default 13): builds with other seeds show how much a result is noise",
    )
    parser.add_argument("--misses", action="store_true", help="list every wrong answer")
    parser.add_argument("--json", action="store_true", help="also print the report as JSON")
    parser.add_argument(
        "--diagnose", action="store_true",
        help="also print, over all the sets, each channel's top-1 alone and the fused top-1 when told the "
        "language side",
    )
    args = parser.parse_args(argv)
    if args.finetune_seed is not None and args.finetune_steps == 0:
        parser.error("--finetune-seed has no effect with --finetune-steps 0 (the base e5 is not trained)")
    logging.basicConfig(level=logging.WARNING)

    from services.chatbot.dataset import load_dev_set, load_entries
    from services.chatbot.evaluation import ask_all, diagnose, score
    from services.chatbot.startup import collection_builder, default_tuning

    settings, engines = _engines(args.encoders.split(",") if args.encoders else None, args.finetune_steps)
    if args.finetune_seed is not None and engines.finetune is not None:
        finetune = dataclasses.replace(engines.finetune, seed=args.finetune_seed)
        engines = dataclasses.replace(engines, finetune=finetune)
    entries = load_entries(settings.default_collection_path)
    started = time.monotonic()
    build = collection_builder(settings, engines, default_tuning(entries, settings))
    collection = build(settings.default_collection or "esports-rules", entries)
    build_seconds = time.monotonic() - started
    fusion = collection.fusion
    tuning = engines.finetune
    tuned = f"; e5 fine-tuning seed {tuning.seed}" if tuning and tuning.max_steps else ""
    print(f"faq eval: {len(entries)} entries, engines {', '.join(engines.signature)}{tuned}")
    print(
        f"build {build_seconds:.1f} s; fusion weights {fusion.weights}, k={fusion.k}, "
        f"threshold {fusion.threshold:.3f} on the fused score"
    )
    if collection.off_topic is not None:
        margin = "none" if fusion.off_topic_margin is None else f"{fusion.off_topic_margin:.2f}"
        print(
            f"off-topic examples: {len(collection.off_topic.texts)} by {collection.off_topic.signal}, "
            f"margin {margin} (abstains when one is nearer than the answer by more)"
        )
    print(f"clipped words: {len(collection.clipped)} forms of the collection's nouns are spelled out in questions")
    paths = args.dev_set or default_question_sets(settings.default_dev_set_path)
    pooled: list = []
    asked: list = []
    for path in paths:
        questions = [q for q in load_dev_set(path) if args.split == "all" or q.split == args.split]
        answers = ask_all(collection, questions)
        print(f"-- {path.name}: {len(questions)} questions ({args.split} split)")
        _print_report(score(answers), args.misses, args.json)
        pooled += questions
        asked += answers
    if len(paths) > 1:
        print(f"-- the {len(paths)} sets pooled: {len(pooled)} questions ({args.split} split)")
        _print_report(score(asked), False, args.json)
    if args.diagnose:
        print("-- where the wrong answers come from (right side given vs chosen), all sets")
        for line in diagnose(collection, pooled):
            print("  " + line)
    return 0


def default_question_sets(dev_set: Path) -> list[Path]:
    """The dev set and the held-out sets written for the same collection (``<name>-fresh*.json`` beside it)."""
    fresh = sorted(dev_set.parent.glob(dev_set.name.replace("-dev.json", "-fresh*.json"))) if dev_set.name.endswith("-dev.json") else []
    return [dev_set, *fresh]


def _print_report(report, misses: bool, as_json: bool) -> None:
    from services.chatbot.evaluation import GOALS

    for line in report.lines():
        print(line)
    same = min(report.top1.get("ko", 0.0), report.top1.get("en", 0.0))
    cross = min(report.top1.get("ko->en", 0.0), report.top1.get("en->ko", 0.0))
    print(
        "goals: same-language top-1 >= {same_language_top1} {a}, cross-language >= {cross_language_top1} {b}, "
        "ood abstention >= {ood_abstention} {c}, false abstention <= {false_abstention} {d}".format(
            **GOALS,
            a="met" if same >= GOALS["same_language_top1"] else "NOT met",
            b="met" if cross >= GOALS["cross_language_top1"] else "NOT met",
            c="met" if report.ood_abstention >= GOALS["ood_abstention"] else "NOT met",
            d="met" if report.false_abstention <= GOALS["false_abstention"] else "NOT met",
        )
    )
    if misses:
        for miss in report.misses:
            print("  " + miss)
    if as_json:
        print(json.dumps({k: v for k, v in report.__dict__.items() if k != "misses"}, ensure_ascii=False))


def prepare(settings: ChatbotSettings) -> None:
    """`malgeul prepare chatbot`: build the default collection into var/ so start-up only loads it."""
    from services.chatbot.startup import ensure_default_collection, load_engines, open_store

    engines = load_engines(settings)
    # Only the default collection: the service rebuilds any other stale one in the background, answering
    # with it meanwhile (prepare used to rebuild them all first, fine-tuning each).
    store = open_store(settings, engines, rebuild=lambda name: name == settings.default_collection)
    ticket = ensure_default_collection(settings, store)
    if ticket is not None:
        ticket.future.result()
    while store.is_building(settings.default_collection):  # a saved default that was stale
        time.sleep(0.5)
    store.shutdown()


def main(argv: list[str]) -> int:
    """`malgeul chatbot build-default`: the same as the prepare step."""
    parser = argparse.ArgumentParser(prog="malgeul chatbot")
    parser.add_argument("command", choices=["build-default"])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    prepare(ChatbotSettings())
    return 0


EVALS = {"faq": eval_faq}
