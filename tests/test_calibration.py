"""Calibration: the baseline carries the fitted values and meets every Jakarta target."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from collabsim.experiments.calibration import (
    FACTORS,
    TARGETS,
    apply_factors,
    calibrate,
    changed_values,
    fit_table,
    mean_outputs,
    overrides_toml,
)
from collabsim.experiments.execution import flatten, replicate_seeds
from collabsim.loading import load_raw, load_scenario
from tests.conftest import BASELINE, cached_run


def test_baseline_meets_every_target_within_its_tolerance() -> None:
    results = [cached_run(str(BASELINE), s) for s in replicate_seeds(0, 4)]
    scenario = load_scenario(BASELINE)
    summaries = [flatten(r.summary) for r in results]
    fit = fit_table(mean_outputs(summaries, scenario))
    assert list(fit["target"]) == [t.name for t in TARGETS]
    bad = fit[~fit["within"]]
    assert bad.empty, bad.to_string()
    # the simulated counts per city follow the expected ones (Poisson, 4 years pooled;
    # repeat reports, ~2% here, add to the cohort)
    out = mean_outputs(summaries, scenario)
    years = (scenario.run.cohort_end - scenario.run.warmup_days) / 365
    for city, rate in scenario.arrivals.cases_per_year.items():
        expected = rate * years
        assert abs(out[f"cases_{city}"] - expected) < 3 * (expected / 4) ** 0.5 + 1, city


def test_factors_of_one_change_nothing() -> None:
    raw = load_raw(BASELINE)
    assert apply_factors(raw, dict.fromkeys(FACTORS, 1.0)) == raw


def test_fitted_values_can_be_written_as_a_scenario(tmp_path: Path) -> None:
    raw = load_raw(BASELINE)
    factors = {"volume": 1.1, "police": 0.9, "psychology_sessions": 1.05}
    fitted = apply_factors(raw, factors)
    values = changed_values(raw, fitted)
    assert values and all(k.startswith(("arrivals.", "pathway.plans.")) for k in values)
    path = tmp_path / "calibrated.toml"
    path.write_text(overrides_toml(str(BASELINE), values, "test"))
    tomllib.loads(path.read_text())
    loaded = load_scenario(path)
    rate = loaded.arrivals.cases_per_year["Jakarta Timur"]
    assert rate == pytest.approx(fitted["arrivals"]["cases_per_year"]["Jakarta Timur"], rel=1e-3)


def test_calibrate_never_returns_worse_than_the_scenario_as_written(tmp_path: Path) -> None:
    short = tmp_path / "short.toml"
    short.write_text(f'extends = "{BASELINE}"\n[run]\ndays = 200\nwarmup_days = 20\n')
    result = calibrate(short, samples=4, reps=1, seed=3, out=tmp_path / "cal", workers=1)
    samples = result.samples
    assert len(samples) == 5 and set(samples["stage"]) == {0, 1, 2}
    assert samples["loss"].min() <= float(samples.loc[samples["stage"] == 0, "loss"].iloc[0])
    assert set(result.factors) == set(FACTORS)
    assert list(result.fit.columns)[:5] == [
        "target",
        "observed",
        "simulated",
        "tolerance",
        "within",
    ]


def test_a_killed_calibration_resumes_from_its_store(tmp_path: Path) -> None:
    short = tmp_path / "short.toml"
    short.write_text(f'extends = "{BASELINE}"\n[run]\ndays = 150\nwarmup_days = 20\n')
    first = calibrate(short, samples=2, reps=1, seed=4, out=tmp_path / "cal", workers=1)
    again = calibrate(short, samples=2, reps=1, seed=4, out=tmp_path / "cal", workers=1)
    assert again.factors == first.factors  # read back from the store, not run again
    from collabsim.experiments.store import load_results

    assert len(load_results(tmp_path / "cal")) == 3
