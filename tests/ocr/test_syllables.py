"""Analysis by synthesis for Hangul syllables the Korean model cannot output, on fonts it does not draw with."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from services.ocr.engines.tesseract import model_characters
from services.ocr.syllables import REFERENCE_FONTS, SyllableVerifier, candidates
from services.ocr.synthetic import FONT_FAMILIES
from tests.ocr.conftest import TESSDATA

# Neither the verifier's reference fonts nor (for the serif) the generator's: screens use fonts we do not know.
NOTO_SERIF = ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 1)
NANUM_GOTHIC_BOLD = (str(FONT_FAMILIES["nanum-gothic"][1]), 0)


def _line(text: str, font: tuple[str, int]) -> np.ndarray:
    image = Image.new("L", (420, 70), 255)
    ImageDraw.Draw(image).text((20, 10), text, font=ImageFont.truetype(font[0], 36, index=font[1]), fill=30)
    return np.asarray(image)


@pytest.fixture(scope="module")
def korean() -> set[str]:
    return model_characters(TESSDATA, "kor")


def test_the_korean_model_cannot_output_every_syllable(korean: set[str]) -> None:
    # Why `붉은 늑대` never came out right: `늑` is not among the ~1,150 syllables the model knows.
    assert 1000 < len(korean) < 2000
    assert "눅" in korean and "대" in korean and "늑" not in korean


def test_reference_fonts_are_not_the_generators() -> None:
    generator = {str(p) for regular, bold, _ in FONT_FAMILIES.values() for p in (regular, bold)}
    assert not generator & {str(p) for p in REFERENCE_FONTS}


@pytest.mark.parametrize("font", [NOTO_SERIF, NANUM_GOTHIC_BOLD], ids=["noto-serif", "nanum-gothic-bold"])
def test_a_syllable_the_model_cannot_output_is_recovered_from_the_ink(korean: set[str], font: tuple[str, int]) -> None:
    verifier = SyllableVerifier()
    assert verifier.verify(_line("붉은 늑대", font), "붉은 득대", korean) == "붉은 늑대"
    assert verifier.verify(_line("늑대", font), "녹대", korean) == "늑대"


@pytest.mark.parametrize("font", [NOTO_SERIF, NANUM_GOTHIC_BOLD], ids=["noto-serif", "nanum-gothic-bold"])
def test_right_readings_are_kept(korean: set[str], font: tuple[str, int]) -> None:
    verifier = SyllableVerifier()
    for word in ("대전 시티즌", "푸른 용", "눅눅"):
        assert verifier.verify(_line(word, font), word, korean) == word


def test_candidates_are_one_confusable_jamo_away() -> None:
    assert candidates("득")[0] == "득"
    assert {"늑", "특", "둑"} <= set(candidates("득"))
    assert "빛" in candidates("빚") and "빚" in candidates("빛")
