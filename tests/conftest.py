"""Shared fixtures: paths and cached runs (a run is deterministic, so caching is safe)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import collabsim
from collabsim.api import RunResult

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "jakarta-baseline.toml"


@functools.cache
def cached_run(path: str, seed: int, overrides: tuple[tuple[str, object], ...] = ()) -> RunResult:
    """Run once per (scenario, seed, overrides) for the whole session."""
    return collabsim.run(path, seed, overrides=dict(overrides))


@pytest.fixture
def baseline() -> Path:
    return BASELINE
