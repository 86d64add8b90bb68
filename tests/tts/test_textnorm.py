"""Korean text is read the way a Korean speaker would say it: numbers, dates, times, scores, acronyms."""

from __future__ import annotations

import pytest

from services.tts.textnorm import (
    native_korean,
    normalize_english,
    normalize_korean,
    sino_korean,
    split_sentences,
)


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        (0, "영"),
        (1, "일"),
        (10, "십"),
        (11, "십일"),
        (105, "백오"),
        (2026, "이천이십육"),
        (10000, "만"),
        (15000, "만오천"),
        (1250000, "백이십오만"),
        (100000000, "일억"),
        (30010, "삼만십"),
    ],
)
def test_sino_korean_numbers(number: int, spoken: str) -> None:
    assert sino_korean(number) == spoken


@pytest.mark.parametrize(
    ("number", "spoken"), [(1, "한"), (2, "두"), (3, "세"), (13, "열세"), (20, "스무"), (24, "스물네")]
)
def test_native_korean_before_counters(number: int, spoken: str) -> None:
    assert native_korean(number) == spoken


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026년 3월 5일", "이천이십육 년 삼 월 오일"),
        ("2026-03-05 기준", "이천이십육 년 삼 월 오 일 기준"),
        ("6월 10일", "유 월 십일"),
        ("경기는 13:11로 이겼다.", "경기는 십삼 대 십일로 이겼다."),
        ("오후 3:30에 시작", "오후 세 시 삼십 분에 시작"),
        ("13:05 출발", "열세 시 오 분 출발"),
        ("KDA 3.5", "케이디에이 삼 점 오"),
        ("3-2로 승리", "삼 대 이로 승리"),
        ("T1 vs GEN 2:1", "티원 대 지이엔 이 대 일"),
        ("승률 62%", "승률 육십이 퍼센트"),
        ("사과 2개와 20명", "사과 두 개와 스무 명"),
        ("3시 반", "세 시 반"),
        ("1,250,000원", "백이십오만원"),
        ("010-1234-5678", "공 일 공 일 이 삼 사 오 육 칠 팔"),
        ("MVP를 받았다!", "엠브이피를 받았다!"),
        ("오늘 game에서", "오늘 game에서"),
        ("(괄호) “따옴표” ~ 물결…", "괄호 따옴표 물결,"),
    ],
)
def test_normalize_korean(text: str, expected: str) -> None:
    assert normalize_korean(text) == expected


def test_normalized_korean_has_no_digits_or_odd_symbols() -> None:
    out = normalize_korean("2026년 3월 5일 13:11, KDA 3.5 (승률 62%) 🎉 #1 & 2:0")
    assert not any(ch.isdigit() for ch in out)
    assert set(out) - set(".,?!'- ") <= {ch for ch in out if ch.isalpha()}


def test_english_keeps_numbers_for_the_voice() -> None:
    assert normalize_english("Tom & Jerry scored 50% @ home") == "Tom and Jerry scored 50 percent at home"


def test_long_text_is_split_into_short_sentences() -> None:
    text = "첫 문장입니다. 두 번째 문장이에요! 세 번째? " + "아주 긴 문장이 계속됩니다, " * 20
    pieces = split_sentences(text)
    assert pieces[:3] == ["첫 문장입니다.", "두 번째 문장이에요!", "세 번째?"]
    assert all(len(p) <= 180 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_first_piece_is_short_so_audio_starts_quickly() -> None:
    pieces = split_sentences("가나다라 " * 60)
    assert len(pieces[0]) <= 80
