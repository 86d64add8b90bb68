"""The test-image generator: deterministic screens with ground truth across layout families."""

from __future__ import annotations

import io

from PIL import Image

from services.ocr.synthetic import case_style, cases, random_case


def test_same_seed_same_image_and_truth() -> None:
    a, b = random_case(42), random_case(42)
    assert a.image == b.image and a.truth == b.truth
    assert random_case(43).image != a.image


def test_the_evaluation_set_covers_cover_every_family_and_degradation() -> None:
    styles = [case_style(1000 + i) for i in range(120)]
    assert styles[5] == random_case(1005).style
    assert {s.family() for s in styles} >= {f"{l}/{k}/{s}" for l in ("stacked", "side") for k in ("columns", "slash")
                                           for s in ("big", "team")}
    assert {s.banner for s in styles} == {"win_lose", "victory_defeat", "ko"}
    assert {s.lang for s in styles} == {"ko", "en"} and {s.theme for s in styles} == {"light", "dark"}
    assert any(s.rotation for s in styles) and any(s.perspective for s in styles) and any(s.jpeg_quality for s in styles)
    assert any(s.blur for s in styles) and any(s.scale < 1 for s in styles)
    assert 20 <= sum(not s.degraded for s in styles) <= 60


def test_truth_is_consistent_and_images_decode() -> None:
    for case in cases(6, 7000):
        a, b = case.truth.teams
        assert 1 <= len(a.players) <= 6
        expected = ("draw", "draw") if a.score == b.score else (("win", "loss") if a.score > b.score else ("loss", "win"))
        assert (a.result, b.result) == expected
        image = Image.open(io.BytesIO(case.image))
        assert image.format == ("JPEG" if case.style.jpeg_quality else "PNG")
        if case.words is not None:
            drawn = {w for w, _ in case.words}
            assert all(p.nickname in drawn for t in case.truth.teams for p in t.players)
