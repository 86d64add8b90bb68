"""What the learner meant: the closest scripted intent by sentence embedding plus surface similarity.

Each intent is scored by its best phrasing (the script's phrasings and their recogniser-style variants).
Intents of the current scene and the common ones (repeat, help, ...) compete as they are; intents of the
topic's other scenes compete with a penalty, so a learner who jumps ahead ("the check, please" while
ordering) is still followed. Below the acceptance threshold the utterance is off-script.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from common.encoders import SentenceEncoder
from services.tts.conversation.scripts import Intent, ScriptBook
from services.tts.conversation.text import char_ngrams, ngram_cosine, spoken_variants

logger = logging.getLogger("malgeul.tts.conversation.understanding")

Kind = Literal["scene", "common", "off_script"]


@dataclass(frozen=True)
class Interpretation:
    """The recognised intent (or none) with the scene it belongs to and how sure we are."""

    kind: Kind
    intent: Intent | None
    scene: str | None  # the scene of a scene intent; None for common intents and off-script
    score: float
    phrasing: str | None  # the script phrasing closest to what was said

    @property
    def off_script(self) -> bool:
        return self.kind == "off_script"


@dataclass(frozen=True)
class MatcherSettings:
    """Weights and thresholds (set on the dev set; see docs/conversation.md)."""

    semantic_weight: float = 0.7
    accept: float = 0.55
    other_scene_penalty: float = 0.12
    common_penalty: float = 0.0
    margin: float = 0.0


@dataclass(frozen=True)
class _Row:
    scene: str | None
    intent: Intent
    phrasing: str  # the script phrasing this row (or variant) belongs to


class _Index:
    """Embeddings and n-grams of every phrasing of one topic (plus the common intents)."""

    def __init__(self, rows: list[_Row], texts: list[str], encoder: SentenceEncoder) -> None:
        self.rows = rows
        self.vectors = encoder.encode(texts, kind="passage")
        self.grams = [char_ngrams(t) for t in texts]
        self.scene = np.array([r.scene or "" for r in rows])
        self.common = np.array([r.scene is None for r in rows])


class IntentMatcher:
    """Recognises learner intents in a scene of a topic."""

    def __init__(self, book: ScriptBook, encoder: SentenceEncoder, settings: MatcherSettings | None = None):
        self.book = book
        self.encoder = encoder
        self.settings = settings or MatcherSettings()
        self._indexes: dict[str, _Index] = {}
        for topic in book.topics.values():
            rows: list[_Row] = []
            texts: list[str] = []
            intents = [(scene.id, i) for scene in topic.scenes.values() for i in scene.intents]
            intents += [(None, i) for i in book.common]
            for scene_id, intent in intents:
                for phrasing in intent.phrasings:
                    for text in [phrasing, *spoken_variants(phrasing)]:
                        rows.append(_Row(scene_id, intent, phrasing))
                        texts.append(text)
            self._indexes[topic.id] = _Index(rows, texts, encoder)
        logger.info("intent index built", extra={"topics": len(self._indexes), "encoder": encoder.name})

    def interpret(self, topic: str, scene: str, text: str) -> Interpretation:
        """The intent meant by ``text`` in ``scene`` of ``topic``, or an off-script interpretation."""
        return self.interpret_many(topic, scene, [text])[0]

    def interpret_many(self, topic: str, scene: str, texts: list[str]) -> list[Interpretation]:
        index = self._indexes[topic]
        s = self.settings
        semantic = self.encoder.encode(texts, kind="query") @ index.vectors.T
        results = []
        for row_scores, text in zip(semantic, texts, strict=True):
            grams = char_ngrams(text)
            lexical = np.array([ngram_cosine(grams, g) for g in index.grams], dtype=np.float32)
            scores = s.semantic_weight * row_scores + (1 - s.semantic_weight) * lexical
            elsewhere = ~index.common & (index.scene != scene)
            scores = scores - s.other_scene_penalty * elsewhere - s.common_penalty * index.common
            results.append(self._decide(index, scores, text))
        return results

    def _decide(self, index: _Index, scores: np.ndarray, text: str) -> Interpretation:
        order = np.argsort(-scores)
        best = int(order[0])
        row = index.rows[best]
        score = float(scores[best])
        if not text.strip() or score < self.settings.accept:
            return Interpretation("off_script", None, None, score, None)
        if self.settings.margin > 0:
            for other in order[1:]:
                if index.rows[int(other)].intent.id != row.intent.id:
                    if score - float(scores[int(other)]) < self.settings.margin:
                        return Interpretation("off_script", None, None, score, None)
                    break
        kind: Kind = "common" if row.scene is None else "scene"
        return Interpretation(kind, row.intent, row.scene, score, row.phrasing)
