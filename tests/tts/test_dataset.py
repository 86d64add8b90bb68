"""`malgeul tts prepare-dataset`: long recordings + scripts -> sentence clips with speaker ids."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from services.tts.dataset import align_sentences, split_script
from services.tts.speech import SpeechService
from tests.processes import REPO_ROOT

SENTENCES = [
    "The weather is nice today, so we are going for a walk in the park.",
    "Please open the window before the meeting starts.",
    "My brother bought a new bicycle last week.",
    "Could you tell me where the nearest train station is?",
    "She plays the piano every evening after dinner.",
]
NOT_SPOKEN = "Seventeen purple elephants were dancing on the roof."


def _long_recording(
    speech: SpeechService, sentences: list[str], speed: float
) -> tuple[np.ndarray, list[float]]:
    """Sentences read one after another with pauses; returns the audio and each sentence's duration."""
    rate = speech.settings.sample_rate
    parts, durations = [], []
    for sentence in sentences:
        samples = speech.synthesize_samples(sentence, "en-joe", speed=speed)
        parts += [samples, np.zeros(int(0.6 * rate), dtype=np.float32)]
        durations.append(len(samples) / rate)
    return np.concatenate(parts), durations


def test_alignment_finds_each_sentence_span() -> None:
    words = [("hello", 0.0, 0.4), ("world.", 0.4, 0.9), ("good", 1.5, 1.8), ("bye", 1.8, 2.2)]
    clips = align_sentences(split_script("Hello world. Good bye!"), words)
    assert [(c.start, c.end, c.error_rate) for c in clips] == [(0.0, 0.9, 0.0), (1.5, 2.2, 0.0)]


def test_prepare_dataset_cuts_long_recordings_into_sentences(speech: SpeechService, tmp_path: Path) -> None:
    rate = speech.settings.sample_rate
    source = tmp_path / "recordings"
    # Speaker "mina": the script names a sentence she never says (she says another one instead).
    spoken = SENTENCES[:2] + ["I would like a cup of coffee with milk, please."] + SENTENCES[3:]
    audio, durations = _long_recording(speech, spoken, 1.0)
    (source / "mina").mkdir(parents=True)
    sf.write(source / "mina" / "chapter1.flac", audio, rate)
    (source / "mina" / "chapter1.txt").write_text(" ".join(SENTENCES[:2] + [NOT_SPOKEN] + SENTENCES[3:]))
    # Speaker "joon": slower, MP3, one sentence per line.
    audio2, durations2 = _long_recording(speech, SENTENCES, 0.85)
    (source / "joon").mkdir()
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "f32le",
            "-ar",
            str(rate),
            "-ac",
            "1",
            "-i",
            "-",
            str(source / "joon" / "take.mp3"),
        ],
        input=audio2.astype("<f4").tobytes(),
        check=True,
    )
    (source / "joon" / "take.txt").write_text("\n".join(SENTENCES))

    output = tmp_path / "dataset"
    done = subprocess.run(
        [sys.executable, "-m", "malgeul", "tts", "prepare-dataset", str(source), str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "kept: 9, dropped: 1" in done.stdout, done.stdout
    assert "recordings:" in done.stderr and "100%" in done.stderr  # tqdm progress bar

    with open(output / "metadata.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="|"))
    speakers = json.loads((output / "speakers.json").read_text())
    assert set(speakers) == {"joon", "mina"}
    assert {row[1] for row in rows} == {str(speakers["joon"]), str(speakers["mina"])}
    assert NOT_SPOKEN not in {row[2] for row in rows}
    expected = dict(zip(SENTENCES, durations2)) | {s: d for s, d in zip(spoken, durations) if s in SENTENCES}
    for clip_id, speaker, text in rows:
        samples, clip_rate = sf.read(output / "wavs" / f"{clip_id}.wav")
        assert clip_rate == 22050
        seconds = len(samples) / clip_rate
        reference = dict(zip(SENTENCES, durations2 if speaker == str(speakers["joon"]) else durations))[text]
        assert abs(seconds - reference) < 0.6, (text, seconds, reference)
    assert expected  # every kept sentence had a known duration


def test_clips_say_their_sentence(speech: SpeechService, tmp_path: Path) -> None:
    """A clip cut from the middle of a recording transcribes to its own sentence, not its neighbours'."""
    from services.tts.dataset import Recording, prepare_dataset
    from services.tts.evaluation import word_error_rate

    audio, _ = _long_recording(speech, SENTENCES[:3], 1.0)
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(folder / "solo.wav", audio, speech.settings.sample_rate)
    (folder / "solo.txt").write_text(" ".join(SENTENCES[:3]))

    def words_of(data: bytes) -> list[tuple[str, float, float]]:
        result = speech.transcribe_detailed(data, "en", words=True)
        return [(w.word, w.start, w.end) for s in result.segments for w in s.words]

    summary = prepare_dataset(
        [Recording(folder / "solo.wav", folder / "solo.txt", "solo")], tmp_path / "out", words_of
    )
    assert summary.kept == 3
    middle = (tmp_path / "out" / "wavs" / "solo_solo_0001.wav").read_bytes()
    assert word_error_rate([(SENTENCES[1], speech.transcribe(middle))]) <= 0.2
