"""The analysis scripts under experiments/ run, so they cannot rot (as Mesa tests its examples)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPTS = sorted((ROOT / "experiments").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_each_script_explains_itself(script: Path) -> None:
    res = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "usage:" in res.stdout.lower()


def test_the_intervention_comparison_runs_end_to_end(tmp_path: Path) -> None:
    script = ROOT / "experiments" / "intervention_comparison.py"
    cmd = [sys.executable, str(script), "--reps", "2", "--out", str(tmp_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert {"interventions.csv", "interventions.png", "summary.md"} <= {
        p.name for p in tmp_path.iterdir()
    }
    assert "no-barriers" in (tmp_path / "summary.md").read_text()
