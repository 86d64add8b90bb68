"""Analysis by synthesis for close Hangul confusions: render the syllables a reading could have been and
keep the one that looks most like the ink.

Tesseract's Korean models know ~1,150 of the 11,172 Hangul syllables (`늑` is not among them, so `붉은 늑대`
can only come out as `붉은 눅대`). For each syllable of an all-Hangul word (the reader asks only for words
the model was unsure of), the candidates are the syllables one confusable jamo away that the model cannot
output; each is drawn in two reference fonts, cut to its ink box, and compared with the syllable's own ink
box. The reference fonts are deliberately not ones the test-image generator draws with: real screens use
fonts we do not know, so the comparison must work across fonts; the reading changes only when the ink sits
clearly nearer another candidate's drawing than the reading's.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Debian fonts-nanum faces that services/ocr/synthetic.py never draws with (an honest test of unknown fonts).
REFERENCE_FONTS = (
    Path("/usr/share/fonts/truetype/nanum/NanumSquareRoundR.ttf"),
    Path("/usr/share/fonts/truetype/nanum/NanumGothicCoding.ttf"),
)
FIRST, SYLLABLE_COUNT = 0xAC00, 11172
# Jamo (by index in the Unicode syllable formula) that Tesseract's models confuse with each other.
INITIAL_GROUPS = [(12, 14), (0, 15), (2, 3, 16), (11, 18)]  # ㅈㅊ ㄱㅋ ㄴㄷㅌ ㅇㅎ
VOWEL_GROUPS = [(8, 13, 18, 12, 17), (0, 4, 2, 6), (1, 5, 3, 7)]  # ㅗㅜㅡㅛㅠ ㅏㅓㅑㅕ ㅐㅔㅒㅖ
FINAL_GROUPS = [(22, 23), (1, 24), (21, 27)]  # ㅈㅊ ㄱㅋ ㅇㅎ
SIZE = 32  # side of the square both images are compared at
# Evidence (-1: as read, +1: the alternative), averaged over the fonts, an alternative needs to replace the
# reading: 1 of 549 checks on correctly read nickname syllables passed 0.5 (generated screens, seeds
# 7000-7199), and every `득` that was really `늑` did (0.6-1.2).
EVIDENCE_NEEDED = 0.5


def _parts(char: str) -> tuple[int, int, int]:
    code = ord(char) - FIRST
    return code // 588, (code % 588) // 28, code % 28


def _compose(initial: int, vowel: int, final: int) -> str:
    return chr(FIRST + initial * 588 + vowel * 28 + final)


def _swaps(value: int, groups: list[tuple[int, ...]]) -> list[int]:
    return [v for g in groups if value in g for v in g if v != value]


def candidates(char: str) -> list[str]:
    """The syllable itself, then those one confusable jamo away."""
    initial, vowel, final = _parts(char)
    found = [char]
    found += [_compose(i, vowel, final) for i in _swaps(initial, INITIAL_GROUPS)]
    found += [_compose(initial, v, final) for v in _swaps(vowel, VOWEL_GROUPS)]
    found += [_compose(initial, vowel, f) for f in _swaps(final, FINAL_GROUPS)]
    return found


def _normalised(ink: np.ndarray) -> np.ndarray | None:
    """Ink (nonzero = text) cut to its box, scaled to SIZE x SIZE, softened so a one-pixel shift costs little."""
    ys, xs = np.nonzero(ink)
    if len(xs) < 4:
        return None
    box = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32)
    image = cv2.resize(box, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    image = cv2.GaussianBlur(image, (5, 5), 1.2)
    image -= image.mean()
    norm = float(np.linalg.norm(image))
    return image / norm if norm > 0 else None


class SyllableVerifier:
    """Re-decides each syllable of an all-Hangul word among close confusions the OCR model cannot output,
    by drawing them in two reference fonts."""

    def __init__(self, fonts: tuple[Path, ...] = REFERENCE_FONTS, threshold: float = EVIDENCE_NEEDED) -> None:
        self.threshold = threshold
        self._fonts = [ImageFont.truetype(str(p), 64) for p in fonts if Path(p).exists()]
        self.available = bool(self._fonts)
        self._lock = threading.Lock()
        self._template = lru_cache(maxsize=8192)(self._render)

    def _render(self, char: str, font: int) -> np.ndarray | None:
        image = Image.new("L", (96, 96), 0)
        ImageDraw.Draw(image).text((8, 4), char, font=self._fonts[font], fill=255)
        return _normalised(np.asarray(image))

    def template(self, char: str, font: int = 0) -> np.ndarray | None:
        with self._lock:  # PIL's FreeType faces are not safe to share between threads
            return self._template(char, font)

    def evidence(self, seen: np.ndarray, char: str, known: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, float]]:
        """For each alternative to ``char`` the model cannot output: where the ink falls between the two
        drawings, from -1 (looks like ``char``) to +1 (looks like the alternative), averaged over the fonts. Measured along the difference of the two drawings, so the parts they share (and the
        font's own look there) cancel out."""
        found = []
        for option in candidates(char)[1:]:
            if option in known:
                continue  # the OCR model could have said it, and weighed it already
            figures = []
            for font in range(len(self._fonts)):
                own, other = self.template(char, font), self.template(option, font)
                if own is None or other is None:
                    break
                difference = other - own
                spread = float((difference * difference).sum())
                if spread <= 1e-6:
                    break
                figures.append(2 * float(((seen - own) * difference).sum()) / spread - 1)
            else:
                if figures:
                    found.append((option, sum(figures) / len(figures)))
        return found

    def verify(self, gray: np.ndarray, text: str, known: set[str] | frozenset[str] = frozenset()) -> str:
        """``gray``: the word's crop (dark on light); ``text``: its reading; ``known``: the characters the OCR
        model can output (alternatives among them are not drawn). Returns the reading, maybe corrected."""
        words = text.split()
        if not self.available or not words or not all(FIRST <= ord(c) < FIRST + SYLLABLE_COUNT for c in "".join(words)):
            return text
        _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
        if len(words) > 1:
            pieces = _words(ink, len(words))
            if pieces is None:
                return text
            return " ".join(self._verify_word(piece, word, known) for piece, word in zip(pieces, words))
        return self._verify_word(ink, text, known)

    def _verify_word(self, ink: np.ndarray, text: str, known: set[str] | frozenset[str]) -> str:
        if len(text) > 8:
            return text
        cells = _cells(ink, len(text))
        if cells is None:
            return text
        chars = list(text)
        for index, (char, cell) in enumerate(zip(chars, cells)):
            seen = _normalised(cell)
            if seen is None:
                continue
            best, best_score = char, self.threshold
            for option, score in self.evidence(seen, char, known):
                if score > best_score:
                    best, best_score = option, score
            chars[index] = best
        return "".join(chars)


def _words(ink: np.ndarray, count: int) -> list[np.ndarray] | None:
    """Cut a line's ink into ``count`` words at its ``count - 1`` widest blank runs."""
    xs = np.nonzero((ink > 0).any(axis=0))[0]
    gaps = sorted(((b - a, a, b) for a, b in zip(xs, xs[1:]) if b - a > 1), reverse=True)[: count - 1]
    if len(gaps) < count - 1:
        return None
    edges = [xs[0]] + [v for _, a, b in sorted(gaps, key=lambda g: g[1]) for v in (a + 1, b)] + [xs[-1] + 1]
    return [ink[:, edges[i] : edges[i + 1]] for i in range(0, len(edges), 2)]


def _cells(ink: np.ndarray, count: int) -> list[np.ndarray] | None:
    """Cut a word's ink into ``count`` syllables: Hangul syllables share one advance width, so start from even
    cuts and move each to the emptiest column nearby."""
    columns = (ink > 0).sum(axis=0)
    xs = np.nonzero(columns)[0]
    if len(xs) == 0:
        return None
    left, right = int(xs[0]), int(xs[-1]) + 1
    width = (right - left) / count
    if width < 4:
        return None
    cuts = [left]
    for i in range(1, count):
        guess = int(left + i * width)
        reach = max(1, int(0.2 * width))
        window = columns[max(cuts[-1] + 1, guess - reach) : min(right - 1, guess + reach + 1)]
        if len(window) == 0:
            return None
        cuts.append(max(cuts[-1] + 1, guess - reach) + int(np.argmin(window)))
    cuts.append(right)
    return [ink[:, a:b] for a, b in zip(cuts, cuts[1:])]
