"""Schema and value linking: which tables, columns and stored values a Korean question mentions.

Values are read from the LIVE database for every question (a team saved a minute ago is found at once),
and matched without spaces so "청룡게이밍이" finds '청룡 게이밍'; particles after a name need no rules
because a name is matched as a substring and Latin names must not continue into other Latin letters.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from services.seq2sql.korean import NUMBER_WORDS, compact, normalise
from services.seq2sql.readonly import Session
from services.seq2sql.schema import Column, Schema

MAX_VALUES_PER_COLUMN = 5000
OPS = [
    (re.compile(r"^\s*(이상|넘거나|부터|or more|\+)"), ">="),
    (re.compile(r"^\s*(이하|까지|안 넘는|안넘는|넘지)"), "<="),
    (re.compile(r"^\s*(초과|넘는|넘은|넘게|넘어|넘었|보다 ?많|보다 ?높|보다 ?크|보다 ?큰|보다 ?비싼|더 많)"), ">"),
    (re.compile(r"^\s*(미만|안 되는|안되는|안 된|못 미치|보다 ?적|보다 ?낮|보다 ?작|보다 ?싼|덜)"), "<"),
]
PRE_OPS = [(re.compile(r"(최소|적어도)\s*$"), ">="), (re.compile(r"(최대|많아야)\s*$"), "<=")]
COUNTERS = r"(명|개|팀|곳|건|위|경기|게임|번|판|가지|등)"
SUPERLATIVE = re.compile(r"(가장|제일|젤|최고|최다|최대|최저|최소|최하|1등|1위|탑|top|베스트|상위|하위|순위|랭킹|많은 순|높은 순|순으로)")
# Verbs of a contest table (annotated with "contest"): what winning, losing and meeting are called.
CONTEST_WORDS = {
    "contest:win": re.compile(r"(이긴|이겼|이기|이김|승리|\d*\s*승(?!률)|다승|최다승|무승)"),
    "contest:loss": re.compile(r"(진 |진경기|졌|패배|패(?!스))"),
    "contest:rate": re.compile(r"(승률|확률|퍼센트|%)"),
    "contest:versus": re.compile(r"(상대|전적|맞대결|vs|대 |붙)"),
}
# What kind of answer the question asks for: a number of rows, names, or a ranking.
ASK_WORDS = {
    "ask:count": re.compile(r"(몇|개수|건수|숫자|수는|수$|수\?|수 알려|얼마나 (있|돼|되))"),
    "ask:names": re.compile(r"(누구|목록|리스트|명단|어디|뭐 ?있|뭐뭐|보여|알려|전부|모든)"),
    "ask:average": re.compile(r"평균"),
    "ask:never": re.compile(r"(한 ?번도|하나도|전혀|없는|안 한|않은|못한|못 한)"),
}
RANKING_WORD = re.compile(r"(top|best|베스트)", re.IGNORECASE)
_NUM = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(만|천)?")
_WORD_NUM = re.compile(r"(" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\s*" + COUNTERS)


# Nouns any question may use without naming data; other nouns that link to nothing suggest data the schema lacks.
QUESTION_NOUNS = set("""얼마 몇 개 수 번 명 평균 합계 합 총 총합 이상 이하 초과 미만 제일 가장 전체 모두 순위 랭킹 목록 리스트 상위 하위
최대 최소 최고 최저 최다 결과 기록 전적 상대 상대전적 승률 승 패 승리 패배 맞대결 중 별 개수 횟수 이번 시즌 요즘 최근 지금 사람 누구 뭐
정보 거 것 곳 확률 퍼센트 번호 이름 등록 값 숫자 건수 명단 날 월 년 일 상반기 하반기 이후 이전 처음 마지막 혹시 전부 다 건 판 등 위
단일 한 경기 게임 기준 현재 지금까지 누적 합산 비교 차이 가지 종류 순 순서 차례 조회 확인 데이터 질문 팀 선수 때 동안 사이 정도 시작
끝 뭐뭐 어디 어디어디 누구누구 대 vs 탑 1위 꼴찌 다승 최다승 무승 1승 경우 혼자 모든 각 각각 마다 따로 총계 평균값 최댓값 최솟값
출전 승수 포함 총량 보여 리스 상대로 진 소속 참가 참여 출장 활약 성적 통산 역대 올해 작년 이번달""".split())
_KIWI: list = []
_KIWI_LOCK = threading.Lock()


def unknown_nouns(text: str, covered: list[tuple[int, int]]) -> list[str]:
    """Nouns of ``text`` (Kiwi morphemes) outside every linked span and not plain question vocabulary."""
    with _KIWI_LOCK:
        if not _KIWI:
            from kiwipiepy import Kiwi

            _KIWI.append(Kiwi())
        tokens = _KIWI[0].tokenize(text)
    out = []
    for token in tokens:
        if token.tag not in ("NNG", "NNP") or token.form in QUESTION_NOUNS:
            continue
        if not re.search(r"[가-힣A-Za-z]", token.form):
            continue  # ㅋㅋ, ㄱㄱ: laughter and 'go go', not nouns
        if any(start <= token.start < end for start, end in covered):
            continue
        out.append(token.form)
    return out


@dataclass
class ValueMention:
    column: str  # "table.column"
    value: Any
    start: int
    end: int


@dataclass
class NumberMention:
    value: float
    start: int
    end: int
    op: str | None = None
    counter: bool = False
    unit: str = ""


@dataclass
class Linked:
    """Everything found in one question."""

    text: str
    values: list[ValueMention] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # table -> last position
    columns: dict[str, int] = field(default_factory=dict)  # column ref -> first position
    directions: dict[str, str] = field(default_factory=dict)  # column ref -> 'desc'/'asc' (비싼/싼)
    numbers: list[NumberMention] = field(default_factory=list)
    date_range: tuple[str | None, str | None] | None = None
    superlative: bool = False
    delexicalized: str = ""
    unknown: list[str] = field(default_factory=list)


class ValueIndex:
    """Stored values of the linkable columns, as (compact alias, value, column) sorted longest first."""

    def __init__(self, entries: list[tuple[str, Any, str]]) -> None:
        self.entries = sorted(entries, key=lambda e: -len(e[0]))

    @classmethod
    def read(cls, session: Session, schema: Schema) -> ValueIndex:
        entries: list[tuple[str, Any, str]] = []
        for column in schema.all_columns():
            if not column.link_values:
                continue
            table = schema.tables[column.table]
            sql = (f"SELECT DISTINCT {column.name} FROM {table.name} WHERE {column.name} IS NOT NULL "
                   f"LIMIT {MAX_VALUES_PER_COLUMN}")
            _, rows = session.fetch(sql, MAX_VALUES_PER_COLUMN)
            entries.extend(_aliases(column, [r[0] for r in rows]))
        return cls(entries)

    def values_of(self, column: str) -> list[Any]:
        seen: dict[Any, None] = {}
        for _, value, ref in self.entries:
            if ref == column:
                seen.setdefault(value, None)
        return list(seen)


def _aliases(column: Column, values: list[Any]) -> list[tuple[str, Any, str]]:
    out: list[tuple[str, Any, str]] = []
    shortened: dict[str, list[Any]] = {}
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        out.append((compact(value), value, column.ref))
        for word in column.values.get(value, []):
            out.append((compact(word), value, column.ref))
        # '2026 여름 리그' is usually said as '여름 리그': drop a leading year/number token
        parts = normalise(value).split(" ")
        if len(parts) >= 2 and re.fullmatch(r"\d{2,4}", parts[0]) and not parts[1].isdigit():
            shortened.setdefault("".join(parts[1:]), []).append(value)
    for alias, owners in shortened.items():
        if len(owners) == 1:
            out.append((alias, owners[0], column.ref))
    return [e for e in out if len(e[0]) >= 2 or not re.fullmatch(r"[가-힣]", e[0])]


def _compact_map(text: str) -> tuple[str, list[int]]:
    chars, index = [], []
    for i, ch in enumerate(text):
        if not ch.isspace():
            chars.append(ch)
            index.append(i)
    return "".join(chars), index


def _free(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e in taken)


def _boundary_ok(text: str, start: int, end: int) -> bool:
    # a Latin name must not be a piece of a longer Latin word ("T1" inside "T10", "Rook" in "Rookie")
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    first, last = text[start], text[end - 1]
    if first.isascii() and first.isalnum() and before.isascii() and before.isalnum():
        return False
    return not (last.isascii() and last.isalnum() and after.isascii() and after.isalnum())


def _find_all(hay: str, needle: str) -> list[int]:
    out, pos = [], hay.find(needle)
    while pos >= 0:
        out.append(pos)
        pos = hay.find(needle, pos + 1)
    return out


def _month_range(year: int, month: int) -> tuple[str, str]:
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start.isoformat(), end.isoformat()


def find_dates(text: str, taken: list[tuple[int, int]], default_year: int) -> tuple[tuple[str | None, str | None] | None, list[tuple[int, int]]]:
    """A date range from '7월', '2026년 3월 이후', '1월부터 3월까지', '2026년', '5월 3일'."""
    spans: list[tuple[int, int]] = []
    year_m = re.search(r"(20\d\d)\s*년", text)
    year = int(year_m.group(1)) if year_m and _free(taken, year_m.start(), year_m.end()) else default_year
    if year_m and _free(taken, year_m.start(), year_m.end()):
        spans.append((year_m.start(), year_m.end()))
    between = re.search(r"(\d{1,2})\s*월\s*(?:부터|에서|~|-)\s*(\d{1,2})\s*월\s*(까지|사이)?", text)
    if between and 1 <= int(between.group(1)) <= 12 and 1 <= int(between.group(2)) <= 12:
        spans.append((between.start(), between.end()))
        return (_month_range(year, int(between.group(1)))[0], _month_range(year, int(between.group(2)))[1]), spans
    day = re.search(r"(\d{1,2})\s*월\s*(\d{1,2})\s*일", text)
    if day and 1 <= int(day.group(1)) <= 12 and 1 <= int(day.group(2)) <= 31:
        spans.append((day.start(), day.end()))
        start = dt.date(year, int(day.group(1)), int(day.group(2)))
        return (start.isoformat(), (start + dt.timedelta(days=1)).isoformat()), spans
    month = re.search(r"(\d{1,2})\s*월\s*(이후|부터|이전|전|까지)?", text)
    if month and 1 <= int(month.group(1)) <= 12 and _free(taken, month.start(), month.end()):
        spans.append((month.start(), month.end()))
        first, after = _month_range(year, int(month.group(1)))
        word = month.group(2)
        if word in ("이후", "부터"):
            return (first, None), spans
        if word in ("이전", "전"):
            return (None, first), spans
        if word == "까지":
            return (None, after), spans
        return (first, after), spans
    for word, months in (("상반기", (1, 6)), ("하반기", (7, 12))):
        pos = text.find(word)
        if pos >= 0:
            spans.append((pos, pos + len(word)))
            return (_month_range(year, months[0])[0], _month_range(year, months[1])[1]), spans
    if spans:
        return (f"{year}-01-01", f"{year + 1}-01-01"), spans
    return None, spans


def link(question: str, schema: Schema, index: ValueIndex, default_year: int | None = None) -> Linked:
    """Find values, columns, tables, numbers and dates in ``question``."""
    text = normalise(question)
    found = Linked(text=text)
    hay, where = _compact_map(text)
    taken: list[tuple[int, int]] = []

    value_hits = sorted(((-len(alias), pos, alias, value, ref) for alias, value, ref in index.entries if alias
                         for pos in _find_all(hay, alias)), key=lambda h: (h[0], h[1]))
    for _, pos, alias, value, ref in value_hits:
        start, end = where[pos], where[pos + len(alias) - 1] + 1
        if RANKING_WORD.match(text[start:]) and re.match(r"\s*\d", text[end:]):
            continue  # 'top 3' asks for three rows; it is not the role 'top'
        if _free(taken, start, end) and _boundary_ok(text, start, end):
            taken.append((start, end))
            found.values.append(ValueMention(ref, value, start, end))
    found.values.sort(key=lambda v: v.start)

    date_range, date_spans = find_dates(text, taken, default_year or dt.date.today().year)
    found.date_range = date_range
    taken.extend(date_spans)

    words: list[tuple[str, str, str, str | None]] = []  # (compact word, kind, ref, direction)
    for table in schema.tables.values():
        for name in table.names:
            words.append((compact(name), "table", table.name, None))
        for column in table.columns.values():
            for name in column.names:
                words.append((compact(name), "column", column.ref, None))
            for name in column.high:
                words.append((compact(name), "column", column.ref, "desc"))
            for name in column.low:
                words.append((compact(name), "column", column.ref, "asc"))
    hits = []
    for word, kind, ref, direction in words:
        if word:
            for pos in _find_all(hay, word):
                hits.append((-len(word), pos, word, kind, ref, direction))
    hits.sort(key=lambda h: (h[0], h[1]))
    for _, pos, word, kind, ref, direction in hits:
        start, end = where[pos], where[pos + len(word) - 1] + 1
        if not (_free(taken, start, end) and _boundary_ok(text, start, end)):
            continue
        taken.append((start, end))
        if kind == "table":
            found.tables[ref] = max(found.tables.get(ref, -1), start)
        else:
            found.columns.setdefault(ref, start)
            if direction:
                found.directions.setdefault(ref, direction)

    for match in _NUM.finditer(text):
        start, end = match.span()
        if not _free(taken, start, end):
            continue
        value = float(match.group(1).replace(",", ""))
        value *= {"만": 10_000, "천": 1_000}.get(match.group(2) or "", 1)
        found.numbers.append(NumberMention(value, start, end))
    for match in _WORD_NUM.finditer(text):
        if _free(taken, match.start(), match.end()) and (match.start() == 0 or not text[match.start() - 1].isalnum()):
            found.numbers.append(NumberMention(float(NUMBER_WORDS[match.group(1)]), match.start(), match.start() + len(match.group(1))))
    for number in found.numbers:
        tail, head = text[number.end:number.end + 12], text[max(0, number.start - 6):number.start]
        counter = re.match(r"^\s*" + COUNTERS, tail)
        number.counter = bool(counter)
        unit = re.match(r"^\s*(원|%|퍼센트|점|킬|골)", tail)
        number.unit = unit.group(1) if unit else ""
        rest = tail[counter.end():] if counter else tail
        stripped = re.sub(r"^\s*(원|점|회|킬|골|%|퍼센트|이|가|을|를|은|는|의|로|으로)\s*", "", rest, count=1)
        for pattern, op in OPS:
            if counter and counter.group(1) in ("위", "등"):
                break  # '5위까지' is a rank limit
            if pattern.match(rest) or pattern.match(stripped):
                number.op = op
                break
        if number.op is None:
            for pattern, op in PRE_OPS:
                if pattern.search(head):
                    number.op = op
    found.numbers.sort(key=lambda n: n.start)
    found.unknown = unknown_nouns(text, taken + [(n.start, n.end) for n in found.numbers])
    found.superlative = bool(SUPERLATIVE.search(text))
    found.delexicalized = _delexicalize(text, found, schema)
    return found


def _delexicalize(text: str, found: Linked, schema: Schema) -> str:
    # the model should learn the question's shape, not the names in it
    pieces, last = [], 0
    for value in found.values:
        column = schema.column(value.column)
        table = schema.tables[column.table]
        word = table.ko if column.name == table.display else column.ko
        pieces.append(text[last:value.start])
        pieces.append(word)
        last = value.end
    pieces.append(text[last:])
    return "".join(pieces)


def feature_names(schema: Schema) -> list[str]:
    """Names of the linking features fed to the model next to the sentence embedding."""
    names = [f"table:{t}" for t in schema.tables]
    names += [f"column:{c.ref}" for c in schema.all_columns()]
    names += [f"value:{c.ref}" for c in schema.all_columns() if c.link_values]
    names += [f"last:{t}" for t in schema.tables]
    names += ["contest:win", "contest:loss", "contest:rate", "contest:versus", *ASK_WORDS]
    names += ["unknown_noun"]
    names += ["dir:desc", "dir:asc", "num:op", "num:counter", "num:plain", "date", "superlative",
              "entity:1", "entity:2", "value:2+"]
    return names


def features(found: Linked, schema: Schema) -> np.ndarray:
    """Binary linking features of one question (the same order as :func:`feature_names`)."""
    names = feature_names(schema)
    position = {n: i for i, n in enumerate(names)}
    vec = np.zeros(len(names), dtype=np.float32)
    for table in found.tables:
        vec[position[f"table:{table}"]] = 1
    for ref in found.columns:
        vec[position[f"column:{ref}"]] = 1
    if found.tables:
        vec[position[f"last:{max(found.tables.items(), key=lambda kv: kv[1])[0]}"]] = 1
    for value in found.values:
        key = f"value:{value.column}"
        if key in position:
            vec[position[key]] = 1
    for direction in found.directions.values():
        vec[position[f"dir:{direction}"]] = 1
    if any(n.op for n in found.numbers):
        vec[position["num:op"]] = 1
    if any(n.counter and not n.op for n in found.numbers):
        vec[position["num:counter"]] = 1
    if any(not n.counter and not n.op for n in found.numbers):
        vec[position["num:plain"]] = 1
    if found.date_range:
        vec[position["date"]] = 1
    if found.unknown:
        vec[position["unknown_noun"]] = 1
    for key, pattern in ASK_WORDS.items():
        if pattern.search(found.text):
            vec[position[key]] = 1
    if schema.contest:
        for key, pattern in CONTEST_WORDS.items():
            if pattern.search(found.text):
                vec[position[key]] = 1
    if found.superlative:
        vec[position["superlative"]] = 1
    entity = schema.contest_entity
    if entity:
        display = f"{entity}.{schema.tables[entity].display}"
        count = len({v.value for v in found.values if v.column == display})
        if count == 1:
            vec[position["entity:1"]] = 1
        if count >= 2:
            vec[position["entity:2"]] = 1
    if len(found.values) >= 2:
        vec[position["value:2+"]] = 1
    return vec
