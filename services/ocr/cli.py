"""Commands of the OCR service: `malgeul eval ocr` and `malgeul ocr render` (write generated screens)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def evaluate_ocr(argv: list[str]) -> int:
    """Read generated screens, print per-field accuracy, perfect-image and fallback rates, p50 latency,
    then the same scores for one plain whole-page pytesseract pass (the baseline)."""
    parser = argparse.ArgumentParser(prog="malgeul eval ocr", description=evaluate_ocr.__doc__)
    parser.add_argument("--count", type=int, default=120, help="generated images (default 120)")
    parser.add_argument("--seed", type=int, default=1000, help="first seed of the image set")
    parser.add_argument("--roster", action="store_true", help="also score with the true nicknames as roster")
    parser.add_argument("--no-baseline", action="store_true", help="skip the whole-page pytesseract baseline")
    parser.add_argument("--baseline-count", type=int, default=None, help="images for the baseline (default: all)")
    parser.add_argument("--failures", type=Path, default=None, help="write imperfect cases as JSON lines here")
    parser.add_argument("--misses", action="store_true", help="print every wrong field (seed, field, truth -> read)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from services.ocr.app import build_reader
    from services.ocr.config import OcrSettings
    from services.ocr.evaluate import Score, case_groups, decode, misses, timed, timed_cpu, whole_page_tesseract
    from services.ocr.synthetic import cases

    settings = OcrSettings(workers=1)
    reader = build_reader(settings)
    images = cases(args.count, args.seed)
    print(f"ocr eval: {len(images)} generated images (seeds {args.seed}..{args.seed + len(images) - 1}), "
          f"{sum(1 for c in images if not c.style.degraded)} clean; engines: tesseract"
          f"{' + rapidocr' if reader.line_fallbacks else ''}{' + cloud' if reader.page_fallbacks else ''}")
    score, clean, rostered = Score(), Score(), Score()
    failures = []
    for case in images:
        rgb = decode(case)
        outcome, ms, cpu = timed_cpu(lambda: reader.read(rgb))
        truth = case.truth.as_record()
        groups = case_groups(case)
        ok = score.add(truth, outcome.record, groups, ms, outcome.fallback_used, cpu)
        if not case.style.degraded:
            clean.add(truth, outcome.record, groups, ms, outcome.fallback_used, cpu)
        if not ok and args.misses:
            kind = "clean" if not case.style.degraded else "degraded"
            for miss in misses(truth, outcome.record):
                print(f"miss seed={case.seed} {kind} font={case.style.font}: {miss}")
        if not ok and args.failures:
            failures.append({"seed": case.seed, "family": case.style.family(), "groups": groups,
                             "truth": truth, "read": outcome.record.model_dump(), "warnings": outcome.warnings})
        if args.roster:
            names = [p.nickname for t in case.truth.teams for p in t.players]
            outcome, ms = timed(lambda: reader.read(rgb, names))
            rostered.add(truth, outcome.record, groups, ms, outcome.fallback_used)
    for line in score.lines("malgeul"):
        print(line)
    for line in clean.lines("malgeul clean")[:1]:
        print(line)
    if args.roster:
        for line in rostered.lines("malgeul+roster")[:2]:
            print(line)
    if args.failures:
        args.failures.write_text("\n".join(json.dumps(f, ensure_ascii=False) for f in failures) + "\n", encoding="utf-8")
    if not args.no_baseline:
        baseline = Score()
        read_page = whole_page_tesseract(settings.text_lang)
        for case in images[: args.baseline_count or len(images)]:
            rgb = decode(case)
            record, ms = timed(lambda: read_page(rgb))
            baseline.add(case.truth.as_record(), record, case_groups(case), ms)
        for line in baseline.lines("baseline whole-page pytesseract")[:2]:
            print(line)
    reader.tesseract.close()
    return 0


def render_screens(argv: list[str]) -> int:
    """Write generated result screens and their ground truth to a folder."""
    parser = argparse.ArgumentParser(prog="malgeul ocr render")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args(argv)
    from services.ocr.synthetic import cases

    args.folder.mkdir(parents=True, exist_ok=True)
    for case in cases(args.count, args.seed):
        suffix = "jpg" if case.media_type == "image/jpeg" else "png"
        (args.folder / f"screen-{case.seed}.{suffix}").write_bytes(case.image)
        (args.folder / f"screen-{case.seed}.json").write_text(
            json.dumps({"truth": case.truth.as_record(), "family": case.style.family(), "style": vars(case.style)},
                       ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {args.count} screens to {args.folder}")
    return 0


EVALS = {"ocr": evaluate_ocr}


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "render":
        print("usage: malgeul ocr render FOLDER [--count N] [--seed S]", file=sys.stderr)
        return 2
    return render_screens(argv[1:])
