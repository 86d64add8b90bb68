"""`malgeul eval faq`: the scores per set, pooled, and where the wrong answers come from."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from services.chatbot.dataset import FAQ_DIR
from tests.processes import REPO_ROOT


def test_eval_prints_each_set_the_pooled_scores_and_the_diagnosis(tmp_path: Path) -> None:
    sets = [FAQ_DIR / "esports-rules-fresh.json", FAQ_DIR / "esports-rules-fresh2.json"]
    command = [sys.executable, "-m", "malgeul", "eval", "faq", "--finetune-steps", "0", "--diagnose"]
    for path in sets:
        command += ["--dev-set", str(path)]
    env = {**os.environ, "MALGEUL_VAR_DIR": str(tmp_path)}  # base e5: no fine-tuning, a build of seconds
    out = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=True
    ).stdout

    assert (
        "-- esports-rules-fresh.json: 50 questions" in out
        and "-- esports-rules-fresh2.json: 64 questions" in out
    )
    assert "-- the 2 sets pooled: 114 questions (test split)" in out
    pooled = out.split("-- the 2 sets pooled")[1]
    assert re.search(r"top-1 ko +0\.\d{3}  \(answered and right 0\.\d{3}, n=28\)", pooled), pooled
    assert re.search(r"out-of-domain abstention \d\.\d{3}  \(n=22\)", pooled), pooled

    diagnosis = {
        (m["group"], m["name"].strip()): (int(m["right"]), int(m["of"]))
        for m in re.finditer(
            r"^ +(?P<group>same-language|cross-language) +(?P<name>.+?) (?P<right>\d+)/(?P<of>\d+) = ",
            out,
            re.MULTILINE,
        )
    }
    assert diagnosis[("same-language", "dense:e5-tuned|same")][1] == 56, "28 Korean and 28 English questions"
    assert diagnosis[("cross-language", "dense:e5-tuned|cross")][1] == 36
    for group in ("same-language", "cross-language"):
        chosen, given = diagnosis[(group, "fused")][0], diagnosis[(group, "fused, side given")][0]
        assert 0 < chosen <= given, "told the side, the fused ranking can only do as well or better"
