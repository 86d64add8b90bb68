"""From rows of read segments to a match record: find the tables by their header rows, their columns by
the header words, the team lines above them, the big score, the title and the map.

The parser only needs segments with text and boxes, so it works on any engine's output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from services.ocr.layout import Segment
from services.ocr.schemas import MatchRecord, PlayerRecord, Result, TeamRecord

HEADER_WORDS: dict[str, list[str]] = {
    "nick": ["player", "players", "name", "nickname", "닉네임", "플레이어", "이름", "선수", "소환사명"],
    "k": ["k", "kills", "kill", "킬", "처치"],
    "d": ["d", "deaths", "death", "데스", "사망"],
    "a": ["a", "assists", "assist", "어시스트", "어시", "도움"],
    "kda": ["k/d/a", "kda", "킬/데스/어시", "킬/데스/어시스트", "k/d/a/"],
}
BANNER_WORDS: dict[str, Result] = {
    "win": "win", "victory": "win", "승리": "win", "winner": "win",
    "lose": "loss", "loss": "loss", "defeat": "loss", "패배": "loss",
    "draw": "draw", "무승부": "draw", "tie": "draw",
}
MAP_LABELS = ["map", "mode", "맵", "모드", "전장"]
SCORE_PAIR = re.compile(r"^\D{0,2}(\d{1,3})\s*[:\-–—~]\s*(\d{1,3})\D{0,2}$")
NUMBER = re.compile(r"^\d{1,3}$")
KDA = re.compile(r"^(\d{1,3})\s*/\s*(\d{1,3})\s*/\s*(\d{1,3})$")


def _norm(text: str) -> str:
    return re.sub(r"[\s.:|'\"`]", "", text.lower())


def _match_word(text: str, vocab: list[str]) -> bool:
    t = _norm(text)
    if not t:
        return False
    for word in vocab:
        if len(word) <= 2:
            if t == word:
                return True
        elif t == word or (len(t) >= 2 and fuzz.ratio(t, word) >= 75):
            return True
    return False


def header_role(text: str) -> str | None:
    """The column a header word names: nick, k, d, a, kda, or None."""
    for role in ("kda", "nick", "k", "d", "a"):
        if _match_word(text, HEADER_WORDS[role]):
            return role
    return None


def banner_result(text: str) -> Result | None:
    """WIN/LOSE/VICTORY/DEFEAT/DRAW/승리/패배/무승부 (close misreadings too) -> result."""
    t = _norm(text)
    if not t or len(t) > 10:
        return None
    if t in BANNER_WORDS:
        return BANNER_WORDS[t]
    best, best_score = None, 0.0
    for word, result in BANNER_WORDS.items():
        if len(word) < 4 or abs(len(t) - len(word)) > 1:
            continue  # short words only exactly: `tiger` is not `tie`
        score = fuzz.ratio(t, word)
        if score > best_score:
            best, best_score = result, score
    return best if best_score >= 75 else None


def parse_int(text: str) -> int | None:
    t = text.strip().replace("O", "0").replace("o", "0").replace("l", "1").replace("I", "1")
    return int(t) if NUMBER.match(t) else None


def parse_kda(text: str) -> tuple[int, int, int] | None:
    m = KDA.match(text.strip().replace(" ", ""))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def parse_score_pair(text: str) -> tuple[int, int] | None:
    m = SCORE_PAIR.match(text.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


@dataclass
class PlayerRow:
    nick: Segment
    cells: dict[str, Segment]  # k, d, a or kda


@dataclass
class TableLayout:
    """One team's table and the team line above it, as segments with roles."""

    x_range: tuple[float, float]
    header_row: int
    columns: dict[str, float]  # role -> x centre
    name: list[Segment] = field(default_factory=list)
    score: Segment | None = None
    banner: Segment | None = None
    players: list[PlayerRow] = field(default_factory=list)


@dataclass
class ScreenLayout:
    """Where everything is on the screen; `record()` turns the segments' texts into a `MatchRecord`."""

    tables: list[TableLayout]
    title: list[Segment] = field(default_factory=list)
    map: Segment | None = None
    big_score: list[Segment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def numeric_segments(self) -> list[tuple[Segment, str]]:
        """Segments that hold numbers, with the kind to re-read them as."""
        kind = "score" if len(self.big_score) == 1 else "digits"
        found: list[tuple[Segment, str]] = [(s, kind) for s in self.big_score]
        for table in self.tables:
            if table.score is not None:
                found.append((table.score, "digits"))
            for row in table.players:
                for role, seg in row.cells.items():
                    found.append((seg, "kda" if role == "kda" else "digits"))
        return found

    def nickname_segments(self) -> list[Segment]:
        return [row.nick for table in self.tables for row in table.players]

    def record(self) -> MatchRecord:
        teams = []
        pair = _big_score(self.big_score)
        for index, table in enumerate(self.tables):
            score = parse_int(table.score.text) if table.score is not None else None
            if score is None and pair is not None and index < 2:
                score = pair[index]
            result = banner_result(table.banner.text) if table.banner is not None else None
            players = []
            for row in table.players:
                k = d = a = None
                if "kda" in row.cells:
                    kda = parse_kda(row.cells["kda"].text)
                    if kda:
                        k, d, a = kda
                else:
                    k = parse_int(row.cells["k"].text) if "k" in row.cells else None
                    d = parse_int(row.cells["d"].text) if "d" in row.cells else None
                    a = parse_int(row.cells["a"].text) if "a" in row.cells else None
                players.append(PlayerRecord(nickname=clean_nickname(row.nick.text), kills=k, deaths=d, assists=a))
            name = " ".join(s.text for s in table.name).strip() or None
            teams.append(TeamRecord(name=name, score=score, result=result, players=players))
        # A missing banner is inferred from the scores; the checks flag a banner that disagrees.
        if len(teams) == 2 and all(t.score is not None for t in teams):
            a, b = teams[0].score, teams[1].score
            inferred = ("draw", "draw") if a == b else (("win", "loss") if a > b else ("loss", "win"))
            for team, result in zip(teams, inferred):
                if team.result is None:
                    team.result = result  # type: ignore[assignment]
        title = " ".join(s.text for s in self.title).strip() or None
        map_name = None
        if self.map is not None:
            map_name = re.sub(r"^\s*[^:：]{1,8}[:：]\s*", "", self.map.text).strip() or None
        return MatchRecord(title=title, map=map_name, teams=teams)


def _big_score(segs: list[Segment]) -> tuple[int, int] | None:
    """`13 : 11` in one segment, or two number segments whose separator was too small to keep."""
    if len(segs) == 1:
        return parse_score_pair(segs[0].text.replace(" ", ""))
    if len(segs) == 2:
        a, b = parse_int(segs[0].text), parse_int(segs[1].text)
        if a is not None and b is not None:
            return a, b
    return None


def clean_nickname(text: str) -> str:
    """Nicknames have no spaces; Tesseract inserts some between Hangul syllables."""
    return re.sub(r"\s+", "", text).strip("|.,'\"`")


def _is_header_row(row: list[Segment]) -> bool:
    roles = [header_role(s.text) for s in row]
    return "nick" in roles and any(r in ("k", "d", "a", "kda") for r in roles)


def analyse(rows: list[list[Segment]], text_height: float) -> ScreenLayout:
    """Find tables, team lines, the big score, the title and the map in rows of read segments."""
    h = text_height
    header_rows = [i for i, row in enumerate(rows) if _is_header_row(row)]
    tables: list[TableLayout] = []
    for i in header_rows:
        row = rows[i]
        nicks = [s for s in row if header_role(s.text) == "nick"]
        for j, nick in enumerate(nicks):
            left = nick.x0 - 2.0 * h
            right = nicks[j + 1].x0 - 2.0 * h if j + 1 < len(nicks) else float("inf")
            columns: dict[str, float] = {"nick": float(nick.x0)}
            for seg in row:
                role = header_role(seg.text)
                if role and role != "nick" and left <= seg.cx < right:
                    columns.setdefault(role, seg.cx)
            _infer_missing_column(columns, [s for s in row if left <= s.cx < right and header_role(s.text) is None])
            tables.append(TableLayout(x_range=(left, right), header_row=i, columns=columns))
    layout = ScreenLayout(tables=tables)
    if not tables:
        layout.problems.append("no table header (player / K / D / A) found")
        return layout
    used_rows: set[int] = set(header_rows)
    for table in tables:
        _collect_players(table, rows, header_rows, h, used_rows)
        _collect_team_line(table, rows, h, used_rows)
    first_team_row = min([t.header_row for t in tables] + [r for r in used_rows])
    top_rows = [i for i in range(len(rows)) if i < first_team_row and i not in used_rows]
    for i in top_rows:
        text = " ".join(s.text for s in rows[i])
        if not layout.big_score and (_big_score(rows[i]) or parse_score_pair(text.replace(" ", ""))):
            layout.big_score = rows[i] if _big_score(rows[i]) else [_merge(rows[i])]
            continue
        if layout.map is None and _is_map_line(text):
            layout.map = _merge(rows[i])
            continue
        if not layout.title:
            layout.title = rows[i]
    if not layout.big_score:
        # A big score can sit on the team line between the two names (side-by-side screens).
        for table in tables:
            for seg in table.name:
                if parse_score_pair(seg.text.replace(" ", "")):
                    layout.big_score = [seg]
                    table.name.remove(seg)
                    break
    return layout


def _infer_missing_column(columns: dict[str, float], unknown: list[Segment]) -> None:
    """K, D and A headers with one unread (a lone small letter): the unknown header where it belongs."""
    if "kda" in columns:
        return
    missing = [r for r in ("k", "d", "a") if r not in columns]
    if len(missing) != 1 or not unknown:
        return
    role = missing[0]
    known = {r: columns[r] for r in ("k", "d", "a") if r in columns}
    for seg in sorted(unknown, key=lambda s: s.cx):
        trial = {**known, role: seg.cx}
        if sorted(trial, key=trial.get) == ["k", "d", "a"] and seg.cx > columns["nick"]:
            gaps = sorted(trial.values())
            if gaps[2] - gaps[1] < 2.5 * (gaps[1] - gaps[0]) and gaps[1] - gaps[0] < 2.5 * (gaps[2] - gaps[1]):
                columns[role] = seg.cx
                return


def _is_map_line(text: str) -> bool:
    head = re.split(r"[:：]", text, maxsplit=1)
    return len(head) == 2 and _match_word(head[0], MAP_LABELS)


def _merge(row: list[Segment], joiner: str = " ") -> Segment:
    x0 = min(s.box[0] for s in row)
    y0 = min(s.box[1] for s in row)
    x1 = max(s.box[0] + s.box[2] for s in row)
    y1 = max(s.box[1] + s.box[3] for s in row)
    return Segment(box=(x0, y0, x1 - x0, y1 - y0), text=joiner.join(s.text for s in row),
                   confidence=min(s.confidence for s in row), engine=row[0].engine)


def _in_range(seg: Segment, table: TableLayout) -> bool:
    return table.x_range[0] <= seg.cx < table.x_range[1]


def _collect_players(table: TableLayout, rows: list[list[Segment]], header_rows: list[int], h: float,
                     used: set[int]) -> None:
    numeric_cols = {k: v for k, v in table.columns.items() if k != "nick"}
    if not numeric_cols:
        return  # a header with a nickname column but no K/D/A column inside this table's range
    for i in range(table.header_row + 1, len(rows)):
        if i in header_rows:
            break
        if i + 1 < len(rows) and i + 1 in header_rows:
            break  # the team line of the next table
        segs = [s for s in rows[i] if _in_range(s, table)]
        if any(banner_result(s.text) and abs(s.x0 - table.columns["nick"]) >= 1.5 * h for s in segs):
            break  # the next team's line (a nickname like `Tiger` in the nickname column is not a banner)
        nick = [s for s in segs if abs(s.x0 - table.columns["nick"]) < 1.5 * h]
        if not nick:
            if table.players:
                break
            continue
        cells: dict[str, Segment] = {}
        first_number = min(numeric_cols.values())
        nick_seg = nick[0]
        for seg in sorted(segs, key=lambda s: s.x0):
            # A nickname cut in two (a lost underscore): the piece right after it, well left of the numbers.
            if seg is not nick_seg and 0 <= seg.x0 - nick_seg.x1 < 1.2 * h and seg.cx < first_number - 1.5 * h:
                nick_seg = _merge([nick_seg, seg], joiner="")
        for seg in segs:
            if seg is nick[0] or nick_seg.x0 <= seg.cx <= nick_seg.x1:
                continue
            role = min(numeric_cols, key=lambda r: abs(numeric_cols[r] - seg.cx))
            if abs(numeric_cols[role] - seg.cx) < 2.5 * h and role not in cells:
                cells[role] = seg
        if not any(r in cells for r in ("k", "d", "a", "kda")):
            if table.players:
                break
            continue
        table.players.append(PlayerRow(nick=nick_seg, cells={r: s for r, s in cells.items() if r in ("k", "d", "a", "kda")}))
        used.add(i)


def _collect_team_line(table: TableLayout, rows: list[list[Segment]], h: float, used: set[int]) -> None:
    for i in range(table.header_row - 1, max(-1, table.header_row - 3), -1):
        segs = [s for s in rows[i] if _in_range(s, table)]
        if not segs:
            continue
        for seg in segs:
            if table.banner is None and banner_result(seg.text):
                table.banner = seg
            elif table.score is None and parse_int(seg.text) is not None and seg.x0 > table.columns["nick"] + 2 * h:
                table.score = seg
            else:
                table.name.append(seg)
        used.add(i)
        return
