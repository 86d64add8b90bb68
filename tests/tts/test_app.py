"""The HTTP API through the official `openai` client and plain HTTP: speech, voices, transcriptions, errors."""

from __future__ import annotations

import io
import time

import httpx
import numpy as np
import openai
import pytest
import soundfile as sf

from services.tts.audio import decode_audio
from services.tts.evaluation import word_error_rate
from tests.processes import ServiceProcess
from tests.tts.conftest import sine_wav


@pytest.fixture(scope="module")
def client(tts_service: ServiceProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=tts_service.url + "/v1", api_key="not-needed", max_retries=0, timeout=60)


def test_openai_client_speech_in_every_format(client: openai.OpenAI) -> None:
    text = "안녕하세요. 오늘 경기는 13:11로 이겼습니다."
    lengths = {}
    for fmt in ("wav", "mp3", "flac", "pcm"):
        audio = client.audio.speech.create(
            model="tts-1", voice="ko-seoyeon", input=text, response_format=fmt
        ).content
        if fmt == "pcm":
            samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768
        else:
            samples = decode_audio(audio, 60, rate=24000)
        lengths[fmt] = len(samples) / 24000
        assert np.sqrt(np.mean(samples**2)) > 0.02, fmt
    assert all(abs(seconds - lengths["wav"]) < 0.2 for seconds in lengths.values()), lengths
    assert 2 < lengths["wav"] < 15


def test_flac_and_streamed_wav_are_readable_files(client: openai.OpenAI) -> None:
    flac = client.audio.speech.create(
        model="tts-1", voice="ko-minjun", input="반갑습니다.", response_format="flac"
    ).content
    samples, rate = sf.read(io.BytesIO(flac))
    assert rate == 24000 and len(samples) > 0.3 * rate
    wav = client.audio.speech.create(
        model="tts-1", voice="alloy", input="Hello there.", response_format="wav"
    ).content
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"


def test_openai_client_lists_voices_through_plain_http(tts_service: ServiceProcess) -> None:
    voices = httpx.get(tts_service.url + "/v1/audio/voices").json()
    assert {"id", "language", "engine", "description"} <= set(voices[0])
    assert sum(v["language"] == "ko" for v in voices) >= 8


def test_tiny_multi_speaker_piper_voice_loads_from_a_path(tts_service: ServiceProcess) -> None:
    voices = {v["id"]: v for v in httpx.get(tts_service.url + "/v1/audio/voices").json()}
    speakers = [f"piper-tiny-multi-{name}" for name in ("alice", "bora", "chul")]
    assert all(voices[s]["engine"] == "piper" for s in speakers)
    pitches = []
    for speaker in speakers:
        r = httpx.post(tts_service.url + "/v1/audio/speech", json={"input": "Hello world.", "voice": speaker})
        assert r.status_code == 200
        samples = decode_audio(r.content, 60, rate=24000)
        spectrum = np.abs(np.fft.rfft(samples))
        pitches.append(np.argmax(spectrum[1:]) + 1)
    assert pitches[0] < pitches[1] < pitches[2], "each speaker of the model has its own voice"


def test_english_round_trip_through_the_openai_client(client: openai.OpenAI) -> None:
    text = "Could you tell me where the nearest train station is?"
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input=text, response_format="mp3"
    ).content
    transcript = client.audio.transcriptions.create(model="whisper-1", file=("speech.mp3", audio))
    assert word_error_rate([(text, transcript.text)]) <= 0.2, transcript.text


def test_streamed_speech_through_the_openai_client_transcribes_back(client: openai.OpenAI) -> None:
    text = "She plays the piano every evening after dinner."
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=text, response_format="wav"
    ) as response:
        streamed = b"".join(response.iter_bytes())
    assert streamed[:4] == b"RIFF"
    transcript = client.audio.transcriptions.create(model="whisper-1", file=("streamed.wav", streamed))
    assert word_error_rate([(text, transcript.text)]) <= 0.15, transcript.text


def test_transcription_formats(client: openai.OpenAI, english_wav: tuple[bytes, str]) -> None:
    wav, text = english_wav
    verbose = client.audio.transcriptions.create(
        model="whisper-1",
        file=("a.wav", wav),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert verbose.language == "english" and 2 < verbose.duration < 6
    assert verbose.segments and 0 <= verbose.segments[0].start < verbose.segments[-1].end <= verbose.duration
    assert verbose.words and verbose.words[0].word.lower().startswith("please")
    plain = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav), response_format="text")
    assert isinstance(plain, str) and word_error_rate([(text, plain)]) <= 0.2
    srt = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav), response_format="srt")
    assert srt.startswith("1\n00:00:0") and " --> " in srt
    vtt = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav), response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:0")


def test_silence_gives_empty_text(client: openai.OpenAI) -> None:
    silence = sine_wav(2.0, freq=0.0)
    assert client.audio.transcriptions.create(model="whisper-1", file=("s.wav", silence)).text == ""


def test_long_korean_text_streams_first_audio_early(tts_service: ServiceProcess) -> None:
    text = "오늘 저녁 일곱 시에 팀 연습이 있습니다. " * 40
    started = time.perf_counter()
    with httpx.stream(
        "POST",
        tts_service.url + "/v1/audio/speech",
        json={"input": text, "voice": "ko-jiwoo", "response_format": "pcm"},
        timeout=120,
    ) as r:
        assert r.status_code == 200
        chunks = r.iter_bytes()
        next(chunk for chunk in chunks if chunk)
        first = time.perf_counter() - started
        total = sum(len(c) for c in chunks)
        whole = time.perf_counter() - started
    assert total / 2 / 24000 > 60, "forty sentences take over a minute to say"
    assert first < 1.0 and first < whole / 3, (first, whole)


@pytest.mark.parametrize(
    "body",
    [
        {"input": "", "voice": "ko-minjun"},
        {"input": "가" * 20000, "voice": "ko-minjun"},
        {"input": "안녕", "voice": "nobody"},
        {"input": "안녕", "voice": "ko-minjun", "speed": 0},
        {"input": "안녕", "voice": "ko-minjun", "response_format": "ogg"},
        {"voice": "ko-minjun"},
    ],
)
def test_bad_speech_requests_get_a_problem_quickly(tts_service: ServiceProcess, body: dict) -> None:
    started = time.perf_counter()
    r = httpx.post(tts_service.url + "/v1/audio/speech", json=body, timeout=10)
    assert 400 <= r.status_code < 500 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"]
    assert time.perf_counter() - started < 2


def test_openai_client_sees_unknown_voice_as_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.audio.speech.create(model="tts-1", voice="nobody", input="hi")


@pytest.fixture(scope="module")
def gateway_client(launch_service, tts_service: ServiceProcess) -> openai.OpenAI:
    """The official client pointed at a real gateway (with an API key) in front of the speech service."""
    gateway = launch_service(
        "gateway", {"MALGEUL_GATEWAY_TTS_URL": tts_service.url, "MALGEUL_API_KEYS": "speech-key"}
    )
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key="speech-key", max_retries=0, timeout=60)


def test_openai_client_works_through_the_gateway(gateway_client: openai.OpenAI) -> None:
    text = "The children are reading books in the library."
    with gateway_client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="en-joe", input=text, response_format="mp3"
    ) as response:
        audio = b"".join(response.iter_bytes())
    transcript = gateway_client.audio.transcriptions.create(
        model="whisper-1", file=("speech.mp3", audio), language="en"
    )
    assert word_error_rate([(text, transcript.text)]) <= 0.15, transcript.text
    korean = gateway_client.audio.speech.create(
        model="tts-1", voice="ko-jiwoo", input="다음 경기는 오후 7시입니다."
    )
    assert len(korean.content) > 24000


def test_gateway_refuses_the_client_without_the_key(gateway_client: openai.OpenAI) -> None:
    stranger = gateway_client.with_options(api_key="wrong-key")
    with pytest.raises(openai.AuthenticationError):
        stranger.audio.speech.create(model="tts-1", voice="alloy", input="hi")
