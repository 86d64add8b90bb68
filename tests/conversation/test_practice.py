"""Conversation practice without a speech core: text works, audio is refused clearly; the eval command."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from common.errors import ProblemError
from services.tts.conversation.config import ConversationSettings
from services.tts.conversation.practice import ConversationPractice
from tests.processes import REPO_ROOT


@pytest.fixture(scope="module")
def practice(tmp_path_factory) -> ConversationPractice:
    return ConversationPractice(ConversationSettings(var_dir=tmp_path_factory.mktemp("var")))


def test_without_speech_replies_are_text_only_and_audio_turns_get_503(practice):
    async def scenario():
        state, audio_url = await practice.start("shopping", None, speech=None)
        assert audio_url is None and "Can I help you" in state.last_bot
        _, transcript, outcome, audio_url = await practice.turn(state.id, None, text="i look for jacket")
        assert transcript == "i look for jacket" and audio_url is None
        assert outcome.interpretation.intent.id == "looking_for_item"
        with pytest.raises(ProblemError) as refused:
            await practice.turn(state.id, None, audio=b"RIFF0000WAVEfmt ")
        assert refused.value.status == 503 and "as text" in refused.value.detail

    asyncio.run(scenario())


def test_unknown_topic_lists_the_known_ones(practice):
    with pytest.raises(ProblemError) as unknown:
        asyncio.run(practice.start("spaceship", None, speech=None))
    assert unknown.value.status == 404 and "restaurant" in unknown.value.detail


def test_eval_command_prints_scores_and_meets_the_goals():
    result = subprocess.run([sys.executable, "-m", "malgeul", "eval", "conversation"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "conversation intents:" in result.stdout and "conversation off-script handled:" in result.stdout
