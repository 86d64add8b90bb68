"""Settings of conversation practice (environment variables ``MALGEUL_TTS_CONVERSATION_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from common.settings import DATA_DIR, ServiceSettings, service_config
from services.tts.conversation.understanding import MatcherSettings


class ConversationSettings(ServiceSettings):
    """Scripts, understanding thresholds, sessions and the reply voice of conversation practice."""

    model_config = service_config("MALGEUL_TTS_CONVERSATION_")

    scripts_dir: Path = Field(default=DATA_DIR / "conversation", description="Folder of the topic YAML files.")
    encoder: str = Field(
        default="use-multilingual", description="Sentence encoder (common/encoders.py): use-multilingual, e5-small..."
    )
    semantic_weight: float = Field(default=0.7, ge=0, le=1, description="Embedding vs surface similarity.")
    accept_threshold: float = Field(default=0.48, description="Below this score an utterance is off-script.")
    other_scene_penalty: float = Field(default=0.12, description="Handicap of intents of the topic's other scenes.")
    common_penalty: float = Field(default=0.05, description="Handicap of the common intents (repeat, help, thanks, goodbye).")
    smalltalk_threshold: float = Field(default=0.65, description="Off-script utterances this close to the corpus get small talk.")
    session_ttl_minutes: float = Field(default=60.0, gt=0, description="Idle sessions expire after this.")
    max_sessions: int = Field(default=10000, ge=1, description="Oldest sessions are dropped past this.")
    voice: str = Field(default="", description="Reply voice when a session names none; empty: the speech engine's default English voice.")
    speed: float = Field(default=0.95, gt=0.25, le=4.0, description="Reply speech speed (a touch slow helps learners).")
    max_text_chars: int = Field(default=500, ge=1, description="Longest learner turn accepted as text.")
    audio_cache_mb: int = Field(default=64, ge=0, description="Memory for recently spoken bot lines (0: none).")

    def matcher(self) -> MatcherSettings:
        return MatcherSettings(
            semantic_weight=self.semantic_weight,
            accept=self.accept_threshold,
            other_scene_penalty=self.other_scene_penalty,
            common_penalty=self.common_penalty,
        )
