"""Scenario scripts: topics of role-play scenes read from readable YAML (``data/conversation/*.yaml``).

A topic file holds the roles, a start scene and its scenes. A scene has the bot's opening line, a short
re-prompt, a hint (what a learner could say) and the learner intents it expects; each intent lists
several phrasings, the bot's reply and the scene it leads to (none: the scene stays; ``end``: the role-play
is over). ``common.yaml`` holds the intents every scene understands (repeat, help, thanks, goodbye).
See docs/conversation.md for the format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

END = "end"
COMMON_FILE = "common.yaml"
NOT_TOPICS = {COMMON_FILE, "smalltalk.yaml"}  # evaluation sets live in eval/, not read as topics


class ScriptError(ValueError):
    """A scenario file is malformed; the message names the file and the place."""


@dataclass(frozen=True)
class Intent:
    """Something a learner may mean in a scene, with the ways they may say it."""

    id: str
    phrasings: tuple[str, ...]
    reply: str
    next: str | None = None  # None: stay in the scene; END: the role-play is over
    action: str | None = None  # common intents only: repeat, help, thanks, goodbye

    @property
    def canonical(self) -> str:
        """The phrasing offered as the natural way to say it (the first one)."""
        return self.phrasings[0]


@dataclass(frozen=True)
class Scene:
    """One step of a role-play: the bot speaks, the learner answers with one of the intents."""

    id: str
    bot: str
    reprompt: str
    hint: str
    intents: tuple[Intent, ...]


@dataclass(frozen=True)
class Topic:
    """A role-play situation (restaurant, hotel, ...) made of scenes."""

    id: str
    title: str
    title_ko: str
    level: str
    bot_role: str
    learner_role: str
    start: str
    closing: str
    scenes: dict[str, Scene] = field(default_factory=dict)


@dataclass(frozen=True)
class ScriptBook:
    """Every topic, plus the intents common to every scene."""

    topics: dict[str, Topic]
    common: tuple[Intent, ...]

    def scene(self, topic: str, scene: str) -> Scene:
        return self.topics[topic].scenes[scene]


def _text(node: dict[str, Any], key: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScriptError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _intent(node: Any, where: str, common: bool = False) -> Intent:
    if not isinstance(node, dict):
        raise ScriptError(f"{where}: an intent must be a mapping")
    intent_id = _text(node, "id", where)
    where = f"{where} intent {intent_id}"
    says = node.get("say")
    if not isinstance(says, list) or len(says) < 2 or not all(isinstance(s, str) and s.strip() for s in says):
        raise ScriptError(f"{where}: 'say' must list at least two phrasings")
    nxt = node.get("next")
    if nxt is not None and not isinstance(nxt, str):
        raise ScriptError(f"{where}: 'next' must be a scene id or 'end'")
    reply = node.get("reply", "")
    if not common:
        reply = _text(node, "reply", where)
    return Intent(
        id=intent_id,
        phrasings=tuple(s.strip() for s in says),
        reply=str(reply).strip(),
        next=nxt,
        action=node.get("action") if common else None,
    )


def load_topic(path: Path) -> Topic:
    """Read and check one topic file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScriptError(f"{path.name}: not valid YAML ({exc})") from exc
    if not isinstance(doc, dict):
        raise ScriptError(f"{path.name}: the file must be a mapping")
    where = path.name
    roles = doc.get("roles") or {}
    scenes: dict[str, Scene] = {}
    for scene_id, node in (doc.get("scenes") or {}).items():
        swhere = f"{where} scene {scene_id}"
        if not isinstance(node, dict):
            raise ScriptError(f"{swhere}: a scene must be a mapping")
        intents = tuple(_intent(i, swhere) for i in node.get("intents") or [])
        if not intents:
            raise ScriptError(f"{swhere}: a scene needs at least one intent")
        ids = [i.id for i in intents]
        if len(set(ids)) != len(ids):
            raise ScriptError(f"{swhere}: intent ids repeat")
        scenes[scene_id] = Scene(
            id=scene_id,
            bot=_text(node, "bot", swhere),
            reprompt=_text(node, "reprompt", swhere),
            hint=_text(node, "hint", swhere),
            intents=intents,
        )
    topic = Topic(
        id=_text(doc, "id", where),
        title=_text(doc, "title", where),
        title_ko=_text(doc, "title_ko", where),
        level=_text(doc, "level", where),
        bot_role=str(roles.get("bot", "partner")),
        learner_role=str(roles.get("learner", "learner")),
        start=_text(doc, "start", where),
        closing=_text(doc, "closing", where),
        scenes=scenes,
    )
    seen: set[str] = set()
    for scene in scenes.values():
        for intent in scene.intents:
            if intent.id in seen:
                raise ScriptError(f"{where}: intent id {intent.id!r} is used in two scenes")
            seen.add(intent.id)
    if topic.start not in scenes:
        raise ScriptError(f"{where}: start scene {topic.start!r} is not defined")
    for scene in scenes.values():
        for intent in scene.intents:
            if intent.next not in (None, END) and intent.next not in scenes:
                raise ScriptError(f"{where} scene {scene.id} intent {intent.id}: unknown next scene {intent.next!r}")
    return topic


def load_scripts(folder: Path) -> ScriptBook:
    """Every topic in ``folder`` (one YAML file each) and the common intents."""
    common_path = folder / COMMON_FILE
    common: tuple[Intent, ...] = ()
    if common_path.exists():
        doc = yaml.safe_load(common_path.read_text(encoding="utf-8")) or {}
        common = tuple(_intent(i, COMMON_FILE, common=True) for i in doc.get("intents") or [])
    topics: dict[str, Topic] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name in NOT_TOPICS:
            continue
        topic = load_topic(path)
        if topic.id in topics:
            raise ScriptError(f"{path.name}: topic id {topic.id!r} is used twice")
        topics[topic.id] = topic
    if not topics:
        raise ScriptError(f"no topic files in {folder}")
    return ScriptBook(topics=topics, common=common)
