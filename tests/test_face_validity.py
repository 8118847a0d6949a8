"""Face validity: barrier effects grow with intensity (the cycles: tests/test_cycles.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import collabsim
from collabsim.experiments import replicate
from collabsim.experiments.stats import confidence_interval
from collabsim.scenario import BARRIER_NAMES
from tests.conftest import BASELINE

LEVELS = (0.0, 0.5, 1.0)
TOLERANCE = 0.1
"""Days a step up may shorten the median by (a tenth of a day on ~63): with common random
numbers most replications of two levels agree exactly, so a handful of cases that
happen to close a little earlier can make a tiny step look significant."""
SHORT = {"run.days": 500, "run.warmup_days": 200, "run.measure_days": 150}
"""A shorter run than the baseline's three years, to keep the suite quick (the full
runs: `make validation`)."""


@pytest.mark.parametrize("barrier", BARRIER_NAMES)
def test_median_handling_time_is_monotone_in_each_barriers_intensity(
    tmp_path: Path, barrier: str
) -> None:
    """Each step up in intensity lengthens the median, or leaves it within noise.

    The same seeds at every level (common random numbers) make the paired
    differences sharp; a step may fall only within its 95% interval (or by less
    than ``TOLERANCE``), and the whole range (0 to 1) must lengthen the median.
    """
    runs = []
    for level in LEVELS:
        overrides = {**SHORT, f"barriers.{barrier}.intensity": level}
        scenario = collabsim.load_scenario(BASELINE, overrides)
        r = replicate(scenario, 6, seed=1, out=tmp_path / str(level), workers=2)
        runs.append(r.runs["handling_days_median"].to_numpy())
    for lower, higher in itertools.pairwise(runs):
        _low, high = confidence_interval(higher - lower)
        assert high >= -TOLERANCE, (barrier, runs)
    assert runs[-1].mean() > runs[0].mean(), (barrier, runs)
