"""Text normalisation shared by understanding and feedback: what a learner typed or a recogniser heard.

Speech recognisers drop punctuation and capitals, confuse homophones ("this"/"his", "two"/"to") and
swallow short words (articles); typed learner English misses contractions and articles. The helpers
here make phrasings and utterances comparable despite that.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_CONTRACTIONS = {
    "n't": " not",
    "'m": " am",
    "'re": " are",
    "'ll": " will",
    "'d": " would",
    "'ve": " have",
}
_SPECIAL = {"can't": "can not", "won't": "will not", "cannot": "can not", "it's": "it is", "that's": "that is",
            "there's": "there is", "here's": "here is", "what's": "what is", "where's": "where is",
            "let's": "let us", "how's": "how is", "he's": "he is", "she's": "she is"}
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
ARTICLES = {"a", "an", "the"}
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12,
}


def words(text: str) -> list[str]:
    """Lower-case word tokens with apostrophes kept ("i'm", "don't")."""
    return _WORD.findall(text.lower().replace("’", "'"))


def expand(text: str) -> str:
    """Lower-case, punctuation-free text with contractions spelled out."""
    out: list[str] = []
    for word in words(text):
        if word in _SPECIAL:
            out.append(_SPECIAL[word])
            continue
        for short, long in _CONTRACTIONS.items():
            if word.endswith(short):
                word = word[: -len(short)] + long
                break
        out.append(word.replace("'", ""))
    return " ".join(out)


def spoken_variants(phrasing: str) -> list[str]:
    """How a phrasing may reach us from a recogniser or a hurried typist (no punctuation, no articles)."""
    plain = expand(phrasing)
    variants = {plain, " ".join(w for w in plain.split() if w not in ARTICLES)}
    variants.discard(phrasing.lower())
    return sorted(v for v in variants if v)


def char_ngrams(text: str, n: int = 3) -> Counter[str]:
    """Character n-grams of each word with boundary marks, so misspellings still share most n-grams."""
    grams: Counter[str] = Counter()
    for word in expand(text).split():
        padded = f"<{word}>"
        if len(padded) <= n:
            grams[padded] += 1
            continue
        for i in range(len(padded) - n + 1):
            grams[padded[i : i + n]] += 1
    return grams


def ngram_cosine(a: Counter[str], b: Counter[str]) -> float:
    """Cosine similarity of two n-gram count vectors (0 when either is empty)."""
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) < len(b) else (b, a)
    dot = sum(count * large.get(gram, 0) for gram, count in small.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm


def similarity(a: str, b: str) -> float:
    """Surface similarity of two sentences in [0, 1] (character trigrams, contractions expanded)."""
    return ngram_cosine(char_ngrams(a), char_ngrams(b))
