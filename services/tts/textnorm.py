"""Text normalisation before synthesis: Korean numbers, dates, times, scores, decimals, acronyms, symbols.

Korean reads numbers two ways: Sino-Korean (일, 이, 삼 ...) for dates, minutes, scores, money, and native
Korean (한, 두, 세 ...) before counters such as 시 (o'clock), 개, 명, 살. eSpeak NG reads digit strings
badly ("13:11" becomes two numbers, "3.5" loses its 점), so numbers are spelled out in Hangul first.
Latin words stay Latin (eSpeak switches to English phonemes for them); all-capital acronyms are
spelled with Korean letter names (KDA -> 케이디에이), which is how Korean speakers say them.
"""

from __future__ import annotations

import re
import unicodedata

_SINO_DIGITS = "영일이삼사오육칠팔구"
_SMALL_UNITS = ("", "십", "백", "천")
_BIG_UNITS = ("", "만", "억", "조", "경")
_NATIVE_ONES = ("", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉")
_NATIVE_TENS = ("", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔")
_LETTER_NAMES = {
    "A": "에이",
    "B": "비",
    "C": "씨",
    "D": "디",
    "E": "이",
    "F": "에프",
    "G": "지",
    "H": "에이치",
    "I": "아이",
    "J": "제이",
    "K": "케이",
    "L": "엘",
    "M": "엠",
    "N": "엔",
    "O": "오",
    "P": "피",
    "Q": "큐",
    "R": "알",
    "S": "에스",
    "T": "티",
    "U": "유",
    "V": "브이",
    "W": "더블유",
    "X": "엑스",
    "Y": "와이",
    "Z": "제트",
}
_ENGLISH_DIGITS = ("제로", "원", "투", "쓰리", "포", "파이브", "식스", "세븐", "에이트", "나인")
# Counters read with native Korean numbers (1-99); larger numbers fall back to Sino-Korean.
_NATIVE_COUNTERS = "시간|시|개|명|살|마리|번째|잔|권|곳|가지|사람|달|판|그릇|병|송이|켤레"
_SCORE_CONTEXT = re.compile(r"스코어|점수|세트|경기|라운드|승|패|이겼|졌|대\s*\d|킬|score", re.IGNORECASE)
_TIME_CONTEXT = re.compile(r"오전|오후|새벽|아침|저녁|밤|시각|시간|시작|부터|까지|출발|도착|마감")
_SYMBOLS = {
    "%": " 퍼센트",
    "&": " 앤드 ",
    "+": " 플러스 ",
    "=": " 는 ",
    "@": " 골뱅이 ",
    "#": " 샵 ",
    "°C": " 도",
    "℃": " 도",
    "°": " 도",
    "×": " 곱하기 ",
    "÷": " 나누기 ",
}


def sino_korean(number: int) -> str:
    """2026 -> 이천이십육; 10000 -> 만; 0 -> 영."""
    if number == 0:
        return "영"
    if number < 0:
        return "마이너스 " + sino_korean(-number)
    groups: list[str] = []
    index = 0
    while number > 0:
        number, group = divmod(number, 10000)
        if group:
            words = ""
            for position in range(3, -1, -1):
                digit = (group // 10**position) % 10
                if digit == 0:
                    continue
                # 일 is dropped before 십/백/천 (십, not 일십).
                words += ("" if digit == 1 and position > 0 else _SINO_DIGITS[digit]) + _SMALL_UNITS[position]
            # 만 alone, not 일만, when it leads.
            if words == "일" and index == 1 and number == 0:
                words = ""
            groups.append(words + _BIG_UNITS[index])
        index += 1
    return "".join(reversed(groups))


def native_korean(number: int, before_counter: bool = True) -> str:
    """3 -> 세 (before a counter), 20 -> 스무, 13 -> 열세; outside 1..99 Sino-Korean is used."""
    if not 1 <= number <= 99:
        return sino_korean(number)
    tens, ones = divmod(number, 10)
    if before_counter and number == 20:
        return "스무"
    word = _NATIVE_TENS[tens] + _NATIVE_ONES[ones]
    if not before_counter:
        word = word.replace("한", "하나").replace("두", "둘").replace("세", "셋").replace("네", "넷")
        word = word.replace("스물", "스물") if ones else word
    return word


def read_digits(digits: str) -> str:
    """Read a code digit by digit, 0 as 공 (phone numbers, ids)."""
    return " ".join("공" if d == "0" else _SINO_DIGITS[int(d)] for d in digits)


def _decimal(integer: str, fraction: str) -> str:
    return f"{sino_korean(int(integer))} 점 " + " ".join(_SINO_DIGITS[int(d)] for d in fraction)


def _month(number: int) -> str:
    return {6: "유", 10: "시"}.get(number, sino_korean(number))


def _time(hours: int, minutes: int, seconds: int | None = None) -> str:
    spoken = f"{native_korean(hours) if 1 <= hours <= 24 else sino_korean(hours)} 시"
    if minutes:
        spoken += f" {sino_korean(minutes)} 분"
    if seconds:
        spoken += f" {sino_korean(seconds)} 초"
    return spoken


def _colon_pair(match: re.Match[str], text: str) -> str:
    left, right = match.group(1), match.group(2)
    before = text[max(0, match.start() - 12) : match.start()]
    after = text[match.end() : match.end() + 8]
    hours, minutes = int(left), int(right)
    is_clock = hours <= 24 and minutes < 60 and len(right) == 2
    # Scores are not zero-padded ("13:05" is a time); context words decide the rest; default is a score.
    if is_clock and (
        right.startswith("0") or (_TIME_CONTEXT.search(before + after) and not _SCORE_CONTEXT.search(before))
    ):
        return _time(hours, minutes)
    return f"{sino_korean(hours)} 대 {sino_korean(minutes)}"


def normalize_korean(text: str) -> str:
    """Spell out what eSpeak would misread in Korean text; the result is plain Hangul, Latin words and . , ? !"""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # 1,000 -> 1000
    # Dates: 2026-03-05, 2026.3.5, 2026/3/5
    text = re.sub(
        r"(?<!\d)(\d{4})[-./](\d{1,2})[-./](\d{1,2})\.?(?!\d)",
        lambda m: f"{sino_korean(int(m[1]))} 년 {_month(int(m[2]))} 월 {sino_korean(int(m[3]))} 일",
        text,
    )
    text = re.sub(r"(\d+)\s*년", lambda m: f"{sino_korean(int(m[1]))} 년", text)
    text = re.sub(r"(\d{1,2})\s*월", lambda m: f"{_month(int(m[1]))} 월", text)
    # Clock time with seconds, then "13:11" (time or score by context).
    text = re.sub(
        r"(?<!\d)(\d{1,2}):(\d{2}):(\d{2})(?!\d)", lambda m: _time(int(m[1]), int(m[2]), int(m[3])), text
    )
    text = re.sub(r"(?<!\d)(\d{1,3})\s*:\s*(\d{1,3})(?!\d)", lambda m: _colon_pair(m, text), text)
    # Codes and team names like T1, G2, A380 are read the English way in Korean: 티원, 지투.
    text = re.sub(
        r"(?<![A-Za-z0-9])([A-Z]{1,4})(\d{1,4})(?![\d.])",
        lambda m: "".join(_LETTER_NAMES[c] for c in m[1]) + "".join(_ENGLISH_DIGITS[int(d)] for d in m[2]),
        text,
    )
    text = re.sub(r"(?<![A-Za-z])(?:vs|VS|Vs)\.?(?![A-Za-z])", " 대 ", text)
    # "3-2로 이겼다", "2-1 승": a hyphen between small numbers before a result word is a score.
    text = re.sub(
        r"(?<![\d-])(\d{1,3})\s*-\s*(\d{1,3})(?=\s*(?:으로|로|승|패|무|스코어|완승|역전))",
        lambda m: f"{sino_korean(int(m[1]))} 대 {sino_korean(int(m[2]))}",
        text,
    )
    text = re.sub(
        r"(\d+)\s*(?:vs\.?|VS)\s*(\d+)",
        lambda m: f"{sino_korean(int(m[1]))} 대 {sino_korean(int(m[2]))}",
        text,
    )
    # Money before the number: $5 -> 5 달러
    text = re.sub(r"\$\s*(\d+(?:\.\d+)?)", r"\1 달러", text)
    text = re.sub(r"₩\s*(\d+)", r"\1 원", text)
    # Decimals and percentages.
    text = re.sub(r"(\d+)\.(\d+)", lambda m: _decimal(m[1], m[2]), text)
    text = re.sub(r"(\d+)\s*%", lambda m: f"{sino_korean(int(m[1]))} 퍼센트", text)
    # Hours "3시" and other native counters.
    text = re.sub(
        rf"(\d+)\s*({_NATIVE_COUNTERS})(?![가-힣]*[월일])",
        lambda m: f"{native_korean(int(m[1]))} {m[2]}",
        text,
    )
    # Codes with a leading zero or hyphens (010-1234-5678) digit by digit; then every other number.
    text = re.sub(
        r"(?<![\d.])0\d+(?:-\d+)*(?!\d)|(?<!\d)\d+(?:-\d+){2,}(?!\d)",
        lambda m: read_digits(m[0].replace("-", "")),
        text,
    )
    text = re.sub(
        r"-(\d+)",
        lambda m: " 마이너스 " + m[1] if not m.string[: m.start()].rstrip()[-1:].isdigit() else m[0],
        text,
    )
    text = re.sub(r"\d+", lambda m: sino_korean(int(m[0])) if len(m[0]) <= 20 else read_digits(m[0]), text)
    # Acronyms and single capitals: KDA -> 케이디에이, A조 -> 에이조.
    text = re.sub(
        r"(?<![A-Za-z])[A-Z]{1,6}(?![A-Za-z])", lambda m: "".join(_LETTER_NAMES[c] for c in m[0]), text
    )
    return _punctuation(text)


def normalize_english(text: str) -> str:
    """English voices read numbers themselves; only odd symbols and spacing are cleaned."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("&", " and ").replace("%", " percent").replace("@", " at ")
    return _punctuation(text)


def _punctuation(text: str) -> str:
    text = re.sub(r"…|\.{2,}|·{2,}", ", ", text)
    for symbol, spoken in _SYMBOLS.items():
        text = text.replace(symbol, spoken)
    text = re.sub(r"[\"“”‘’«»「」『』<>\[\]{}()（）【】]", " ", text)
    text = re.sub(r"[~〜]", " ", text)
    text = re.sub(r"[;:]", ",", text)
    # Drop what no voice can say (emoji, box drawing), keep letters, digits, spaces and sentence marks.
    text = "".join(ch for ch in text if ch.isalnum() or ch.isspace() or ch in ".,?!'-")
    text = re.sub(r"\s+([.,?!])", r"\1", text)
    text = re.sub(r"([,.?!])\1+", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def split_sentences(text: str, max_chars: int = 180, first_max_chars: int = 80) -> list[str]:
    """Sentences for streaming; long ones are cut at commas, then spaces. The first piece is kept short
    so the first audio comes back quickly."""
    pieces: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        limit = first_max_chars if not pieces else max_chars
        while len(sentence) > limit:
            comma = sentence.rfind(", ", 0, limit)
            cut = comma if comma > limit // 2 else sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 3 else limit
            pieces.append(sentence[: cut + 1].strip())
            sentence = sentence[cut + 1 :].strip()
            limit = max_chars
        if sentence:
            pieces.append(sentence)
    return pieces
