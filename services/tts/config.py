"""Settings of the speech service (environment variables ``MALGEUL_TTS_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from common.settings import ServiceSettings, service_config


class TtsSettings(ServiceSettings):
    """Which engines and models the speech service loads, and the limits it enforces."""

    model_config = service_config("MALGEUL_TTS_")

    port: int = 8004

    stt_engine: Literal["whisper", "pocketsphinx"] = Field(
        default="whisper",
        description="Speech-to-text engine: faster-whisper, or pocketsphinx (small, weaker).",
    )
    whisper_model: str = Field(
        default="",
        description="faster-whisper model: a CTranslate2 model directory (or a hub name with MALGEUL_ALLOW_HUB=1); "
        "empty means the packaged tiny.en.",
    )
    whisper_compute_type: str = Field(
        default="float32",
        description="CTranslate2 compute type. int8 transcribed the human test clips worse on a CPU with "
        "AVX-512 VNNI (WER 0.073 against 0.052) and is ~5-20% faster.",
    )
    whisper_beam_size: int = Field(default=1, ge=1, le=10)
    stt_threads: int = Field(default=2, ge=1, description="CPU threads of the speech recogniser.")

    piper_voices: str = Field(
        default="",
        description="Extra piper voices, comma-separated: ONNX paths (each with its .onnx.json) or voice names "
        "such as en_US-lessac-medium (fetched once into var/tts/piper-voices with MALGEUL_ALLOW_HUB=1); "
        "a multi-speaker model adds one voice per speaker.",
    )
    packaged_piper: bool = Field(
        default=True, description="Load the packaged neural English voice (joe, piper)."
    )
    espeak_binary: str = "espeak-ng"

    max_input_chars: int = Field(default=4096, description="Longest text accepted by /v1/audio/speech.")
    max_audio_seconds: float = Field(default=1800.0, description="Longest audio accepted for transcription.")
    min_audio_seconds: float = Field(default=0.1, description="Shortest audio accepted for transcription.")
    sample_rate: int = Field(
        default=24000, description="Sample rate of every synthesized output (OpenAI's pcm is 24 kHz)."
    )
