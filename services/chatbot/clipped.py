"""Korean clipped words (줄임말): 비번 for 비밀번호, 스샷 for 스크린샷, spelled out before a question is searched.

Koreans clip long nouns when they type: the first syllable of each part of a compound (비밀 + 번호: 비번),
the first and a later syllable of a loanword (스크린샷: 스샷), or the front of it (캐릭터: 캐릭). Neither BM25
nor the encoders tie a clipped word to its entry's full one, so a question with one missed its answer.

Each collection lists the clipped forms of its own nouns. A question's noun that the collection never uses is
spelled out when it is one of them, and only then. Two guards keep ordinary words as they are:
- the form must clip one noun of the collection only;
- Kiwi, reading the form alone as one noun, must score it as rare. Everyday words score higher than
  ``RARE_NOUN_SCORE`` (대표 -8.5, 고생 -10.5, 체크 -11.7, 다운 -12.0, 카톡 -12.4; Kiwi 0.24), the clipped
  words lower (토너 -13.8, 비번 -14.4, 디코 -16.9, 캐릭 -21.0, 스샷 -22.8): 대표 stays 대표 even in a FAQ
  that speaks of its 대진표.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.chatbot.engines import Analyzer
    from services.chatbot.engines.kiwi_analyzer import Noun

RARE_NOUN_SCORE = -13.0
_LONGEST = 8  # syllables: longer nouns are not clipped (and would make many forms)


def clipped_forms(parts: Sequence[str]) -> set[str]:
    """The ways a noun (its parts: 비밀, 번호) may be clipped: initials of the parts, the first syllable with one
    later syllable, and its fronts of two syllables or more."""
    word = "".join(parts)
    if not 3 <= len(word) <= _LONGEST:
        return set()
    forms = {word[0] + later for later in word[1:]} | {word[:n] for n in range(2, len(word))}
    if len(parts) > 1:
        forms.add("".join(p[0] for p in parts))
    return forms


class ClippedWords:
    """A collection's clipped forms, each with the noun it stands for."""

    def __init__(self, full: dict[str, str] | None = None) -> None:
        self.full = dict(full or {})

    @classmethod
    def of_collection(cls, forms: set[str], nouns: Iterable[tuple[str, ...]], analyzer: Analyzer) -> ClippedWords:
        """From a collection's morphemes (``forms``) and nouns: the forms it never uses, that clip one of its
        nouns only and that Kiwi finds rare."""
        clipping: dict[str, set[str]] = defaultdict(set)
        for parts in nouns:
            for form in clipped_forms(parts):
                clipping[form].add("".join(parts))
        full = {}
        for form, words in clipping.items():
            if len(words) != 1 or form in forms:
                continue
            score = analyzer.noun_score(form)
            if score is not None and score < RARE_NOUN_SCORE:
                full[form] = next(iter(words))
        return cls(full)

    def spell_out(self, text: str, nouns: Sequence[Noun]) -> str:
        """``text`` with each of its ``nouns`` that is a clipped form replaced by its full noun."""
        for noun in sorted(nouns, key=lambda n: n.start, reverse=True):
            full = self.full.get(noun.form)
            if full is not None and text[noun.start : noun.end] == noun.form:
                text = text[: noun.start] + full + text[noun.end :]
        return text

    def __len__(self) -> int:
        return len(self.full)
