"""The match reader: normalise the page, cut it into segments, read them with Tesseract, find the
structure, re-read numbers digit-only, check the record, and send doubtful regions to fallback engines.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from services.ocr.checks import structural_problems
from services.ocr.engines import EngineUnavailable, LineReader, PageReader, Reading, TextLine
from services.ocr.engines.tesseract import TesseractPool, TesseractWorker
from services.ocr.layout import Page, Segment, group_rows, merge_words, normalise, segment
from services.ocr.parse import ScreenLayout, analyse, banner_result, parse_int, parse_kda, parse_score_pair
from services.ocr.roster import correct_nicknames
from services.ocr.schemas import MatchRecord
from services.ocr.syllables import SyllableVerifier

logger = logging.getLogger("malgeul.ocr.reader")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# A Latin word (capital first), maybe after a few characters: where a Hangul prefix is misread or dropped.
PLAIN_PART = re.compile(r"^([A-Za-z]{3,}\d*|\d+|[A-Z][a-z]|[a-z]{2}|[A-Z]{2})$")
LATIN_WORD_END = re.compile(r"^(.{0,4}?)([A-Z][a-z]{2,}\d*)$")
# A reading that ends in Latin letters: maybe a Hangul prefix misread, dropped or joined to a Latin word.
LATIN_TAIL = re.compile(r"[A-Za-z]{2,}\d*$")
PLAIN_LATIN = re.compile(r"^[A-Za-z]+\d*$")
LATIN_WORD = re.compile(r"^[A-Z][a-z]{2,}\d*$")
HANGUL_ONLY = re.compile(r"^[\uac00-\ud7a3]+$")
HANGUL_PART = re.compile(r"^(?=.)[\uac00-\ud7a3]*\d*$")
HANGUL_MIN_CONFIDENCE = 0.6
UNDERSCORE_REACH = 0.3  # text heights below a nickname's box still searched for its underscores
# Syllables are drawn and compared only in words the model was unsure of: across very different fonts (a
# serif) the drawing can prefer a wrong neighbour of a syllable the model read right and sure (`은` -> `욘`).
VERIFY_BELOW = 0.9
# Letters whose capital has the small letter's shape; their case comes from their height.
SAME_SHAPE = re.compile(r"[cosvwxzCOSVWXZ]")
CASE_LOWER_RATIO, CASE_UPPER_RATIO = 0.8, 0.9
SPLIT_MIN_CONFIDENCE = 0.6
cv2.setNumThreads(1)  # workers run in parallel; OpenCV's own threads would only contend with them


@dataclass
class ReadOutcome:
    """A parsed record with its provenance."""

    record: MatchRecord
    engines: list[str]
    fallback_used: bool
    confidence: float
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ms: float = 0.0

    @property
    def engine(self) -> str:
        return "+".join(dict.fromkeys(self.engines))


def _valid(text: str, kind: str) -> bool:
    if kind == "digits":
        return parse_int(text) is not None
    if kind == "kda":
        return parse_kda(text) is not None
    if kind == "score":
        return parse_score_pair(text.replace(" ", "")) is not None
    return bool(text.strip())


class MatchReader:
    """Reads result screens into `MatchRecord`s; thread-safe (each call borrows a Tesseract worker)."""

    def __init__(
        self,
        tesseract: TesseractPool,
        line_fallbacks: list[LineReader] | None = None,
        page_fallbacks: list[PageReader] | None = None,
        min_confidence: float = 0.8,
        syllables: SyllableVerifier | None = None,
    ) -> None:
        self.tesseract = tesseract
        self.line_fallbacks = line_fallbacks or []
        self.page_fallbacks = page_fallbacks or []
        self.min_confidence = min_confidence
        # Draws close Hangul confusions the OCR model cannot output (`늑`) and compares them with the ink.
        self.syllables = syllables if syllables is not None else SyllableVerifier()

    # ------------------------------------------------------------------ public

    def read(self, rgb: np.ndarray, roster: list[str] | None = None, roster_min_similarity: float = 0.6) -> ReadOutcome:
        started = time.perf_counter()
        page = normalise(rgb)
        with self.tesseract.worker() as worker:
            layout, rows = self._read_local(page, worker)
        record = layout.record()
        problems = layout.problems + structural_problems(record)
        doubtful = self._doubtful(layout)
        engines = ["tesseract"]
        warnings: list[str] = []
        fallback_used = False
        if problems or doubtful:
            logger.info("fallback needed", extra={"problems": problems[:5], "doubtful": len(doubtful)})
            record, layout, used, fallback_warnings = self._fallback(rgb, page, rows, layout, doubtful, problems)
            warnings += fallback_warnings
            engines += used
            fallback_used = bool(used)
            problems = layout.problems + structural_problems(record)
        if roster:
            warnings += correct_nicknames(record, roster, roster_min_similarity)
        warnings += [f"check failed: {p}" for p in problems]
        confidence = self._confidence(layout)
        return ReadOutcome(record, engines, fallback_used, confidence, warnings, problems,
                           ms=(time.perf_counter() - started) * 1000)

    def read_text(self, rgb: np.ndarray) -> list[TextLine]:
        """All text lines of an image (Tesseract's own page layout), boxes in the image's pixels."""
        with self.tesseract.worker() as worker:
            return worker.read_page(rgb)

    # ------------------------------------------------------------------ steps

    def _read_local(self, page: Page, worker: TesseractWorker) -> tuple[ScreenLayout, list[list[Segment]]]:
        rows = group_rows(segment(page))
        for row in rows:
            for seg in row:
                reading = worker.read_line(page.crop(seg.box), "text")
                seg.text, seg.confidence, seg.engine = reading.text, reading.confidence, reading.engine
        layout = analyse(rows, page.text_height)
        for seg in layout.nickname_segments():
            read_nickname(page, seg, worker, self.syllables)
        for table in layout.tables:
            for seg in table.name:
                _read_words(page, seg, worker, self.syllables)
        # Numbers again with a digit-only whitelist: the word model confuses 0/O, 1/l, 5/S.
        for seg, kind in layout.numeric_segments():
            reading = worker.read_line(page.crop(seg.box), kind)  # type: ignore[arg-type]
            if not _valid(reading.text, kind):
                continue
            if _valid(seg.text, kind) and seg.text.replace(" ", "") != reading.text.replace(" ", ""):
                # The two models disagree on a number: neither is sure, let a fallback engine decide.
                seg.confidence = min(seg.confidence, reading.confidence) / 2
                continue
            seg.text, seg.confidence = reading.text, reading.confidence
        return layout, rows

    def _doubtful(self, layout: ScreenLayout) -> list[tuple[Segment, str]]:
        found = []
        for seg, kind in layout.numeric_segments():
            if not _valid(seg.text, kind) or seg.confidence < self.min_confidence or _width_disagrees(seg, kind):
                found.append((seg, kind))
        for seg in layout.nickname_segments():
            if not seg.text or seg.confidence < self.min_confidence:
                found.append((seg, "text"))
        for table in layout.tables:
            if table.banner is not None and banner_result(table.banner.text) is None:
                found.append((table.banner, "text"))
        return found

    def _fallback(self, rgb, page, rows, layout, doubtful, problems):  # noqa: ANN001, ANN202
        """Re-read doubtful regions; if the structure itself failed, read the page with a page engine."""
        used: list[str] = []
        warnings: list[str] = []
        cloud_cells: list[Segment] | None = None
        for engine in self.page_fallbacks:
            try:
                lines = engine.read_page(rgb)
            except EngineUnavailable as exc:
                warnings.append(f"{engine.name} unavailable: {exc}; kept the local reading")
                logger.warning("page fallback unavailable", extra={"engine": engine.name, "error": str(exc)})
                continue
            cloud_cells = merge_words([Segment(box=page.map_box(l.box), text=l.text, confidence=l.confidence,
                                                engine=engine.name) for l in lines], page.text_height)
            structural = bool(layout.problems) or not layout.tables
            if structural or (problems and not doubtful):
                # The local structure is unusable: take the page engine's layout wholesale.
                candidate = analyse(group_rows(cloud_cells), page.text_height)
                record = candidate.record()
                if not candidate.problems and len(structural_problems(record)) < len(problems) + len(layout.problems):
                    used.append(engine.name)
                    return record, candidate, used, warnings
            else:
                replaced = _replace_from_cells(doubtful, cloud_cells)
                if replaced:
                    used.append(engine.name)
                    doubtful = [(s, k) for s, k in doubtful if s not in replaced]
            break
        if doubtful and self.line_fallbacks:
            for engine in self.line_fallbacks:
                still = []
                for seg, kind in doubtful:
                    try:
                        reading = engine.read_line(page.crop(seg.box), kind)  # type: ignore[arg-type]
                    except EngineUnavailable as exc:
                        warnings.append(f"{engine.name} unavailable: {exc}")
                        still.append((seg, kind))
                        continue
                    better = _valid(reading.text, kind) and (not _valid(seg.text, kind) or reading.confidence > seg.confidence)
                    if kind == "text" and (HANGUL.search(seg.text) or len(reading.text) < len(seg.text.replace(" ", ""))):
                        better = False  # a Latin-only engine would silently drop the Hangul of a nickname
                    if better:
                        seg.text, seg.confidence, seg.engine = reading.text, reading.confidence, engine.name
                        if engine.name not in used:
                            used.append(engine.name)
                    else:
                        still.append((seg, kind))
                doubtful = still
        return layout.record(), layout, used, warnings

    @staticmethod
    def _confidence(layout: ScreenLayout) -> float:
        segs = [s for s, _ in layout.numeric_segments()] + layout.nickname_segments()
        segs += [t.banner for t in layout.tables if t.banner is not None]
        if not segs:
            return 0.0
        return float(np.clip(np.mean([s.confidence for s in segs]), 0.0, 1.0))


def underscores(page: Page, box: tuple[int, int, int, int]) -> list[tuple[int, int]]:
    """x ranges (page pixels) of underscores in ``box``: thin flat strokes at the bottom of the line.

    Tesseract drops most underscores next to Hangul or digits, and reads a mixed-script nickname much
    better one script at a time; an underscore is where players put the script change."""
    x, y, w, h = box
    t = page.text_height
    # A little below the box too: a one-pixel underscore can vanish from the ink the segment was cut from.
    tight = page.gray[y : y + h + int(UNDERSCORE_REACH * t), x : x + w]
    if tight.size == 0:
        return []
    _, ink = cv2.threshold(tight, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    found = []
    for cx, cy, cw, ch, _area in stats[1:]:
        if ch <= max(3, 0.16 * t) and cw >= 0.3 * t and cw >= 3 * ch and cy + ch >= 0.75 * h:
            found.append((x + int(cx), x + int(cx + cw)))
    return sorted(found)


def read_nickname(page: Page, seg: Segment, worker: TesseractWorker, syllables: SyllableVerifier | None = None) -> None:
    """Re-read a nickname one script at a time: parts between underscores, or a Hangul prefix and a Latin
    word, or the whole line with the Korean model; then settle the case of `x`/`X`-like letters."""
    cuts = underscores(page, seg.box)
    if cuts:
        _read_nickname_parts(page, seg, worker, cuts)
    elif not _split_hangul_latin(page, seg, worker):
        _prefer_hangul(page, seg, worker, nickname=True, syllables=syllables)


def _read_part(page: Page, box: tuple[int, int, int, int], worker: TesseractWorker) -> Reading:
    """One part of a nickname between underscores: a Latin word or number as read, anything else
    (Hangul, or Hangul that the mixed model turned into junk) with the Korean model."""
    crop = page.crop(box, x_margin=False)
    reading = worker.read_line(crop, "text")
    part = reading.text.replace(" ", "").strip("_")
    latin = not HANGUL.search(part) and bool(PLAIN_PART.match(part))
    if latin and reading.confidence >= 0.8:
        return Reading(part, reading.confidence, reading.engine)
    for kind in ("hangul", "hangul_script"):
        second = worker.read_line(crop, kind)  # type: ignore[arg-type]
        other = second.text.replace(" ", "")
        if (HANGUL_PART.match(other) and second.confidence >= HANGUL_MIN_CONFIDENCE
                and not (latin and second.confidence <= reading.confidence)):
            return Reading(other, second.confidence, second.engine)
    return Reading(part, reading.confidence, reading.engine)


def _read_nickname_parts(page: Page, seg: Segment, worker: TesseractWorker, cuts: list[tuple[int, int]]) -> None:
    """Re-read a nickname with underscores as separate parts joined by `_`."""
    x, y, w, h = seg.box
    parts, confidences, boxes = [], [], []
    start = x
    for left, right in cuts + [(x + w, x + w)]:
        boxes.append((start, y, max(1, left - start), h))
        if left - start >= 0.3 * page.text_height:
            reading = _read_part(page, (start, y, left - start, h), worker)
            parts.append(reading.text)
            confidences.append(reading.confidence)
        else:
            parts.append("")
        start = right
    text = "_".join(parts).strip("_") if not (parts and parts[0] == "") else "_".join(parts)
    confidence = float(min(confidences)) if confidences else 0.0
    if any(SAME_SHAPE.search(p) for p in parts):
        text = "_".join(_settle_case(page, box, part, seg.box) for part, box in zip(parts, boxes))
    if any(parts) or text:
        seg.text = text
        seg.confidence = confidence


def _glyphs(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Ink blobs of a crop (x0, x1, y0, y1), left to right, pieces that overlap in x joined (the dot of an `i`)."""
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    blobs = sorted([int(cx), int(cx + cw), int(cy), int(cy + ch)] for cx, cy, cw, ch, area in stats[1:] if area >= 4)
    joined: list[list[int]] = []
    for blob in blobs:
        if joined and min(blob[1], joined[-1][1]) - blob[0] > 0.5 * min(blob[1] - blob[0], joined[-1][1] - joined[-1][0]):
            last = joined[-1]
            joined[-1] = [min(last[0], blob[0]), max(last[1], blob[1]), min(last[2], blob[2]), max(last[3], blob[3])]
        else:
            joined.append(blob)
    return [tuple(b) for b in joined]  # type: ignore[misc]


def _settle_case(page: Page, box: tuple[int, int, int, int], text: str, line: tuple[int, int, int, int]) -> str:
    """`xX` read as `XX`: letters whose capital is the small letter enlarged (c, o, s, v, w, x, z) get their
    case from their ink height against the tallest ink of the nickname, one blob per letter."""
    if not PLAIN_LATIN.match(text) or not SAME_SHAPE.search(text):
        return text
    x, y, w, h = box
    glyphs = _glyphs(page.gray[y : y + h, x : x + w])
    if len(glyphs) != len(text):
        return text
    lx, ly, lw, lh = line
    # Tops, not heights: a descender (`g`) makes a small letter as tall as a capital.
    tops = [g[2] + ly - y for g in _glyphs(page.gray[ly : ly + lh, lx : lx + lw]) if g[3] - g[2] < 1.5 * page.text_height]
    if not tops:
        return text
    highest = min(tops)
    letters = []
    for char, (_, _, top, bottom) in zip(text, glyphs):
        ratio = (bottom - top) / max(1, bottom - highest)
        if char.lower() in "cosvwxz" and ratio < CASE_LOWER_RATIO:
            char = char.lower()
        elif char.lower() in "cosvwxz" and ratio > CASE_UPPER_RATIO:
            char = char.upper()
        letters.append(char)
    return "".join(letters)


def _split_hangul_latin(page: Page, seg: Segment, worker: TesseractWorker) -> bool:
    """`달빛Knight` read as `SIKnight`, `Knight` or `달빛6night`: cut the line at each blank column before the
    Latin word, read the left part with the Korean model and the right part with the Latin one, and keep the
    surest cut whose right part is one capitalised word and whose left part is all Hangul."""
    text = seg.text.replace(" ", "")
    if "_" in text or not (LATIN_TAIL.search(text) or not HANGUL_PART.match(text)):
        return False
    # A clean Latin reading may only gain a dropped prefix, never have its own first letter cut off.
    plain = text if LATIN_WORD.match(text) and seg.confidence >= 0.85 else None
    x, y, w, h = seg.box
    t = page.text_height
    _, ink = cv2.threshold(page.gray[y : y + h, x : x + w], 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    # Near-blank columns: kerning lets a syllable's round bottom reach under the next letter.
    blank = (ink > 0).sum(axis=0) <= max(1, int(0.12 * h))
    cuts = []
    column = int(0.6 * t)
    limit = min(w - int(1.5 * t), int(3.3 * t))
    while column < limit:
        if blank[column]:
            end = column
            while end < limit and blank[end]:
                end += 1
            cuts.append((column + end) // 2)
            column = end
        column += 1
    best: tuple[float, str, str] | None = None
    for cut in cuts[:6]:
        right = worker.read_line(page.crop((x + cut, y, w - cut, h), x_margin=False), "latin")
        # A sliver of the syllable left of the cut reads as punctuation (`‘Nova`).
        word = re.sub(r"^[^A-Za-z0-9]+", "", right.text.replace(" ", ""))
        if not LATIN_WORD.match(word) or (plain is not None and word != plain):
            continue
        left = worker.read_line(page.crop((x, y, cut, h), x_margin=False), "hangul")
        prefix = left.text.replace(" ", "")
        if not HANGUL_ONLY.match(prefix) or left.confidence < SPLIT_MIN_CONFIDENCE:
            continue
        score = left.confidence + right.confidence
        if best is None or score > best[0]:
            best = (score, prefix, word)
    if best is None:
        return False
    seg.text = best[1] + best[2]
    seg.confidence = min(seg.confidence, best[0] / 2)
    return True


def _prefer_hangul(page: Page, seg: Segment, worker: TesseractWorker, nickname: bool = False,
                   syllables: SyllableVerifier | None = None) -> None:
    """A Hangul word read with the Korean model: the mixed model turns some into Latin junk (`바정솔` ->
    `uss`) and confuses close syllables (`빛` -> `빚`) more often; an empty reading gets a second chance too.
    Then syllables no model here can output (`늑`) are settled by drawing them."""
    if "_" in seg.text:
        return
    if not HANGUL.search(seg.text) and LATIN_WORD_END.match(seg.text.replace(" ", "")) and seg.confidence >= 0.85:
        return  # reads as a proper Latin word
    known = worker.hangul_characters
    if not nickname and HANGUL_ONLY.match(seg.text.replace(" ", "")):
        # A team name the mixed model read as Hangul: it reads big bold words as well as the Korean one.
        if syllables is not None and seg.confidence < VERIFY_BELOW:
            seg.text = syllables.verify(page.crop(seg.box), seg.text, known)
        return
    reading = worker.read_line(page.crop(seg.box), "hangul")
    text = reading.text.replace(" ", "")
    # The Korean model reads Latin letters as digits (`Nova` -> `4008`): digits only where digits were read.
    digits_seen = nickname and bool(re.search(r"\d$", seg.text))
    # Junk from the mixed model is replaced by a less sure Hangul reading when that is clearly surer.
    sure = reading.confidence >= HANGUL_MIN_CONFIDENCE or (
        not HANGUL.search(seg.text) and reading.confidence >= seg.confidence + 0.15)
    if (HANGUL_PART if digits_seen else HANGUL_ONLY).match(text) and sure:
        seg.text = text if nickname else " ".join(reading.text.split())
        seg.confidence = reading.confidence
        if syllables is not None and HANGUL_ONLY.match(text) and reading.confidence < VERIFY_BELOW:
            seg.text = syllables.verify(page.crop(seg.box), seg.text, known)


def _read_words(page: Page, seg: Segment, worker: TesseractWorker, syllables: SyllableVerifier | None = None) -> None:
    """A Korean team name word by word (Tesseract drops the space between Hangul words and misreads short
    ones); Latin names keep Tesseract's own spacing, which is right."""
    if not HANGUL.search(seg.text):
        return
    x, y, w, h = seg.box
    t = page.text_height
    _, ink = cv2.threshold(page.gray[y : y + h, x : x + w], 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    blank = (ink > 0).sum(axis=0) == 0
    runs, column = [], 0
    while column < w:
        if blank[column]:
            end = column
            while end < w and blank[end]:
                end += 1
            if column > 0 and end < w:
                runs.append((column, end))
            column = end
        column += 1
    if not runs:
        return
    # A space is much wider than the gaps between letters or between the parts of a syllable.
    lengths = sorted(b - a for a, b in runs)
    typical = float(np.median(lengths[:-1] if len(lengths) > 1 else lengths))
    words, start = [], 0
    for a, b in runs:
        if b - a >= max(2.5 * typical, 0.3 * h, 0.25 * t):
            words.append((start, a))
            start = b
    words.append((start, w))
    if len(words) < 2:
        if not all(HANGUL_ONLY.match(word) for word in seg.text.split()):
            _prefer_hangul(page, seg, worker, syllables=syllables)  # `붉은 Sl`: no wide gap to cut at
        return
    texts, confidences = [], []
    for left, right in words:
        piece = Segment(box=(x + left, y, right - left, h))
        reading = worker.read_line(page.crop(piece.box), "text")
        piece.text, piece.confidence = reading.text.replace(" ", ""), reading.confidence
        _prefer_hangul(page, piece, worker, syllables=syllables)
        texts.append(piece.text)
        confidences.append(piece.confidence)
    if all(texts):
        seg.text, seg.confidence = " ".join(texts), min(confidences)
    if any(HANGUL_ONLY.match(t) for t in texts) and not all(HANGUL_ONLY.match(t) for t in texts):
        # Hangul next to junk (`붉은 SC`): a word alone gives the Korean model too little context; the whole
        # name, with the same number of words, often reads (and then its syllables can be drawn).
        reading = worker.read_line(page.crop(seg.box), "hangul")
        if len(reading.text.split()) == len(texts) and HANGUL_ONLY.match(reading.text.replace(" ", "")):
            seg.text, seg.confidence = reading.text, reading.confidence
            if syllables is not None and reading.confidence < VERIFY_BELOW:
                seg.text = syllables.verify(page.crop(seg.box), seg.text, worker.hangul_characters)


def _width_disagrees(seg: Segment, kind: str) -> bool:
    """A lone digit in a box as wide as two (or the reverse): a digit was dropped or invented."""
    if kind != "digits":
        return False
    width, height = seg.box[2], seg.box[3]
    digits = len(seg.text.strip())
    return (digits == 1 and width > 1.05 * height) or (digits >= 2 and width < 0.5 * height)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax0, ay0, aw, ah = a
    bx0, by0, bw, bh = b
    w = min(ax0 + aw, bx0 + bw) - max(ax0, bx0)
    h = min(ay0 + ah, by0 + bh) - max(ay0, by0)
    if w <= 0 or h <= 0:
        return 0.0
    return (w * h) / min(aw * ah, bw * bh)


def _replace_from_cells(doubtful: list[tuple[Segment, str]], cells: list[Segment]) -> set[Segment]:
    replaced = set()
    for seg, kind in doubtful:
        best = max(cells, key=lambda c: _overlap(seg.box, c.box), default=None)
        if best is None or _overlap(seg.box, best.box) < 0.5:
            continue
        text = best.text.replace(" ", "") if kind in ("digits", "kda") else best.text
        if _valid(text, kind):
            seg.text, seg.confidence, seg.engine = text, best.confidence, best.engine
            replaced.add(seg)
    return replaced
