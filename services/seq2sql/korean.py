"""Korean surface forms: particles chosen by the final consonant (batchim), number words, normalisation."""

from __future__ import annotations

import re
import unicodedata

# How the last character of a Latin word or digit sounds in Korean: does it end in a consonant?
_DIGIT_BATCHIM = {"0": True, "1": True, "2": False, "3": True, "4": False, "5": False,
                  "6": True, "7": True, "8": True, "9": False}
_DIGIT_RIEUL = {"1", "7", "8"}
_PAIRS = {
    "이": ("이", "가"), "가": ("이", "가"),
    "을": ("을", "를"), "를": ("을", "를"),
    "은": ("은", "는"), "는": ("은", "는"),
    "과": ("과", "와"), "와": ("과", "와"),
    "이랑": ("이랑", "랑"), "랑": ("이랑", "랑"),
    "으로": ("으로", "로"), "로": ("으로", "로"),
    "이야": ("이야", "야"), "야": ("이야", "야"),
    "이에요": ("이에요", "예요"), "예요": ("이에요", "예요"),
    "입니다": ("입니다", "입니다"),
}
NUMBER_WORDS = {"한": 1, "하나": 1, "두": 2, "둘": 2, "세": 3, "셋": 3, "네": 4, "넷": 4, "다섯": 5,
                "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10, "스무": 20}


def final_consonant(word: str) -> str | None:
    """The batchim of the word's last sound: a jamo index > 0 means a consonant; None for an open syllable."""
    word = word.strip()
    for ch in reversed(word):
        if "가" <= ch <= "힣":
            index = (ord(ch) - 0xAC00) % 28
            return "ㄹ" if index == 8 else ("c" if index else None)
        if ch.isdigit():
            if ch in _DIGIT_RIEUL:
                return "ㄹ"
            return "c" if _DIGIT_BATCHIM[ch] else None
        if ch.isascii() and ch.isalpha():
            tail = word.lower().rstrip(" )]")
            if tail.endswith(("ng", "m", "n", "k", "l", "b", "p", "t")):
                return "ㄹ" if tail.endswith("l") else "c"
            return None
    return None


def particle(word: str, kind: str) -> str:
    """``word`` + the particle ``kind`` (any form: '이' or '가', '을' or '를', ...) fitted to its last sound."""
    if kind not in _PAIRS:
        return word + kind  # 의, 에서, 도: the same after any sound
    with_consonant, without = _PAIRS[kind]
    last = final_consonant(word)
    if kind in ("으로", "로"):
        return word + ("로" if last in (None, "ㄹ") else "으로")
    return word + (with_consonant if last else without)


def normalise(text: str) -> str:
    """NFC, lower case, single spaces; full-width forms folded."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\s+", " ", text).strip()


def compact(text: str) -> str:
    """Text without spaces, for matching names people type with or without spacing."""
    return re.sub(r"\s+", "", normalise(text))
