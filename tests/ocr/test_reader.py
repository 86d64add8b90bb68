"""The reader on generated screens of every layout family, with the real Tesseract engine."""

from __future__ import annotations

import itertools

import pytest

from services.ocr.engines.rapid import RapidOcrEngine
from services.ocr.evaluate import decode
from services.ocr.reader import MatchReader
from services.ocr.synthetic import MatchTruth, PlayerTruth, ScreenStyle, TeamTruth, make_case
from tests.ocr.conftest import numbers

TRUTH = MatchTruth(
    title="2026 여름 리그 결승",
    map="Haven",
    teams=[
        TeamTruth("Phoenix Rising", 13, "win", [
            PlayerTruth("Faker", 12, 3, 7), PlayerTruth("철수_99", 8, 10, 15), PlayerTruth("xX_Sniper", 21, 4, 0),
            PlayerTruth("달빛Knight", 5, 9, 11)]),
        TeamTruth("서울 타이거즈", 11, "loss", [
            PlayerTruth("Nova7", 9, 12, 4), PlayerTruth("김민준", 14, 8, 6), PlayerTruth("ghost_22", 3, 11, 19),
            PlayerTruth("Blaze", 10, 13, 2)]),
    ],
)
ROSTER = [p.nickname for t in TRUTH.teams for p in t.players]
FAMILIES = list(itertools.product(["stacked", "side"], ["columns", "slash"], ["big", "team"]))


@pytest.mark.parametrize(("layout", "kda", "score"), FAMILIES, ids=["/".join(f) for f in FAMILIES])
def test_every_layout_family_reads_teams_scores_and_kda(reader: MatchReader, layout: str, kda: str, score: str) -> None:
    lang = "ko" if kda == "slash" else "en"
    style = ScreenStyle(layout=layout, kda=kda, score=score, lang=lang, banner="ko" if lang == "ko" else "win_lose",
                        theme="dark" if layout == "side" else "light")
    case = make_case(TRUTH, style, seed=3)
    outcome = reader.read(decode(case), roster=ROSTER)
    got = outcome.record.model_dump()
    assert numbers(got) == numbers(TRUTH.as_record())
    assert [p["nickname"] for t in got["teams"] for p in t["players"]] == ROSTER
    assert got["map"] == "Haven"
    assert not outcome.problems


@pytest.mark.parametrize("banner", ["win_lose", "victory_defeat", "ko"])
def test_english_and_korean_banners_give_the_result(reader: MatchReader, banner: str) -> None:
    # The team scores are hidden behind equal totals so only the banner can tell who won.
    truth = MatchTruth(title="Custom Game", map="Lotus", teams=[
        TeamTruth("Red Wolves", 2, "loss", [PlayerTruth("Faker", 1, 2, 3)]),
        TeamTruth("Blue Dragons", 3, "win", [PlayerTruth("Nova", 4, 5, 6)]),
    ])
    case = make_case(truth, ScreenStyle(banner=banner, score="team", lang="ko" if banner == "ko" else "en"), seed=5)
    record = reader.read(decode(case)).record
    assert [t.result for t in record.teams] == ["loss", "win"]


@pytest.mark.parametrize("banner", ["ko", "win_lose"])
def test_draw_banners(reader: MatchReader, banner: str) -> None:
    truth = MatchTruth(title="Ranked Match", map="Ascent", teams=[
        TeamTruth("Night Owls", 12, "draw", [PlayerTruth("Ace", 7, 7, 7), PlayerTruth("Luna", 3, 9, 12)]),
        TeamTruth("Iron Tigers", 12, "draw", [PlayerTruth("Zeus", 9, 8, 1), PlayerTruth("Echo", 6, 6, 6)]),
    ])
    case = make_case(truth, ScreenStyle(banner=banner, lang="ko" if banner == "ko" else "en", layout="side"), seed=8)
    record = reader.read(decode(case)).record
    assert [(t.score, t.result) for t in record.teams] == [(12, "draw"), (12, "draw")]


def test_one_and_six_players_a_team(reader: MatchReader) -> None:
    six = [PlayerTruth(n, i, i + 1, i + 2) for i, n in enumerate(["Ace", "Luna", "Zeus", "Echo", "Nova", "Frost"])]
    truth = MatchTruth(title="Summer Cup Final", map="Icebox", teams=[
        TeamTruth("DRX", 2, "win", six),
        TeamTruth("T1", 1, "loss", [PlayerTruth(f"Player{i}", 10 + i, 2, 3) for i in range(1, 7)]),
    ])
    for players in (6, 1):
        t = MatchTruth(truth.title, truth.map, [TeamTruth(x.name, x.score, x.result, x.players[:players]) for x in truth.teams])
        record = reader.read(decode(make_case(t, ScreenStyle(kda="slash"), seed=11))).record.model_dump()
        assert numbers(record) == numbers(t.as_record())
        assert [p["nickname"] for p in record["teams"][0]["players"]] == [p.nickname for p in t.teams[0].players]


@pytest.mark.parametrize("degradation", [
    {"rotation": 2.5}, {"perspective": 0.05}, {"scale": 0.6}, {"jpeg_quality": 45}, {"blur": 0.8},
], ids=["rotation", "perspective", "small", "jpeg", "blur"])
def test_degraded_photos_and_screenshots_keep_the_numbers(full_reader: MatchReader, degradation: dict) -> None:
    case = make_case(TRUTH, ScreenStyle(layout="stacked", kda="columns", score="big", **degradation), seed=21)
    record = full_reader.read(decode(case), roster=ROSTER).record.model_dump()
    assert numbers(record) == numbers(TRUTH.as_record())


def test_roster_corrects_near_miss_nicknames(reader: MatchReader) -> None:
    case = make_case(TRUTH, ScreenStyle(), seed=3)
    corrected = reader.read(decode(case), roster=ROSTER + ["Fakir", "Somebody"]).record
    assert [p.nickname for t in corrected.teams for p in t.players] == ROSTER
    # A nickname with no close roster name is left as read, never forced onto a far name.
    others = [n for n in ROSTER if n != "Faker"] + ["Zeus", "Knight_77"]
    kept = reader.read(decode(case), roster=others).record
    assert kept.teams[0].players[0].nickname == "Faker"
    assert "Zeus" not in [p.nickname for t in kept.teams for p in t.players]


def test_rapidocr_fallback_rereads_doubtful_fields(tesseract_pool) -> None:  # noqa: ANN001
    # A threshold above any confidence makes every field doubtful, so each goes to RapidOCR.
    fallback_reader = MatchReader(tesseract_pool, line_fallbacks=[RapidOcrEngine()], min_confidence=1.01)
    case = make_case(TRUTH, ScreenStyle(kda="slash", lang="en"), seed=4)
    outcome = fallback_reader.read(decode(case), roster=ROSTER)
    assert outcome.fallback_used
    assert outcome.engine == "tesseract+rapidocr"
    assert numbers(outcome.record.model_dump()) == numbers(TRUTH.as_record())


# Nicknames of every kind that Tesseract's mixed model misread before they were read one script at a time:
# a Hangul prefix before a Latin word, `xX` (case from ink height), `빛` (not `빚`), Hangul after an underscore.
HARD_NICKNAMES = [["달빛Knight", "xX_Sniper", "우라Ghost", "빛바_92"], ["zeus_수성", "솔차파79", "하Shadow", "xX_Chovy"]]
HARD = MatchTruth("Summer Cup Final", "Haven", [
    TeamTruth("Phoenix Rising", 13, "win", [PlayerTruth(n, i, i + 1, i + 2) for i, n in enumerate(HARD_NICKNAMES[0])]),
    TeamTruth("붉은 늑대", 11, "loss", [PlayerTruth(n, i + 5, i, 3) for i, n in enumerate(HARD_NICKNAMES[1])]),
])


@pytest.mark.parametrize(("font", "theme"), [("nanum-gothic", "light"), ("noto-sans-kr", "dark"), ("nanum-square", "light")])
def test_mixed_script_nicknames_read_exactly_without_a_roster(reader: MatchReader, font: str, theme: str) -> None:
    case = make_case(HARD, ScreenStyle(font=font, theme=theme, layout="side"), seed=3)
    record = reader.read(decode(case)).record
    assert [[p.nickname for p in t.players] for t in record.teams] == HARD_NICKNAMES


def test_a_team_name_syllable_tesseract_cannot_output_is_drawn_and_compared(reader: MatchReader) -> None:
    # `늑` is outside the Korean model's characters; it reads `득대`/`눅대` and the drawing decides.
    case = make_case(HARD, ScreenStyle(font="nanum-gothic", layout="side"), seed=3)
    assert [t.name for t in reader.read(decode(case)).record.teams] == ["Phoenix Rising", "붉은 늑대"]
