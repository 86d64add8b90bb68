"""Korean morphemes with kiwipiepy (English words pass through lower-cased): the terms of BM25 and StarSpace."""

from __future__ import annotations

import logging
import re
import threading

logger = logging.getLogger("malgeul.chatbot.kiwi")

# Content morphemes only: particles (J*), endings (E*) and punctuation (S*) carry no topic.
_KEEP_TAGS = {"NNG", "NNP", "NR", "SL", "SN", "SH", "XR", "VV", "VA", "MAG", "NP"}
_EN_STOPWORDS = frozenset(
    "a an the is are was were be been being am do does did i you he she it we they me my your our their "
    "to of in on at for by with from as and or but if then so can could will would should may might must "
    "what how when where who whom which why this that these those there here have has had get got "
    "please any some about into than too very just also not no yes".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def english_stem(word: str) -> str:
    """A light plural/tense stem so 'teams'/'team' and 'registered'/'register' meet (no dictionary needed)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


class KiwiAnalyzer:
    """kiwipiepy's morpheme analyzer, loaded once (~2 s, ~500 MB) and shared by every collection."""

    name = "kiwi"

    def __init__(self) -> None:
        from kiwipiepy import Kiwi

        self._kiwi = Kiwi()
        self._lock = threading.Lock()  # one analysis at a time: builds and queries share one Kiwi
        self.terms("워밍업 warm up")  # the first call builds internal tables; pay it now

    def _convert(self, tokens: list) -> list[str]:
        out: list[str] = []
        for token in tokens:
            tag = token.tag.split("-", 1)[0]
            if tag not in _KEEP_TAGS:
                continue
            form = token.form.lower()
            if tag == "SL" or tag == "SN":
                for word in _WORD.findall(form):
                    if word not in _EN_STOPWORDS:
                        out.append(english_stem(word))
            else:
                out.append(form)
        return out

    def terms(self, text: str) -> list[str]:
        with self._lock:
            tokens = self._kiwi.tokenize(text)
        return self._convert(tokens)

    def terms_many(self, texts: list[str]) -> list[list[str]]:
        out: list[list[str]] = []
        for start in range(0, len(texts), 64):  # small batches so queries get the lock in between
            with self._lock:
                batch = [self._kiwi.tokenize(t) for t in texts[start : start + 64]]
            out.extend(self._convert(tokens) for tokens in batch)
        return out
