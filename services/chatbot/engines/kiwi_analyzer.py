"""Korean morphemes with kiwipiepy (English words pass through lower-cased): the terms of BM25 and StarSpace."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

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
_NOUN_TAGS = {"NNG", "NNP"}
_HANGUL_WORD = re.compile(r"[가-힣]+")


@dataclass(frozen=True)
class Noun:
    """A Korean noun of a text, where it stands in it."""

    form: str
    start: int
    end: int


@dataclass
class Lexicon:
    """What a collection's texts say, for recognising a clipped word: every morpheme, and every Korean noun
    with the compounds adjacent nouns make (비밀 + 번호: 비밀번호), each as its parts."""

    forms: set[str] = field(default_factory=set)
    nouns: set[tuple[str, ...]] = field(default_factory=set)

    def add(self, tokens: list) -> None:
        self.forms.update(t.form for t in tokens)
        run: list = []
        for token in [*tokens, None]:
            noun = token is not None and _is_hangul_noun(token)
            if noun and (not run or run[-1].start + run[-1].len == token.start):
                run.append(token)
                continue
            for i in range(len(run)):
                for j in range(i + 1, len(run) + 1):
                    self.nouns.add(tuple(t.form for t in run[i:j]))
            run = [token] if noun else []


def _is_hangul_noun(token) -> bool:
    return token.tag.split("-", 1)[0] in _NOUN_TAGS and _HANGUL_WORD.fullmatch(token.form) is not None


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

    def terms_many(self, texts: list[str], lexicon: Lexicon | None = None) -> list[list[str]]:
        """The terms of each text; with ``lexicon``, its words are added to it on the way (one analysis)."""
        out: list[list[str]] = []
        for start in range(0, len(texts), 64):  # small batches so queries get the lock in between
            with self._lock:
                batch = [self._kiwi.tokenize(t) for t in texts[start : start + 64]]
            for tokens in batch:
                out.append(self._convert(tokens))
                if lexicon is not None:
                    lexicon.add(tokens)
        return out

    def query(self, text: str) -> tuple[list[str], list[Noun]]:
        """A question's terms, and its Korean nouns (to spell out the clipped ones)."""
        with self._lock:
            tokens = self._kiwi.tokenize(text)
        nouns = [Noun(t.form, t.start, t.start + t.len) for t in tokens if _is_hangul_noun(t)]
        return self._convert(tokens), nouns

    def noun_score(self, word: str) -> float | None:
        """Kiwi's language-model score of ``word`` read alone as one noun (higher: commoner), or None when
        Kiwi does not read it as one noun."""
        with self._lock:
            tokens = self._kiwi.tokenize(word)
        if len(tokens) != 1 or not _is_hangul_noun(tokens[0]) or tokens[0].form != word:
            return None
        return float(tokens[0].score)
