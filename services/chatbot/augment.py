"""Paraphrases made by rule, to teach each collection's StarSpace model how people really type.

Four kinds of noise people add to a FAQ question: spacing (Korean is often typed without spaces),
particles and sentence endings (the same question in another register), typos, and synonyms.
"""

from __future__ import annotations

import random
import re

# Groups of interchangeable words; a question containing one may be asked with another.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("신청", "등록", "접수"),
    ("참가", "참여", "출전"),
    ("대회", "토너먼트", "리그"),
    ("경기", "매치", "게임"),
    ("팀원", "멤버", "선수"),
    ("변경", "수정", "바꾸"),
    ("취소", "철회"),
    ("환불", "반환"),
    ("상금", "상품", "보상"),
    ("일정", "스케줄", "시간표"),
    ("문의", "질문"),
    ("규칙", "룰", "규정"),
    ("계정", "아이디"),
    ("앱", "어플", "애플리케이션"),
    ("늦", "지각"),
    ("register", "sign up", "enroll"),
    ("match", "game"),
    ("tournament", "competition", "event"),
    ("prize", "reward", "winnings"),
    ("schedule", "timetable"),
    ("change", "modify", "update"),
    ("cancel", "withdraw"),
    ("rules", "regulations"),
    ("account", "profile"),
    ("app", "application"),
    ("player", "member"),
    ("refund", "money back"),
    ("late", "delayed"),
)

# Korean sentence endings of the same question in other registers (polite, plain, formal, chat).
ENDINGS: tuple[str, ...] = ("나요", "어요", "까요", "습니까", "니", "냐", "음", "요", "")
_ENDING_RE = re.compile(r"(나요|어요|아요|해요|까요|습니까|ㅂ니까|니|냐|죠|요)\??$")
_PARTICLE_RE = re.compile(r"(?<=[가-힣])(은|는|이|가|을|를|에서|에|의|으로|로|도)(?=\s)")
_HANGUL = re.compile(r"[가-힣]")


def _drop_spaces(text: str, rng: random.Random) -> str:
    if not _HANGUL.search(text):
        return text.replace(" ", "", 1) if " " in text else text
    return "".join(ch for ch in text if ch != " " or rng.random() < 0.3)


def _change_ending(text: str, rng: random.Random) -> str:
    stripped = text.rstrip("?.! ")
    if not _HANGUL.search(stripped):
        return stripped.lower() if rng.random() < 0.5 else stripped + "??"
    if _ENDING_RE.search(stripped):
        return _ENDING_RE.sub(rng.choice(ENDINGS), stripped)
    return stripped + rng.choice(("요", "?", " 알려주세요", " 궁금해요"))


def _drop_particles(text: str, rng: random.Random) -> str:
    return _PARTICLE_RE.sub(lambda m: "" if rng.random() < 0.7 else m.group(0), text)


def _typo(text: str, rng: random.Random) -> str:
    chars = list(text)
    positions = [i for i, ch in enumerate(chars) if not ch.isspace()]
    if len(positions) < 4:
        return text
    i = rng.choice(positions[1:-1])
    op = rng.randrange(4)
    if op == 0:
        del chars[i]
    elif op == 1:
        chars.insert(i, chars[i])
    elif op == 2 and i + 1 < len(chars):
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    else:
        code = ord(chars[i]) - 0xAC00
        if 0 <= code < 11172 and code % 28:  # a Hangul syllable with a final consonant: drop it
            chars[i] = chr(0xAC00 + code - code % 28)
        else:
            del chars[i]
    return "".join(chars)


def _synonym(text: str, rng: random.Random) -> str:
    lowered = text.lower()
    groups = [g for g in SYNONYMS if any(w in lowered for w in g)]
    if not groups:
        return text
    group = rng.choice(groups)
    present = [w for w in group if w in lowered]
    word = rng.choice(present)
    other = rng.choice([w for w in group if w != word] or [word])
    start = lowered.index(word)
    return text[:start] + other + text[start + len(word) :]


_KINDS = (_drop_spaces, _change_ending, _drop_particles, _typo, _synonym)


def paraphrases(text: str, count: int, seed: int) -> list[str]:
    """Up to ``count`` distinct noisy variants of ``text`` (one or two kinds of noise each), never ``text`` itself."""
    rng = random.Random(seed)
    seen = {text}
    out: list[str] = []
    for attempt in range(count * 4):
        variant = text
        kinds = rng.sample(_KINDS, k=1 if attempt % 2 == 0 else 2)
        for kind in kinds:
            variant = kind(variant, rng)
        variant = re.sub(r"\s+", " ", variant).strip()
        if variant and variant not in seen:
            seen.add(variant)
            out.append(variant)
            if len(out) == count:
                break
    return out
