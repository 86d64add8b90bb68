"""Audio in and out: decode any upload (wav, flac, mp3, ogg/opus, webm...) with PyAV, resample with scipy,
encode wav/flac/mp3/pcm, and find speech with WebRTC's voice activity detector."""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Iterator
from math import gcd

import av
import numpy as np
import soundfile as sf
import webrtcvad
from scipy.signal import resample_poly

logger = logging.getLogger("malgeul.tts.audio")

STT_RATE = 16000


class AudioInputError(ValueError):
    """An upload that is not usable audio; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy), exact for any pair of integer rates."""
    if source_rate == target_rate or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    common = gcd(source_rate, target_rate)
    return resample_poly(samples, target_rate // common, source_rate // common).astype(np.float32)


def decode_audio(data: bytes, max_seconds: float, rate: int = STT_RATE) -> np.ndarray:
    """Mono float32 samples at ``rate`` from any container/codec FFmpeg knows.

    Raises AudioInputError: 400 when it is not audio, 413 when it is longer than ``max_seconds``
    (checked from the container header first, so a 2-hour file is refused without decoding it).
    """
    if not data:
        raise AudioInputError(400, "The audio file is empty.")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise AudioInputError(
            400,
            "The file is not audio in a format this service can read "
            "(wav, flac, mp3, ogg/opus, webm, m4a...).",
        ) from exc
    with container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise AudioInputError(400, "The file has no audio stream.")
        stream = streams[0]
        if stream.codec_context is None:
            # FFmpeg found a stream but has no decoder for it (e.g. a WAV with an unknown format tag).
            raise AudioInputError(
                400, "The audio uses a codec this service cannot decode; send wav, flac, mp3, ogg/opus, webm or m4a."
            )
        declared = _declared_seconds(container, stream)
        if declared is not None and declared > max_seconds:
            raise AudioInputError(413, f"The audio lasts {declared:.0f} s; the limit is {max_seconds:.0f} s.")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if total > max_seconds * rate:
                    raise AudioInputError(413, f"The audio is longer than the limit of {max_seconds:.0f} s.")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            if not chunks:
                raise AudioInputError(
                    400, "The audio could not be decoded (corrupt or unsupported codec)."
                ) from exc
            logger.warning("audio decoding stopped early", extra={"error": str(exc)})
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)
    return np.clip(np.nan_to_num(samples), -1.0, 1.0)


def _declared_seconds(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> float | None:
    # A streamed WAV declares the maximum size (its length was unknown): PCM is bounded by the upload limit
    # and the decoding loop instead.
    if stream.codec_context.name.startswith("pcm_"):
        return None
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def speech_regions(
    samples: np.ndarray,
    rate: int = STT_RATE,
    aggressiveness: int = 2,
    frame_ms: int = 30,
    floor_db: float = 40.0,
) -> list[tuple[float, float]]:
    """Voiced stretches (start, end seconds) by WebRTC VAD, with short gaps bridged and edges padded.

    Frames more than ``floor_db`` below the loud end of the recording are never speech: WebRTC VAD
    adapts slowly and calls seconds of quiet room noise after loud speech voiced.
    """
    vad = webrtcvad.Vad(aggressiveness)
    frame = rate * frame_ms // 1000
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    count = max(0, (len(pcm) - frame) // frame + 1)
    if count == 0:
        return []
    frames = samples[: count * frame].reshape(count, frame)
    level = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    loud_enough = level > np.percentile(level, 95) - floor_db
    voiced = [
        bool(loud_enough[n]) and vad.is_speech(pcm[n * frame : (n + 1) * frame].tobytes(), rate)
        for n in range(count)
    ]
    regions: list[tuple[float, float]] = []
    step = frame_ms / 1000
    start = None
    for index, is_voiced in enumerate(voiced + [False]):
        if is_voiced and start is None:
            start = index
        elif not is_voiced and start is not None:
            regions.append((start * step, index * step))
            start = None
    merged: list[tuple[float, float]] = []
    for begin, end in regions:
        if merged and begin - merged[-1][1] < 0.3:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((begin, end))
    duration = len(samples) / rate
    return [(max(0.0, b - 0.2), min(duration, e + 0.2)) for b, e in merged if e - b >= 0.09]


class CompactSpeech:
    """The voiced stretches of a recording put together, long pauses shortened, with a map back to the
    original times (Whisper invents words in long silences and wastes time on them)."""

    def __init__(
        self,
        samples: np.ndarray,
        regions: list[tuple[float, float]],
        rate: int = STT_RATE,
        pad: float = 0.5,
        max_gap: float = 2.0,
    ) -> None:
        spans: list[list[float]] = []
        for start, end in regions:
            if spans and start - spans[-1][1] < max_gap:
                spans[-1][1] = end
            else:
                spans.append([start, end])
        silence = np.zeros(int(pad * rate), dtype=np.float32)
        parts: list[np.ndarray] = [silence]
        self._map: list[tuple[float, float, float]] = []  # (compact start, original start, original end)
        position = pad
        for start, end in spans:
            piece = samples[int(start * rate) : int(end * rate)]
            self._map.append((position, start, end))
            parts += [piece, silence]
            position += len(piece) / rate + pad
        self.samples = np.concatenate(parts)

    def original_time(self, t: float, edge: str = "start") -> float:
        """Where time ``t`` of the compact audio is in the original recording.

        A time in the silence put between two stretches is a start of the next stretch or an end of the
        previous one (``edge``): Whisper often starts a segment in the silence before its speech.
        """
        for i, (compact_start, start, end) in enumerate(self._map):
            compact_end = compact_start + (end - start)
            if t <= compact_end:
                return min(max(start + (t - compact_start), start), end)
            if i + 1 < len(self._map) and t < self._map[i + 1][0]:
                return self._map[i + 1][1] if edge == "start" else end
        return self._map[-1][2]


def to_pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """A complete 16-bit mono WAV file."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def streaming_wav_header(rate: int) -> bytes:
    """A WAV header for a stream of unknown length (sizes set to the maximum, as OpenAI and ffmpeg do)."""
    unknown = 0xFFFFFFFF
    return (
        b"RIFF"
        + struct.pack("<I", unknown)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", unknown)
    )


def flac_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


class Mp3Stream:
    """Encodes float chunks to MP3 frames as they come (an MP3 file is a plain sequence of frames)."""

    def __init__(self, rate: int, bitrate: int = 64000) -> None:
        self.codec = av.CodecContext.create("libmp3lame", "w")
        self.codec.sample_rate = rate
        self.codec.layout = "mono"
        self.codec.format = "s16p"
        self.codec.bit_rate = bitrate
        self.rate = rate
        self.pts = 0

    def encode(self, samples: np.ndarray | None) -> bytes:
        if samples is None:
            packets = self.codec.encode(None)
        else:
            pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16p", layout="mono")
            frame.sample_rate = self.rate
            frame.pts = self.pts
            self.pts += pcm.shape[1]
            packets = self.codec.encode(frame)
        return b"".join(bytes(p) for p in packets)


def encode_stream(chunks: Iterator[np.ndarray], rate: int, response_format: str) -> Iterator[bytes]:
    """Bytes of ``response_format`` as the chunks arrive (flac waits for the whole audio)."""
    if response_format == "wav":
        yield streaming_wav_header(rate)
        for chunk in chunks:
            yield to_pcm16(chunk)
    elif response_format == "pcm":
        for chunk in chunks:
            yield to_pcm16(chunk)
    elif response_format == "mp3":
        encoder = Mp3Stream(rate)
        for chunk in chunks:
            data = encoder.encode(chunk)
            if data:
                yield data
        yield encoder.encode(None)
    elif response_format == "flac":
        parts = list(chunks)
        yield flac_bytes(np.concatenate(parts) if parts else np.zeros(0, np.float32), rate)
    else:
        raise ValueError(f"unknown audio format {response_format!r}")


MEDIA_TYPES = {"wav": "audio/wav", "pcm": "audio/pcm", "mp3": "audio/mpeg", "flac": "audio/flac"}
