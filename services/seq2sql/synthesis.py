"""Genie-style synthesis: Korean questions paired with programs, generated from the schema, its
annotations and values sampled from the database, then augmented the way people actually type.

Every template is schema-generic (tables, columns and values come from the annotations); the contest
templates (wins, head-to-head, ...) are used only when the annotations declare a contest table.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from services.seq2sql.korean import particle
from services.seq2sql.linking import ValueIndex
from services.seq2sql.program import CONTEST_SKETCHES, GENERIC_SKETCHES, REFUSE, Program
from services.seq2sql.schema import Column, Schema, Table

AGG_WORDS = {
    "sum": ["총", "합계", "전체", "누적", "총합", "다 합친"],
    "avg": ["평균", "평균", "평균적인"],
    "max": ["최대", "최고", "최다", "한 경기 최다"],  # '가장 많은 X 선수' is a ranking of players, not a max
    "min": ["최소", "최저", "한 경기 최소"],
}
AGG_SUFFIX = {"sum": ["합계", "총합", "합", "총량"], "avg": ["평균", "평균값"], "max": ["최댓값", "최대값", "최고 기록"],
              "min": ["최솟값", "최소값", "최저 기록"]}
OP_WORDS = {">=": ["이상"], "<=": ["이하"], ">": ["초과", "넘는", "보다 많은"], "<": ["미만", "보다 적은", "안 되는"]}
HIGH = ["많은", "높은", "큰"]
LOW = ["적은", "낮은", "작은"]
OUT_OF_SCHEMA = ["연봉", "나이", "키", "생일", "몸무게", "날씨", "주가", "이메일", "전화번호", "국적", "혈액형", "연락처",
                 "MBTI", "취미", "계약 기간", "시청자 수", "상금", "후원사", "감독", "코치", "팬 수", "별명", "출신 학교",
                 "연습 시간", "평점", "리뷰", "배송비", "환불", "쿠폰", "주소", "우편번호", "색상", "무게",
                 "사이즈", "제조사", "원산지", "할인율", "포인트", "비밀번호", "성별", "직업", "경력", "우승 상금", "소속사"]
CHITCHAT = ["안녕", "안녕하세요", "너 누구야?", "오늘 점심 뭐 먹지", "심심해", "고마워", "농담 하나 해줘",
            "노래 추천해줘", "내일 비 와?", "지금 몇 시야?", "배고파", "사랑해", "뭐 할 수 있어?", "ㅋㅋㅋ",
            "주식 살까?", "영화 추천", "번역해줘", "hello", "what can you do"]


@dataclass
class Example:
    question: str
    program: Program


class _Gen:
    """Samples the pieces of a question: names, values with particles, numbers, endings."""

    def __init__(self, schema: Schema, index: ValueIndex, rng: random.Random) -> None:
        self.schema = schema
        self.index = index
        self.rng = rng
        self.values = {c.ref: index.values_of(c.ref) for c in schema.all_columns() if c.link_values}

    def pick(self, items: list):  # noqa: ANN201 - any item type
        return self.rng.choice(items)

    def tname(self, table: Table) -> str:
        return self.pick(table.names)

    def cname(self, column: Column) -> str:
        return self.pick(column.names)

    def value_word(self, ref: str) -> tuple[str, object] | None:
        values = self.values.get(ref) or []
        if not values:
            return None
        value = self.pick(values)
        column = self.schema.column(ref)
        words = [str(value)] + column.values.get(str(value), []) * 2
        word = self.pick(words)
        if re.match(r"^\d{4} ", word) and self.rng.random() < 0.5:
            word = word.split(" ", 1)[1]  # '2026 여름 리그' -> '여름 리그'
        return word, value

    def entities(self) -> list[Table]:
        """Tables a question can be about (those with a text display column)."""
        return [t for t in self.schema.tables.values()
                if t.columns[t.display].kind == "text" or self.schema.contest and t.name == self.schema.contest.table]

    def filter_options(self, table: str, max_hops: int = 2) -> list[Column]:
        out = []
        for column in self.schema.all_columns():
            if not column.link_values or not self.values.get(column.ref):
                continue
            path = self.schema.join_path(table, column.table)
            if path is None or len(path) > max_hops:
                continue
            if column.table == table and column.name == self.schema.tables[table].display:
                continue
            out.append(column)
        return out

    def filter_phrase(self, table: str, count: int | None = None) -> tuple[str, list[tuple[str, str, object]]]:
        """A phrase like 'T1 소속' or '서포터' with its filters, or '' (no filter)."""
        options = self.filter_options(table)
        if count is None:
            count = self.rng.choices([0, 1, 2], weights=[3, 5, 1])[0]
        if not options or count == 0:
            return "", []
        chosen = self.rng.sample(options, min(count, len(options)))
        words, filters = [], []
        for column in chosen:
            picked = self.value_word(column.ref)
            if picked is None:
                continue
            word, value = picked
            owner = self.schema.tables[column.table]
            if column.name == owner.display:
                word = self.pick([word, word, f"{word} 소속" if owner.name != table else word, particle(word, "의"),
                                  f"{word} {self.tname(owner)}"])
            elif column.table != table:
                word = self.pick([word, f"{word}에서", particle(word, "의")])
            words.append(word)
            filters.append((column.ref, "=", value))
        return " ".join(words), filters

    def number(self, column: Column | None) -> tuple[str, float]:
        values = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30]
        if column is not None and column.unit == "원":
            n = self.pick([5000, 10000, 20000, 30000, 50000, 100000, 200000])
            text = self.pick([f"{n}원", f"{n // 10000}만원" if n >= 10000 and n % 10000 == 0 else f"{n}원", f"{n:,}원"])
            return text, float(n)
        n = self.pick(values)
        unit = column.unit if column is not None and column.unit else ""
        return f"{n}{unit}", float(n)

    def date_phrase(self) -> tuple[str, tuple[str | None, str | None]]:
        month = self.rng.randint(1, 11)
        start, end = f"2026-{month:02d}-01", f"2026-{month + 1:02d}-01"
        return self.pick([
            (f"{month}월", (start, end)), (f"{month}월에", (start, end)), (f"2026년 {month}월", (start, end)),
            (f"{month}월 이후", (start, None)), (f"{month}월부터", (start, None)), (f"{month}월 이전", (None, start)),
        ])


def _end(gen: _Gen, core: str, kind: str) -> str:
    """Attach a formal, polite, casual or keyword-only ending to a noun-phrase question."""
    endings = {
        "what": ["", "", "?", particle(core, "은")[len(core):] + "?", " 알려줘", " 알려 주세요", " 알려주십시오",
                 " 보여줘", " 얼마야?", " 얼마예요?", " 어떻게 돼?", " 어떻게 되나요?", " 궁금해", " 좀 알려줄래?",
                 particle(core, "이야")[len(core):] + "?", " 뭐야?", " 조회", " 확인해 줘"],
        "list": ["", "", " 목록", " 보여줘", " 알려줘", " 누구야?", " 뭐 있어?", " 알려 주세요", " 보여 주십시오",
                 " 리스트", " 다 보여줘", " 조회해 줘", " 어디야?", " 좀 보여줄래?", "들", " 전부", " 누구누구 있어?",
                 " 어디어디야?", " 뭐뭐 있어?", " 누구예요?"],
    }[kind]
    return (core + gen.pick(endings)).strip()


def _count_end(gen: _Gen, core: str, counter: str) -> str:
    return core + gen.pick([
        f" 몇 {counter}야?", f" 몇 {counter}이야?", " 수", " 수는?", f" 몇 {counter}인가요?", f" 몇 {counter}입니까?",
        " 개수", " 개수 알려줘", f" 몇 {counter}?", f" 총 몇 {counter}?", f" 몇 {counter} 있어?", " 얼마나 돼?",
        " 얼마나 있어요?", f" 전부 몇 {counter}", " 수 세어줘", f"는 몇 {counter}", f" 몇{counter}임",
    ])


def _generic(gen: _Gen, sketch: str) -> Example | None:
    schema, rng = gen.schema, gen.rng
    entities = gen.entities()
    measures = schema.measures()
    if sketch == "list":
        table = gen.pick(entities)
        if rng.random() < 0.3:
            cols = [m for m in measures if schema.join_path(table.name, m.table) is not None
                    and len(schema.join_path(table.name, m.table) or []) <= 1 and m.table == table.name]
            if cols:
                column = gen.pick(cols)
                num_text, n = gen.number(column)
                op = gen.pick(list(OP_WORDS))
                opw = gen.pick(OP_WORDS[op])
                c = gen.cname(column)
                core = gen.pick([f"{c} {num_text} {opw}인 {gen.tname(table)}",
                                 f"{particle(c, '이')} {num_text} {opw}인 {gen.tname(table)}",
                                 f"{gen.tname(table)} 중 {c} {num_text} {opw}"])
                return Example(_end(gen, core, "list"), Program("list", table=table.name, column=column.ref,
                                                               having=(op, n)))
        phrase, filters = gen.filter_phrase(table.name, rng.choice([0, 1, 1, 1, 2]))
        if not filters:
            t = gen.tname(table)
            core = gen.pick([f"{t} 전부", f"모든 {t}", f"{t} 이름 전부", f"전체 {t}", f"{t} 다", f"{t} 목록 전체"])
            return Example(_end(gen, core, "list"), Program("list", table=table.name))
        t = gen.tname(table)
        core = gen.pick([f"{phrase} {t}", f"{phrase} {t}", f"{t} 중에 {phrase}", f"{phrase}인 {t}"])
        return Example(_end(gen, core, "list"), Program("list", table=table.name, filters=filters))
    if sketch == "count":
        own = [m for m in measures if m.table in schema.tables]
        if own and rng.random() < 0.25:
            column = gen.pick(own)
            table = schema.tables[column.table]
            num_text, n = gen.number(column)
            op = gen.pick(list(OP_WORDS))
            c, t = gen.cname(column), gen.tname(table)
            core = gen.pick([f"{c} {num_text} {gen.pick(OP_WORDS[op])}인 {t}", f"{particle(c, '이')} {num_text} {gen.pick(OP_WORDS[op])}인 {t}",
                             f"{c} {num_text} {gen.pick(OP_WORDS[op])} 기록한 {t}", f"한 번에 {c} {num_text} {gen.pick(OP_WORDS[op])}"])
            return Example(_count_end(gen, core, table.counter), Program("count", table=table.name, column=column.ref,
                                                                         having=(op, n)))
        table = gen.pick(list(schema.tables.values()))
        phrase, filters = gen.filter_phrase(table.name)
        date_text, date_range = ("", None)
        has_date = any(c.kind == "date" for c in table.columns.values())
        if (has_date or schema.contest and table.name == schema.contest.table) and rng.random() < 0.3:
            date_text, date_range = gen.date_phrase()
        t = gen.tname(table)
        core = " ".join(x for x in [date_text, phrase, t] if x)
        if rng.random() < 0.2:
            core = gen.pick([f"{t} 중 {phrase}" if phrase else f"전체 {t}", f"등록된 {core}", f"{core} 총"])
        return Example(_count_end(gen, core, table.counter),
                       Program("count", table=table.name, filters=filters, date_range=date_range))
    if sketch == "lookup":
        table = gen.pick([t for t in entities if t.columns[t.display].link_values] or entities)
        display = f"{table.name}.{table.display}"
        picked = gen.value_word(display)
        if picked is None:
            return None
        word, value = picked
        cols = [c for c in table.columns.values() if c.kind in ("text", "number", "date") and c.name != table.display]
        parents = [schema.tables[c.fk[0]] for c in table.columns.values() if c.fk and c.fk[0] in schema.tables]
        choices = [(c.ref, gen.cname(c)) for c in cols] + [(f"{p.name}.{p.display}", gen.tname(p)) for p in parents]
        if not choices:
            return None
        ref, cword = gen.pick(choices)
        if ref.endswith("." + schema.tables[ref.split(".")[0]].display) and rng.random() < 0.5:
            cword = gen.pick([f"소속 {cword}", f"어느 {cword}", f"속한 {cword}", f"{cword} 이름", f"뛰는 {cword}"])
        core = gen.pick([f"{word} {cword}", f"{particle(word, '의')} {cword}", f"{word} {cword}",
                         f"{particle(word, '은')} {cword}", f"{word} 선수 {cword}" if table.counter == "명" else f"{word} {cword}"])
        tail = gen.pick(["", "?", particle(cword, "이")[len(cword):] + " 뭐야?", particle(cword, "은")[len(cword):] + "?",
                         " 알려줘", " 어디야?", " 뭐예요?", " 어떻게 돼?", " 좀 알려 주세요", " 뭔지 궁금해", " 확인"])
        return Example((core + tail).strip(), Program("lookup", table=table.name, column=ref,
                                                     filters=[(display, "=", value)]))
    if not measures:
        return None
    if sketch == "agg":
        column = gen.pick(measures)
        agg = gen.pick(["sum", "avg", "avg", "max", "min"])
        phrase, filters = gen.filter_phrase(column.table)
        date_text, date_range = ("", None)
        if rng.random() < 0.2:
            date_text, date_range = gen.date_phrase()
        c = gen.cname(column)
        if not phrase and rng.random() < 0.3:
            owners = [schema.tables[p] for _, _, p, _ in schema.edges.get(column.table, [])
                      if schema.tables[p].columns[schema.tables[p].display].kind == "text"]
            if owners:
                phrase = gen.pick([f"전체 {gen.tname(gen.pick(owners))}", f"{gen.tname(gen.pick(owners))}들", "전체", "모든"])
        pre = " ".join(x for x in [date_text, phrase] if x)
        core = gen.pick([f"{pre} {gen.pick(AGG_WORDS[agg])} {c}", f"{pre} {c} {gen.pick(AGG_SUFFIX[agg])}",
                         f"{pre} {gen.pick(AGG_WORDS[agg])} {c}"]).strip()
        if agg == "sum" and rng.random() < 0.3:
            core = f"{pre} {c} 다 합치면".strip()
        if agg == "avg" and rng.random() < 0.3:
            core = f"{pre} {c} 평균 몇".strip()
        return Example(_end(gen, core, "what"), Program("agg", column=column.ref, agg=agg, filters=filters,
                                                       date_range=date_range))
    if sketch in ("top", "group_top", "having"):
        column = gen.pick(measures)
        owners = [t for t in entities if t.columns[t.display].kind == "text"
                  and schema.join_path(column.table, t.name) is not None
                  and len(schema.join_path(column.table, t.name) or []) <= 1]
        if sketch != "top":
            owners = [t for t in owners if t.name != column.table]
        if not owners:
            return None
        table = gen.pick(owners)
        t, c = gen.tname(table), gen.cname(column)
        phrase, filters = gen.filter_phrase(column.table, rng.choice([0, 0, 1]))
        filters = [f for f in filters if not f[0].startswith(table.name + "." + table.display)]
        order = gen.pick(["desc", "desc", "asc"])
        adj = gen.pick(column.high or HIGH) if order == "desc" else gen.pick(column.low or LOW)
        limit = gen.pick([None, None, 3, 5, 10, 2])
        lim = "" if limit is None else gen.pick([f" {limit}{table.counter}", f" 상위 {limit}{table.counter}",
                                                 f" top {limit}", f" {limit}위까지"])
        sup = gen.pick(["가장", "제일", "젤", "최고로"])
        if sketch == "top":
            if column.table != table.name:
                most = "최다" if order == "desc" else "최소"
                core = gen.pick([f"{phrase} 한 경기 {c} {most} 기록 {t}", f"{phrase} 한 번에 {c} {sup} {adj} {t}",
                                 f"{phrase} 단일 {c} {sup} {adj} 기록"]) + lim
            else:
                core = gen.pick([f"{phrase} {c} {sup} {adj} {t}", f"{phrase} {sup} {adj} {t}",
                                 f"{phrase} {c} {adj} 순으로 {t}", f"{phrase} {t} {c} 순위"]) + lim
            return Example(_end(gen, core.strip(), "list"),
                           Program("top", table=table.name, column=column.ref, order=order, limit=limit or 1,
                                   filters=filters))
        if sketch in ("group_top", "having") and rng.random() < 0.3:
            pairs = [(t2, child) for t2 in entities for child, _ in schema.children(t2.name)
                     if t2.columns[t2.display].kind == "text"]
            if pairs:
                table, fact = gen.pick(pairs)
                t, f = gen.tname(table), gen.tname(schema.tables[fact])
                counter = schema.tables[fact].counter
                if sketch == "group_top":
                    core = gen.pick([f"{phrase} {f} {sup} 많이 한 {t}" if order == "desc" else f"{phrase} {f} {sup} 적게 한 {t}",
                                     f"{phrase} {f} 수 {sup} {adj} {t}", f"{phrase} {particle(f, '이')} {sup} {adj} {t}",
                                     f"{phrase} {f} 횟수 순위 {t}"]) + lim
                    return Example(_end(gen, core.strip(), "list"),
                                   Program("group_top", table=table.name, column=f"{fact}.*", agg="count", order=order,
                                           limit=limit or 1, filters=filters))
                n = gen.pick([2, 3, 5, 10, 20, 30])
                op = gen.pick(list(OP_WORDS))
                core = gen.pick([f"{f} {n}{counter} {gen.pick(OP_WORDS[op])} 한 {t}", f"{f} {n}번 {gen.pick(OP_WORDS[op])} 한 {t}",
                                 f"{f} 수가 {n} {gen.pick(OP_WORDS[op])}인 {t}", f"{f} 기록 {n}{counter} {gen.pick(OP_WORDS[op])} {t}"])
                return Example(_end(gen, core.strip(), "list"),
                               Program("having", table=table.name, column=f"{fact}.*", agg="count", having=(op, float(n))))
        agg = gen.pick(["sum", "sum", "avg"])
        aw = "평균 " if agg == "avg" else gen.pick(["", "총 ", "누적 ", "합계 "])
        if sketch == "group_top":
            core = gen.pick([f"{phrase} {aw}{c} {sup} {adj} {t}", f"{phrase} {aw}{c} {sup} 많이 한 {t}" if order == "desc"
                             else f"{phrase} {aw}{c} {sup} 적게 한 {t}", f"{phrase} {aw}{c} 1위 {t}" if order == "desc"
                             else f"{phrase} {aw}{c} 꼴찌 {t}", f"{phrase} {t}별 {aw}{c} 순위",
                             f"{phrase} {aw}{c} {adj} 순서로 {t}"]) + lim
            return Example(_end(gen, core.strip(), "list"),
                           Program("group_top", table=table.name, column=column.ref, agg=agg, order=order,
                                   limit=limit or 1, filters=filters))
        num_text, n = gen.number(column)
        op = gen.pick(list(OP_WORDS))
        opw = gen.pick(OP_WORDS[op])
        own_values = [col for col in gen.filter_options(table.name, 0)]
        if own_values and rng.random() < 0.35:
            picked = gen.value_word(gen.pick(own_values).ref)
            if picked:
                t = picked[0]
                filters = filters + [(next(col.ref for col in own_values if picked[1] in gen.values[col.ref]), "=", picked[1])]
        core = gen.pick([f"{phrase} {aw}{c} {num_text} {opw}인 {t}", f"{phrase} {c} {aw.strip() or '총'} {num_text} {opw} {t}",
                         f"{phrase} {aw}{particle(c, '이')} {num_text} {opw}인 {t}", f"{t} 중 {aw}{c} {num_text} {opw}"])
        return Example(_end(gen, core.strip(), "list"),
                       Program("having", table=table.name, column=column.ref, agg=agg, having=(op, n), filters=filters))
    if sketch == "group":
        groupable = [c for c in schema.all_columns() if c.link_values and c.kind == "text"]
        column = gen.pick(measures + [None, None])
        if column is None:
            table = gen.pick(entities)
            groups = [g for g in groupable if schema.join_path(table.name, g.table) is not None
                      and len(schema.join_path(table.name, g.table) or []) <= 1 and g.name != table.display]
            if not groups:
                return None
            g = gen.pick(groups)
            gname = gen.cname(g) if g.name != schema.tables[g.table].display else gen.tname(schema.tables[g.table])
            core = gen.pick([f"{gname}별 {gen.tname(table)} 수", f"{gname}마다 {gen.tname(table)} 몇 {table.counter}이야", f"{gname}마다 {gen.tname(table)} 몇 {table.counter}",
                             f"{gname} 별로 {gen.tname(table)} 개수", f"{gname}별 {gen.tname(table)} 숫자"])
            return Example(_end(gen, core, "what"), Program("group", table=table.name, column=f"{table.name}.*",
                                                           agg="count", group=g.ref))
        groups = [g for g in groupable if schema.join_path(column.table, g.table) is not None
                  and len(schema.join_path(column.table, g.table) or []) <= 2
                  and not (g.table == column.table and g.name == schema.tables[g.table].display)]
        if not groups:
            return None
        g = gen.pick(groups)
        agg = gen.pick(["sum", "avg", "avg", "max"])
        gw = gen.cname(g) if g.name != schema.tables[g.table].display else gen.tname(schema.tables[g.table])
        core = gen.pick([f"{gw}별 {gen.pick(AGG_WORDS[agg])} {gen.cname(column)}",
                         f"{gw}별 {gen.cname(column)} {gen.pick(AGG_SUFFIX[agg])}",
                         f"{gw}마다 {gen.pick(AGG_WORDS[agg])} {gen.cname(column)}",
                         f"{gw} 별로 {gen.cname(column)} {gen.pick(AGG_SUFFIX[agg])}"])
        return Example(_end(gen, core, "what"), Program("group", column=column.ref, agg=agg, group=g.ref))
    if sketch == "never":
        pairs = [(t, child) for t in entities for child, _ in schema.children(t.name)]
        if not pairs:
            return None
        table, fact = gen.pick(pairs)
        f, t = gen.tname(schema.tables[fact]), gen.tname(table)
        core = gen.pick([f"{f} 없는 {t}", f"한 번도 {f} 없는 {t}", f"{particle(f, '이')} 하나도 없는 {t}",
                         f"{f} 기록이 전혀 없는 {t}", f"{f}에 한 번도 안 나온 {t}", f"{f} 안 한 {t}",
                         f"{f} 0건인 {t}", f"{f}에 없는 {t}"])
        return Example(_end(gen, core, "list"), Program("never", table=table.name, column=f"{fact}.*"))
    return None


def _contest(gen: _Gen, sketch: str) -> Example | None:
    schema, rng = gen.schema, gen.rng
    entity = schema.tables[schema.contest_entity]  # type: ignore[index]
    names = gen.values.get(f"{entity.name}.{entity.display}") or []
    if len(names) < 2:
        return None
    x, y = rng.sample(names, 2)
    ctable = schema.contest.table  # type: ignore[union-attr]
    options = gen.filter_options(ctable, 0)
    phrase, filters = "", []
    if options and rng.random() < 0.35:
        picked = gen.value_word(gen.pick(options).ref)
        column = next(c for c in options if picked and picked[1] in gen.values[c.ref]) if picked else None
        if picked and column:
            phrase = gen.pick([picked[0], f"{picked[0]}에서", particle(picked[0], "의")])
            filters = [(column.ref, "=", picked[1])]
    filters = [f for f in filters if not f[0].startswith(entity.name + ".")]
    if not filters:
        phrase = ""
    date_text, date_range = ("", None)
    if rng.random() < 0.2:
        date_text, date_range = gen.date_phrase()
    pre = " ".join(p for p in [date_text, phrase] if p)
    X = f"{x} {entity.ko}" if rng.random() < 0.15 else str(x)
    opp = rng.random() < 0.2
    teams = [x, y] if opp else [x]
    vs = gen.pick([f"{y} 상대로", f"{particle(str(y), '과')} 붙어서", f"{y}전에서", f"{y} 상대"]) if opp else ""
    if sketch == "wins":
        core = gen.pick([f"{particle(X, '이')} {vs} 이긴 경기 몇 개야?", f"{X} {vs} 승리 횟수", f"{X} {vs} 몇 번 이겼어?",
                         f"{X} {vs} 승수", f"{particle(X, '은')} {vs} 몇 승?", f"{particle(X, '이')} {vs} 이긴 횟수",
                         f"{X} {vs} 이긴 판 수", f"{particle(X, '이')} {vs} 승리한 경기 수는?", f"{X} {vs} 몇승임",
                         f"{particle(X, '이')} {vs} 몇 번이나 이겼나요?"])
    elif sketch == "losses":
        core = gen.pick([f"{X} {vs} 패배 수", f"{X} {vs} 몇 번 졌어?", f"{particle(X, '이')} {vs} 진 경기 몇 개",
                         f"{X} {vs} 패 수", f"{X} {vs} 몇 패야?", f"{particle(X, '이')} {vs} 패배한 경기 수",
                         f"{X} {vs} 진 횟수 알려줘", f"{particle(X, '은')} {vs} 몇 번 패했나요?"])
    elif sketch == "games":
        core = gen.pick([f"{X} {vs} 경기 수", f"{particle(X, '이')} {vs} 치른 경기 몇 개?", f"{X} {vs} 총 몇 경기 했어?",
                         f"{X} {vs} 경기 몇 번 했나요", f"{particle(X, '이')} {vs} 뛴 경기 수", f"{X} {vs} 출전 경기 수",
                         f"{particle(X, '은')} {vs} 몇 경기 했어?"])
    elif sketch == "win_rate":
        core = gen.pick([f"{X} {vs} 승률", f"{X} {vs} 승률 얼마야?", f"{particle(X, '의')} {vs} 승률은?",
                         f"{X} {vs} 이길 확률", f"{X} {vs} 승률 몇 퍼센트?", f"{particle(X, '은')} {vs} 승률이 어떻게 돼?"])
    elif sketch == "h2h":
        teams = [x, y]
        core = gen.pick([f"{particle(X, '이랑')} {y} 상대 전적", f"{X} 대 {y} 전적", f"{X} vs {y}",
                         f"{particle(X, '과')} {particle(str(y), '의')} 맞대결 결과", f"{X} {y} 상대전적 알려줘",
                         f"{particle(X, '과')} {y} 중 누가 더 많이 이겼어?", f"{X} {y} 맞대결 승수",
                         f"{particle(X, '랑')} {y} 붙으면 누가 이겨?"])
    elif sketch == "most_wins":
        teams = []
        order = gen.pick(["desc", "desc", "asc"])
        limit = gen.pick([None, None, 3, 5])
        lim = "" if limit is None else gen.pick([f" {limit}팀", f" 상위 {limit}", f" top {limit}"])
        if order == "desc":
            core = gen.pick(["가장 많이 이긴 팀", "승리 제일 많은 팀", "최다승 팀", "승수 1위 팀", "다승 순위",
                             "제일 많이 이긴 팀", "승리 횟수 가장 많은 팀", "제일 잘하는 팀", "가장 강한 팀"]) + lim
        else:
            core = gen.pick(["가장 적게 이긴 팀", "승리 제일 적은 팀", "승수 꼴찌 팀", "최소 승리 팀"]) + lim
        return Example(_end(gen, f"{pre} {core}".strip(), "list"),
                       Program("most_wins", order=order, limit=limit or 1, filters=filters, date_range=date_range))
    elif sketch == "never_won":
        core = gen.pick(["한 번도 이기지 못한 팀", "승리가 없는 팀", "한 번도 못 이긴 팀", "무승 팀", "1승도 못 한 팀",
                         "이긴 적 없는 팀", "아직 승리 없는 팀"])
        return Example(_end(gen, f"{pre} {core}".strip(), "list"),
                       Program("never_won", filters=filters, date_range=date_range))
    elif sketch == "recent":
        limit = gen.pick([None, 3, 5, 10])
        lim = "" if limit is None else f" {limit}경기"
        core = gen.pick([f"{X} 최근 경기{lim}", f"{X} 최근{lim} 결과", f"{X} 경기 결과{lim} 보여줘",
                         f"{particle(X, '의')} 최근{lim} 경기 기록", f"{X} 요즘 경기{lim} 어땠어?"])
        return Example(f"{pre} {core}".strip(), Program("recent", teams=[x], limit=limit or 5, filters=filters,
                                                        date_range=date_range))
    else:
        return None
    return Example(re.sub(r"\s+", " ", f"{pre} {core}").strip(),
                   Program(sketch, teams=teams, filters=filters, date_range=date_range))


def _refuse(gen: _Gen) -> Example:
    schema = gen.schema
    known = {n for c in schema.all_columns() for n in c.names} | {n for t in schema.tables.values() for n in t.names}
    nouns = [n for n in OUT_OF_SCHEMA if n not in known]
    entity = gen.pick(gen.entities())
    picked = gen.value_word(f"{entity.name}.{entity.display}") if entity.columns[entity.display].link_values else None
    who = picked[0] if picked else gen.tname(entity)
    noun = gen.pick(nouns)
    question = gen.pick([
        f"{particle(who, '의')} {noun} 알려줘", f"{who} {noun} 얼마야?", f"{gen.tname(entity)} {noun} 평균",
        f"{noun} 제일 높은 {gen.tname(entity)}", f"{particle(noun, '이')} 뭐야?", gen.pick(CHITCHAT),
        f"{who} {noun}", f"{gen.tname(entity)}별 {noun}", gen.pick(CHITCHAT),
        f"{who} {particle(noun, '이')} 누구야", f"{who} {particle(noun, '은')} 어디야?", f"{gen.tname(entity)} {noun} 제일 많은 곳",
        f"{noun} 순위", f"{particle(who, '의')} {noun} 정보 좀", f"{who} {noun} 몇이야",
    ])
    return Example(question, Program(REFUSE))


# -- augmentation: what people do to questions ---------------------------------------------------
_PARTICLES = re.compile(r"(?<=[가-힣A-Za-z0-9])(이|가|을|를|은|는|의|에서)(?=\s)")
_COLLOQUIAL = [("몇 개야?", "몇개임?"), ("알려줘", "알려줘요"), ("보여줘", "보여죠"), ("몇 명이야?", "몇명?"),
               ("이야?", "임?"), ("야?", "냐?"), ("알려 주세요", "알려주세용"), ("얼마야?", "얼마임"),
               ("?", ""), ("보여줘", "ㄱㄱ"), ("어떻게 돼?", "어케 됨?"), ("몇 번", "몇번")]


def _drop_particles(q: str, rng: random.Random) -> str:
    return _PARTICLES.sub(lambda m: "" if rng.random() < 0.6 else m.group(0), q)


def _spacing(q: str, rng: random.Random) -> str:
    spaces = [i for i, ch in enumerate(q) if ch == " "]
    if spaces and rng.random() < 0.7:
        i = rng.choice(spaces)
        return q[:i] + q[i + 1:]
    if len(q) > 3:
        i = rng.randrange(1, len(q) - 1)
        return q[:i] + " " + q[i:]
    return q


def _typo(q: str, rng: random.Random) -> str:
    hangul = [i for i, ch in enumerate(q) if "가" <= ch <= "힣"]
    if len(hangul) < 4:
        return q
    i = rng.choice(hangul[-4:])  # typos in the words around the ending, not in names
    return q[:i] + q[i + 1:] if rng.random() < 0.5 else q[:i] + q[i] + q[i:]


def _colloquial(q: str, rng: random.Random) -> str:
    for old, new in rng.sample(_COLLOQUIAL, len(_COLLOQUIAL)):
        if old in q:
            return q.replace(old, new, 1)
    return rng.choice(["혹시 ", "음 ", "그럼 ", "저기 ", ""]) + q + rng.choice(["", " 좀", "요", " ㅎㅎ"])


def _keywords(q: str, rng: random.Random) -> str:
    return re.sub(r"\s*(알려\s?줘|알려\s?주세요|보여\s?줘|보여\s?주세요|궁금해|뭐야\?|어떻게 돼\?|\?)$", "", q)


AUGMENTERS: list[Callable[[str, random.Random], str]] = [_drop_particles, _spacing, _typo, _colloquial, _keywords]


def synthesize(schema: Schema, index: ValueIndex, per_sketch: int, seed: int = 13,
               augment: float = 0.5) -> list[Example]:
    """``per_sketch`` examples for each sketch this schema supports (plus refusals), some augmented."""
    rng = random.Random(seed)
    gen = _Gen(schema, index, rng)
    sketches = list(GENERIC_SKETCHES) + (list(CONTEST_SKETCHES) if schema.contest else [])
    out: list[Example] = []
    for sketch in sketches:
        made, tries = 0, 0
        while made < per_sketch and tries < per_sketch * 20:
            tries += 1
            example = _contest(gen, sketch) if sketch in CONTEST_SKETCHES else _generic(gen, sketch)
            if example is None:
                continue
            example.question = re.sub(r"\s+", " ", example.question).strip()
            if rng.random() < augment:
                for fn in rng.sample(AUGMENTERS, rng.choice([1, 1, 2])):
                    example.question = fn(example.question, rng)
            out.append(example)
            made += 1
    for _ in range(per_sketch * 2):
        out.append(_refuse(gen))
    rng.shuffle(out)
    return out
