"""API models of the speech service: the shapes of OpenAI's audio API (`/v1/audio/...`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

AudioFormat = Literal["wav", "mp3", "flac", "pcm"]
TranscriptFormat = Literal["json", "text", "verbose_json", "srt", "vtt"]
Language = Literal["ko", "en"]


class SpeechRequest(BaseModel):
    """Text to read aloud, in one voice (OpenAI `audio.speech.create`)."""

    model: str | None = Field(
        default=None, description="Accepted for compatibility; the voice picks the engine."
    )
    input: str = Field(min_length=1, description="The text to read (Korean or English).")
    voice: str = Field(
        description="A voice id from `GET /v1/audio/voices` (OpenAI names such as `alloy` map to one)."
    )
    speed: float = Field(default=1.0, ge=0.25, le=4.0, description="1.0 is normal; 0.25 to 4.0.")
    response_format: AudioFormat = Field(default="wav", description="`pcm` is raw 16-bit mono at 24 kHz.")
    language: Language | None = Field(
        default=None, description="Reading rules for the text; default: the voice's language."
    )


class VoiceInfo(BaseModel):
    """One voice the service can speak with."""

    id: str = Field(description="Pass it as `voice`.")
    language: Language
    engine: str = Field(
        description="The engine behind it: `espeak-ng` (formant synthesis) or `piper` (neural)."
    )
    description: str


class TranscriptWord(BaseModel):
    """A recognised word with its time span (seconds)."""

    word: str
    start: float
    end: float


class TranscriptSegment(BaseModel):
    """A stretch of speech with its time span (seconds), as in OpenAI's `verbose_json`."""

    id: int
    seek: int = 0
    start: float
    end: float
    text: str
    tokens: list[int] = Field(default_factory=list)
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0
    no_speech_prob: float = 0.0


class Transcription(BaseModel):
    """The recognised text (`response_format=json`)."""

    text: str


class TranscriptionVerbose(BaseModel):
    """The recognised text with language, duration, segments and (when asked) words (`verbose_json`)."""

    task: Literal["transcribe"] = "transcribe"
    language: str
    duration: float
    text: str
    segments: list[TranscriptSegment]
    words: list[TranscriptWord] | None = None
