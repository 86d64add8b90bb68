"""Rendered result screens with ground truth, for tests, evaluation, benchmarks and the demo.

Every screen is drawn with Debian fonts (fonts-nanum, fonts-noto-cjk) from a `MatchTruth` and a
`ScreenStyle`; `random_case(seed)` gives the same image for the same seed on every machine with those fonts.
Layout families: stacked or side-by-side tables; K, D, A as columns or one `12/3/7` column; one big
score or a score beside each team; WIN/LOSE, VICTORY/DEFEAT, 승리/패배, DRAW/무승부 banners; Korean or
English headers; 1-6 players a team; light or dark theme; then optional degradations (JPEG, blur,
small text, rotation, phone-photo perspective).
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

NANUM = Path("/usr/share/fonts/truetype/nanum")
NOTO = Path("/usr/share/fonts/opentype/noto")
# (regular, bold, ttc index); index 1 of the Noto CJK collections is the Korean face.
FONT_FAMILIES: dict[str, tuple[Path, Path, int]] = {
    "nanum-gothic": (NANUM / "NanumGothic.ttf", NANUM / "NanumGothicBold.ttf", 0),
    "nanum-barun": (NANUM / "NanumBarunGothic.ttf", NANUM / "NanumBarunGothicBold.ttf", 0),
    "nanum-square": (NANUM / "NanumSquareR.ttf", NANUM / "NanumSquareB.ttf", 0),
    "noto-sans-kr": (NOTO / "NotoSansCJK-Regular.ttc", NOTO / "NotoSansCJK-Bold.ttc", 1),
}

Layout = Literal["stacked", "side"]
KdaStyle = Literal["columns", "slash"]
ScoreStyle = Literal["big", "team"]
BannerStyle = Literal["win_lose", "victory_defeat", "ko"]

BANNERS: dict[str, dict[str, str]] = {
    "win_lose": {"win": "WIN", "loss": "LOSE", "draw": "DRAW"},
    "victory_defeat": {"win": "VICTORY", "loss": "DEFEAT", "draw": "DRAW"},
    "ko": {"win": "승리", "loss": "패배", "draw": "무승부"},
}
HEADERS: dict[str, dict[str, list[str]]] = {
    "en": {"nick": ["Player", "Name", "Nickname"], "k": ["K", "Kills"], "d": ["D", "Deaths"],
           "a": ["A", "Assists"], "kda": ["K/D/A", "KDA"], "extra": ["Score", "ACS"]},
    "ko": {"nick": ["닉네임", "플레이어", "이름"], "k": ["킬", "K"], "d": ["데스", "D"],
           "a": ["어시스트", "어시", "A"], "kda": ["K/D/A", "킬/데스/어시"], "extra": ["점수", "피해량"]},
}
TEAM_NAMES = [
    "Phoenix Rising", "Blue Dragons", "Red Wolves", "Night Owls", "Iron Tigers", "Storm Riders",
    "T1", "DRX", "Team Nova", "Silver Foxes", "한화생명", "서울 타이거즈", "부산 갈매기", "광주 불사조",
    "대전 시티즌", "푸른 용", "붉은 늑대", "번개단", "새벽별", "은하수",
]
TITLES = {
    "en": ["Summer Cup Final", "Weekly Scrim #12", "Spring League Week 3", "Campus Open Semifinal",
           "Ranked Match", "Custom Game"],
    "ko": ["2026 여름 리그 결승", "주간 스크림 12회차", "봄 시즌 3주차", "대학 대항전 준결승", "랭크 게임",
           "사용자 설정 게임"],
}
MAPS = {
    "en": ["Haven", "Ascent", "Icebox", "Dust Valley", "Harbor", "Lotus", "Summit"],
    "ko": ["헤이븐", "어센트", "아이스박스", "사막 계곡", "항구", "로터스", "정상"],
}
MAP_LABEL = {"en": ["Map", "Mode"], "ko": ["맵", "모드"]}
HANGUL_SYLLABLES = (
    "가나다라마바사아자차카타파하김이박최정강조윤장임한오서신권황안송류홍전고문양손배백허유남심노하곽성차주"
    "우구민준서연지호현수철영미진성우빛달별꽃바람하늘구름산강불용범솔빈결"
)
LATIN_WORDS = ["Faker", "Sniper", "Knight", "Shadow", "Ace", "Nova", "Blaze", "Wolf", "Ghost", "Tiger",
               "Storm", "Pixel", "Rookie", "Chovy", "Viper", "Zeus", "Echo", "Frost", "Luna", "Raven"]


@dataclass
class PlayerTruth:
    nickname: str
    kills: int
    deaths: int
    assists: int


@dataclass
class TeamTruth:
    name: str
    score: int
    result: Literal["win", "loss", "draw"]
    players: list[PlayerTruth]


@dataclass
class MatchTruth:
    """What the screen says: the record the reader should return."""

    title: str | None
    map: str | None
    teams: list[TeamTruth]

    def as_record(self) -> dict[str, Any]:
        """The same shape as the API's `match` object."""
        return asdict(self)


@dataclass
class ScreenStyle:
    """How the screen is drawn and degraded."""

    layout: Layout = "stacked"
    kda: KdaStyle = "columns"
    score: ScoreStyle = "big"
    banner: BannerStyle = "win_lose"
    lang: Literal["ko", "en"] = "en"
    theme: Literal["light", "dark"] = "dark"
    font: str = "nanum-gothic"
    extra_column: bool = False
    header_variant: int = 0
    # degradations
    jpeg_quality: int | None = None
    blur: float = 0.0
    scale: float = 1.0
    rotation: float = 0.0
    perspective: float = 0.0

    @property
    def degraded(self) -> bool:
        return bool(self.jpeg_quality or self.blur or self.scale != 1.0 or self.rotation or self.perspective)

    def family(self) -> str:
        """A short name of the layout family, for per-family scores."""
        return f"{self.layout}/{self.kda}/{self.score}"


@dataclass
class SyntheticCase:
    """One generated screen: ground truth, style and the encoded image."""

    seed: int
    truth: MatchTruth
    style: ScreenStyle
    image: bytes = field(repr=False)
    media_type: str = "image/png"
    # Word boxes (text, [x, y, w, h]) in the image's pixels, when the geometry allows exact boxes.
    words: list[tuple[str, list[int]]] | None = field(default=None, repr=False)


# ---------------------------------------------------------------- random content


def random_nickname(rng: random.Random) -> str:
    """A nickname mixing Hangul, Latin letters, digits and `_` the way players write them."""
    hangul = lambda n: "".join(rng.choice(HANGUL_SYLLABLES) for _ in range(n))  # noqa: E731
    kind = rng.randrange(7)
    if kind == 0:
        return hangul(rng.randint(2, 4))
    if kind == 1:
        return f"{hangul(2)}_{rng.randint(1, 99)}"
    if kind == 2:
        return rng.choice(LATIN_WORDS) + (str(rng.randint(1, 999)) if rng.random() < 0.5 else "")
    if kind == 3:
        return f"{rng.choice(['xX', 'the', 'Mr', 'Dr'])}_{rng.choice(LATIN_WORDS)}"
    if kind == 4:
        return hangul(rng.randint(1, 2)) + rng.choice(LATIN_WORDS)
    if kind == 5:
        return f"{rng.choice(LATIN_WORDS).lower()}_{hangul(2)}"
    return hangul(3) + str(rng.randint(1, 99))


def random_truth(rng: random.Random, lang: str, players: int | None = None) -> MatchTruth:
    names = rng.sample(TEAM_NAMES, 2)
    n = players or rng.choice([1, 2, 3, 4, 5, 5, 5, 6])
    if rng.random() < 0.5:  # rounds, e.g. 13 : 11
        a, b = rng.choice([(13, rng.randint(0, 11)), (rng.randint(0, 11), 13), (12, 12), (14, 12), (16, 14)])
    else:  # a series, e.g. 2 - 1
        a, b = rng.choice([(2, 0), (2, 1), (1, 2), (0, 2), (3, 1), (1, 1), (3, 2)])
    results = ("draw", "draw") if a == b else (("win", "loss") if a > b else ("loss", "win"))
    seen: set[str] = set()
    teams = []
    for name, score, result in zip(names, (a, b), results):
        roster = []
        while len(roster) < n:
            nick = random_nickname(rng)
            if nick not in seen:
                seen.add(nick)
                roster.append(PlayerTruth(nick, rng.randint(0, 30), rng.randint(0, 25), rng.randint(0, 30)))
        teams.append(TeamTruth(name, score, result, roster))
    title = rng.choice(TITLES[lang])
    map_name = rng.choice(MAPS[lang])
    return MatchTruth(title=title, map=map_name, teams=teams)


def random_style(rng: random.Random, degraded: bool | None = None) -> ScreenStyle:
    lang = rng.choice(["en", "ko"])
    banner = "ko" if lang == "ko" and rng.random() < 0.7 else rng.choice(["win_lose", "victory_defeat"])
    style = ScreenStyle(
        layout=rng.choice(["stacked", "side"]),
        kda=rng.choice(["columns", "slash"]),
        score=rng.choice(["big", "team"]),
        banner=banner,
        lang=lang,
        theme=rng.choice(["light", "dark"]),
        font=rng.choice(sorted(FONT_FAMILIES)),
        extra_column=rng.random() < 0.3,
        header_variant=rng.randrange(3),
    )
    if degraded is None:
        degraded = rng.random() < 0.6
    if degraded:
        kinds = rng.sample(["jpeg", "blur", "small", "rotation", "perspective"], rng.choice([1, 1, 2]))
        if "jpeg" in kinds:
            style.jpeg_quality = rng.randint(35, 70)
        if "blur" in kinds:
            style.blur = round(rng.uniform(0.5, 1.1), 2)
        if "small" in kinds:
            style.scale = round(rng.uniform(0.55, 0.75), 2)
        if "rotation" in kinds:
            style.rotation = round(rng.uniform(1.0, 3.0) * rng.choice([-1, 1]), 2)
        if "perspective" in kinds:
            style.perspective = round(rng.uniform(0.03, 0.07), 3)
    return style


def random_case(seed: int, degraded: bool | None = None, **style_overrides: Any) -> SyntheticCase:
    """The screen for ``seed`` (deterministic); ``style_overrides`` pin style fields."""
    rng = random.Random(seed)
    style = replace(random_style(rng, degraded), **style_overrides)
    truth = random_truth(rng, style.lang)
    return make_case(truth, style, seed)


def case_style(seed: int, degraded: bool | None = None) -> ScreenStyle:
    """The style `random_case(seed)` draws with, without rendering it."""
    return random_style(random.Random(seed), degraded)


def make_case(truth: MatchTruth, style: ScreenStyle, seed: int = 0) -> SyntheticCase:
    """Render and degrade ``truth`` in ``style`` and encode it (PNG, or JPEG when the style says so)."""
    words: list[tuple[str, list[int]]] = []
    image = degrade(render(truth, style, seed, words), style, random.Random(seed + 7919))
    exact = None
    if not (style.rotation or style.perspective):
        exact = [(text, [round(v * style.scale) for v in box]) for text, box in words]
    buffer = io.BytesIO()
    if style.jpeg_quality:
        image.convert("RGB").save(buffer, "JPEG", quality=style.jpeg_quality)
        return SyntheticCase(seed, truth, style, buffer.getvalue(), "image/jpeg", exact)
    image.save(buffer, "PNG")
    return SyntheticCase(seed, truth, style, buffer.getvalue(), words=exact)


def cases(count: int, start_seed: int = 1000, **overrides: Any) -> list[SyntheticCase]:
    """``count`` screens from consecutive seeds (the evaluation set is ``cases(n)``)."""
    return [random_case(start_seed + i, **overrides) for i in range(count)]


# ---------------------------------------------------------------- drawing


@lru_cache(maxsize=64)
def _font(family: str, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    regular, heavy, index = FONT_FAMILIES[family]
    return ImageFont.truetype(str(heavy if bold else regular), size, index=index)


THEMES = {
    "dark": {"bg": (22, 25, 33), "band": (36, 40, 52), "text": (232, 234, 240), "muted": (150, 156, 170),
             "win": (80, 220, 140), "loss": (255, 95, 95), "draw": (200, 200, 210),
             "team": [(110, 180, 255), (255, 150, 120)]},
    "light": {"bg": (246, 247, 250), "band": (228, 232, 240), "text": (24, 26, 32), "muted": (100, 106, 120),
              "win": (20, 140, 70), "loss": (200, 40, 40), "draw": (90, 90, 100),
              "team": [(30, 80, 190), (170, 50, 30)]},
}


def _pick(options: list[str], variant: int) -> str:
    return options[variant % len(options)]


class _WordDraw:
    """ImageDraw that also records the box of every word it draws."""

    def __init__(self, image: Image.Image, words: list[tuple[str, list[int]]] | None) -> None:
        self._draw = ImageDraw.Draw(image)
        self.words = words if words is not None else []

    def textlength(self, text: str, font: ImageFont.FreeTypeFont) -> float:
        return self._draw.textlength(text, font=font)

    def rectangle(self, xy, fill) -> None:  # noqa: ANN001
        self._draw.rectangle(xy, fill=fill)

    def text(self, xy: tuple[float, float], text: str, font: ImageFont.FreeTypeFont, fill) -> None:  # noqa: ANN001
        self._draw.text(xy, text, font=font, fill=fill)
        x, y = xy
        offset = 0
        for word in text.split(" "):
            if word:
                start = x + self._draw.textlength(text[:offset], font=font)
                left, top, right, bottom = font.getbbox(word)
                self.words.append((word, [round(start + left), round(y + top), round(right - left), round(bottom - top)]))
            offset += len(word) + 1


def render(truth: MatchTruth, style: ScreenStyle, seed: int = 0,
           words: list[tuple[str, list[int]]] | None = None) -> Image.Image:
    """Draw the clean screenshot of ``truth`` in ``style`` (word boxes go to ``words`` when given)."""
    theme = THEMES[style.theme]
    side = style.layout == "side"
    n = max(len(t.players) for t in truth.teams)
    fs = 26
    row_h = 46
    panel_w = 660 if side else 900
    width = 40 + panel_w * (2 if side else 1) + (40 if side else 0) + 40
    header_h = 30 + 44 + 40 + (80 if style.score == "big" else 0)
    table_h = 56 + 50 + row_h * n + 30
    height = header_h + (table_h if side else 2 * table_h) + 30
    image = Image.new("RGB", (width, height), theme["bg"])
    draw = _WordDraw(image, words)
    f_title = _font(style.font, 32, True)
    f_text = _font(style.font, fs)
    f_head = _font(style.font, 22, True)
    f_team = _font(style.font, 30, True)
    f_big = _font(style.font, 56, True)

    y = 26
    draw.text((40, y), truth.title or "", font=f_title, fill=theme["text"])
    y += 48
    label = _pick(MAP_LABEL[style.lang], style.header_variant)
    draw.text((40, y), f"{label}: {truth.map}", font=f_text, fill=theme["muted"])
    y += 44
    if style.score == "big":
        text = f"{truth.teams[0].score} {':' if seed % 2 == 0 else '-'} {truth.teams[1].score}"
        w = draw.textlength(text, font=f_big)
        draw.text(((width - w) / 2, y), text, font=f_big, fill=theme["text"])
        y += 84
    headers = HEADERS[style.lang]
    for index, team in enumerate(truth.teams):
        x0 = 40 + (panel_w + 40) * index if side else 40
        y0 = y if side else y + table_h * index
        _draw_team(draw, style, theme, team, index, x0, y0, panel_w, row_h, fonts=(f_team, f_head, f_text), headers=headers)
    return image


def _draw_team(draw, style, theme, team, index, x0, y0, panel_w, row_h, fonts, headers) -> None:  # noqa: ANN001
    f_team, f_head, f_text = fonts
    draw.text((x0 + 10, y0), team.name, font=f_team, fill=theme["team"][index])
    if style.score == "team":
        name_w = draw.textlength(team.name, font=f_team)
        draw.text((x0 + max(300, name_w + 60), y0), str(team.score), font=f_team, fill=theme["text"])
    banner = BANNERS[style.banner][team.result]
    bw = draw.textlength(banner, font=f_team)
    draw.text((x0 + panel_w - 20 - bw, y0), banner, font=f_team, fill=theme[team.result])
    y = y0 + 56
    # Column positions: nickname at the left, numbers right of it, an optional distractor column last.
    nick_x = x0 + 20
    first = x0 + panel_w * 0.46
    if style.kda == "columns":
        cols = [("k", first), ("d", first + 105), ("a", first + 210)]
    else:
        cols = [("kda", first + 60)]
    if style.extra_column:
        cols.append(("extra", first + 330))
    v = style.header_variant
    draw.text((nick_x, y), _pick(headers["nick"], v), font=f_head, fill=theme["muted"])
    for key, cx in cols:
        text = _pick(headers[key], v)
        w = draw.textlength(text, font=f_head)
        draw.text((cx - w / 2, y), text, font=f_head, fill=theme["muted"])
    y += 50
    for row, player in enumerate(team.players):
        if row % 2 == 0:
            draw.rectangle((x0, y - 6, x0 + panel_w, y + row_h - 8), fill=theme["band"])
        draw.text((nick_x, y), player.nickname, font=f_text, fill=theme["text"])
        values = {"k": str(player.kills), "d": str(player.deaths), "a": str(player.assists),
                  "kda": f"{player.kills}/{player.deaths}/{player.assists}",
                  "extra": str(100 + (player.kills * 37 + player.assists * 11) % 300)}
        for key, cx in cols:
            w = draw.textlength(values[key], font=f_text)
            draw.text((cx - w / 2, y), values[key], font=f_text, fill=theme["text"])
        y += row_h


# ---------------------------------------------------------------- degradations


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """Coefficients for PIL's PERSPECTIVE transform mapping output points ``dst`` to input points ``src``."""
    rows = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=float)
    b = np.array([c for point in src for c in point], dtype=float)
    return np.linalg.solve(a, b).tolist()


def degrade(image: Image.Image, style: ScreenStyle, rng: random.Random) -> Image.Image:
    """Apply the style's degradations: small text, blur, rotation, phone-photo perspective."""
    if style.scale != 1.0:
        image = image.resize((round(image.width * style.scale), round(image.height * style.scale)), Image.LANCZOS)
    if style.perspective:
        image = _phone_photo(image, style.perspective, rng)
    if style.rotation:
        fill = image.getpixel((2, 2))
        image = image.rotate(style.rotation, resample=Image.BICUBIC, expand=True, fillcolor=fill)
    if style.blur:
        image = image.filter(ImageFilter.GaussianBlur(style.blur))
    return image


def _phone_photo(image: Image.Image, strength: float, rng: random.Random) -> Image.Image:
    """The screen photographed at a slight angle on a grey desk, with uneven light."""
    w, h = image.size
    margin = int(0.12 * max(w, h))
    out_w, out_h = w + 2 * margin, h + 2 * margin
    jitter = lambda s: rng.uniform(0.2, 1.0) * strength * s  # noqa: E731
    dst = [
        (margin + jitter(w), margin + jitter(h)),
        (margin + w - jitter(w), margin + jitter(h)),
        (margin + w - jitter(w), margin + h - jitter(h)),
        (margin + jitter(w), margin + h - jitter(h)),
    ]
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    coeffs = _perspective_coeffs(src, dst)
    screen = image.transform((out_w, out_h), Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    mask = Image.new("L", image.size, 255).transform((out_w, out_h), Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    desk = Image.new("RGB", (out_w, out_h), (118, 112, 104))
    photo = Image.composite(screen, desk, mask)
    # Uneven light: brighter at one corner, the way a lamp or window lights a phone photo.
    yy, xx = np.mgrid[0:out_h, 0:out_w]
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (xx * math.cos(angle) + yy * math.sin(angle)) / max(out_w, out_h)
    gain = 0.88 + 0.12 * (ramp - ramp.min()) / max(1e-6, float(np.ptp(ramp)))
    pixels = np.asarray(photo, dtype=np.float32) * gain[..., None]
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 3.0, pixels.shape)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
