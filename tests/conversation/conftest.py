"""Fixtures of the conversation tests: the real scripts and the real sentence encoder, loaded once."""

from __future__ import annotations

import pytest

from common.settings import DATA_DIR
from services.tts.conversation.scripts import ScriptBook, load_scripts

SCRIPTS = DATA_DIR / "conversation"


@pytest.fixture(scope="session")
def book() -> ScriptBook:
    return load_scripts(SCRIPTS)


@pytest.fixture(scope="session")
def encoder():
    from common.encoders import load_encoder

    return load_encoder("use-multilingual")


@pytest.fixture(scope="session")
def matcher(book, encoder):
    from services.tts.conversation.config import ConversationSettings
    from services.tts.conversation.understanding import IntentMatcher

    return IntentMatcher(book, encoder, ConversationSettings().matcher())
