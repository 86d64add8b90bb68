"""`malgeul eval speech` prints the scores the issue asks for, and the goals it meets."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.processes import REPO_ROOT


def test_eval_speech_prints_scores() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "malgeul", "eval", "speech"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    human = float(re.search(r"human WER: ([\d.]+)", out)[1])
    round_trip = float(re.search(r"round-trip WER en-joe \(piper\): ([\d.]+)", out)[1])
    assert human <= 0.06, out
    assert round_trip <= 0.05, out
    assert re.search(r"synthetic WER .*: [\d.]+ \(24 clips\)", out), out
    assert re.search(r"distinctness: 10 Korean voices", out), out


def test_tts_command_usage() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "malgeul", "tts"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "prepare-dataset" in done.stderr
