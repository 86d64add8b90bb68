"""Nickname cells alone: how the reader's nickname step does on generated screens, with every miss.

Each screen is normalised and segmented as the service does, every segment read once with the line model,
the structure found, then each nickname cell re-read by `services.ocr.reader.read_nickname` and compared
with the truth. Used to tune the nickname step on seeds the eval (1000-1119) does not use:

    .venv/bin/python bench/ocr/bench_nicknames.py --seed 7000 --count 200
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services.ocr.config import OcrSettings  # noqa: E402
from services.ocr.engines.tesseract import TesseractPool  # noqa: E402
from services.ocr.evaluate import decode  # noqa: E402
from services.ocr.layout import group_rows, normalise, segment  # noqa: E402
from services.ocr.parse import analyse, clean_nickname  # noqa: E402
from services.ocr.reader import read_nickname  # noqa: E402
from services.ocr.synthetic import cases  # noqa: E402
from services.ocr.syllables import SyllableVerifier  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7000)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--quiet", action="store_true", help="no miss lines")
    args = parser.parse_args()
    settings = OcrSettings(workers=1)
    pool = TesseractPool(settings.tessdata, 1, settings.text_lang)
    syllables = SyllableVerifier()
    right = total = clean_right = clean_total = 0
    cpu = 0.0
    with pool.worker() as worker:
        for case in cases(args.count, args.seed):
            page = normalise(decode(case))
            rows = group_rows(segment(page))
            for row in rows:
                for seg in row:
                    reading = worker.read_line(page.crop(seg.box), "text")
                    seg.text, seg.confidence = reading.text, reading.confidence
            layout = analyse(rows, page.text_height)
            for table, team in zip(layout.tables, case.truth.teams):
                for row, player in zip(table.players, team.players):
                    started = time.thread_time()
                    read_nickname(page, row.nick, worker, syllables)
                    cpu += time.thread_time() - started
                    got = clean_nickname(row.nick.text)
                    ok = got == player.nickname
                    right += ok
                    total += 1
                    if not case.style.degraded:
                        clean_right += ok
                        clean_total += 1
                    if not ok and not args.quiet:
                        print(f"miss seed={case.seed} font={case.style.font} theme={case.style.theme}: "
                              f"{player.nickname!r} -> {got!r}")
    pool.close()
    print(f"nickname cells: seeds {args.seed}..{args.seed + args.count - 1}: {right}/{total} = {right / max(1, total):.3f}; "
          f"clean screens {clean_right}/{clean_total} = {clean_right / max(1, clean_total):.3f}; "
          f"nickname step CPU {1000 * cpu / max(1, total):.1f} ms a cell")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
