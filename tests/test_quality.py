"""ruff and mypy are clean; the public API is what __all__ says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import collabsim

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    assert path, f"{name} is not installed in this environment (pip install -e '.[dev]')"
    return path


def test_ruff_lint() -> None:
    res = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format() -> None:
    res = subprocess.run(
        [_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy() -> None:
    res = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_public_api_resolves() -> None:
    for name in collabsim.__all__:
        assert getattr(collabsim, name) is not None
    assert (ROOT / "collabsim" / "py.typed").exists()
