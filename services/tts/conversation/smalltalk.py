"""Small talk for off-script turns: the closest prompt of a retrieval corpus, answered in character.

The corpus is the repo's own ``data/conversation/smalltalk.yaml`` plus the greetings and conversations
of the English chatterbot-corpus (BSD), keeping only answers that do not speak as a computer.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from common.encoders import SentenceEncoder

logger = logging.getLogger("malgeul.tts.conversation.smalltalk")

_CHATTERBOT_FILES = ("greetings.yml", "conversations.yml")
# Answers in the chatterbot corpus that break a human role-play character.
_OUT_OF_CHARACTER = re.compile(r"\b(robot|computer|software|bot|electricity|human|program|machine|ai|masked|hardware|chatbot)\b", re.I)


@dataclass(frozen=True)
class SmallTalkReply:
    text: str
    score: float
    prompt: str


def chatterbot_pairs() -> list[tuple[str, str]]:
    """(prompt, reply) pairs of the packaged chatterbot-corpus English greetings and conversations."""
    spec = importlib.util.find_spec("chatterbot_corpus")
    if spec is None or not spec.submodule_search_locations:
        logger.warning("chatterbot-corpus is not installed; small talk uses the repo's corpus only")
        return []
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "english"
    pairs = []
    for name in _CHATTERBOT_FILES:
        doc = yaml.safe_load((folder / name).read_text(encoding="utf-8")) or {}
        for conversation in doc.get("conversations", []):
            for prompt, reply in zip(conversation, conversation[1:]):
                if (
                    isinstance(prompt, str)
                    and isinstance(reply, str)
                    and len(reply.split()) >= 3  # one-word answers ("Blue") make poor small talk
                    and not _OUT_OF_CHARACTER.search(reply)
                ):
                    pairs.append((prompt.strip(), reply.strip()))
    return pairs


def load_pairs(path: Path) -> list[tuple[str, str]]:
    """(prompt, reply) pairs of the repo's small-talk file followed by the chatterbot ones."""
    pairs = []
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        for prompt in entry["say"]:
            pairs.append((prompt, entry["reply"]))
    return pairs + chatterbot_pairs()


class SmallTalk:
    """Retrieves a reply for an utterance, or None when nothing in the corpus is close enough."""

    def __init__(self, pairs: list[tuple[str, str]], encoder: SentenceEncoder, threshold: float) -> None:
        self.pairs = pairs
        self.encoder = encoder
        self.threshold = threshold
        self._vectors = encoder.encode([p for p, _ in pairs], kind="passage")
        logger.info("small-talk corpus indexed", extra={"pairs": len(pairs)})

    def reply(self, text: str) -> SmallTalkReply | None:
        if not text.strip() or not self.pairs:
            return None
        scores = self._vectors @ self.encoder.encode([text], kind="query")[0]
        best = int(scores.argmax())
        if float(scores[best]) < self.threshold:
            return None
        prompt, reply = self.pairs[best]
        return SmallTalkReply(reply, float(scores[best]), prompt)
