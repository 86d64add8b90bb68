"""Particles are chosen by the last sound of the word, including Latin names and digits."""

import pytest

from services.seq2sql.korean import compact, final_consonant, particle


@pytest.mark.parametrize(
    ("word", "kind", "expected"),
    [
        ("청룡 게이밍", "이", "청룡 게이밍이"),
        ("붉은여우", "이", "붉은여우가"),
        ("젠지", "을", "젠지를"),
        ("팀", "를", "팀을"),
        ("T1", "은", "T1은"),  # 일 ends in a consonant
        ("Faker", "가", "Faker가"),  # 페이커
        ("Rook", "이", "Rook이"),  # 룩
        ("선수", "와", "선수와"),
        ("경기", "과", "경기와"),
        ("킬", "과", "킬과"),
        ("서울", "으로", "서울로"),  # ㄹ takes 로
        ("부산", "로", "부산으로"),
        ("붉은여우", "의", "붉은여우의"),
    ],
)
def test_particle_follows_final_consonant(word: str, kind: str, expected: str) -> None:
    assert particle(word, kind) == expected


def test_final_consonant_of_digits_and_hangul() -> None:
    assert final_consonant("2") is None  # 이
    assert final_consonant("3") == "c"  # 삼
    assert final_consonant("물") == "ㄹ"


def test_compact_ignores_spacing_and_case() -> None:
    assert compact("청룡  게이밍") == compact("청룡게이밍")
    assert compact("Night Owls") == "nightowls"
