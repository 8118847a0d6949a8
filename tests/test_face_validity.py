"""Face validity: barrier effects grow with intensity; both collaboration cycles exist."""

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


STRONG_EGO = {
    f"agencies.{kind}.sectoral_ego": 0.9
    for kind in ("police_ppa", "hospital", "puskesmas", "rpsa", "legal_aid", "school", "kpai")
}


def _cycle(overrides: dict[str, object]) -> collabsim.RunResult:
    return collabsim.run(BASELINE, 1, overrides={**overrides, "run.days": 720})


def test_high_trust_stays_virtuous_and_low_trust_with_strong_ego_turns_vicious() -> None:
    virtuous = _cycle({"dynamics.initial_trust": 0.9})
    vicious = _cycle({"dynamics.initial_trust": 0.3, **STRONG_EGO})
    tv, tw = virtuous.timeseries, vicious.timeseries
    # virtuous: trust between sectors stays high and shared motivation grows
    assert tv["cross_sector_trust"].iloc[-1] > 0.75
    assert tv["motivation"].iloc[-1] > tv["motivation"].iloc[0]
    # vicious: trust between sectors falls below where it started, and stays low
    assert tw["cross_sector_trust"].iloc[-1] < tw["cross_sector_trust"].iloc[0]
    assert tw["cross_sector_trust"].iloc[-180:].max() < 0.3
    # ... with more refusals, slower cases and less shared motivation than the virtuous run
    assert vicious.summary["referrals_refused"] > 3 * virtuous.summary["referrals_refused"]
    assert vicious.summary["handling_days_median"] > virtuous.summary["handling_days_median"]
    assert tw["motivation"].iloc[-1] < tv["motivation"].iloc[-1] - 0.1
