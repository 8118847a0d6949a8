"""Invariants of any run, on random variations of the Jakarta baseline (Hypothesis).

Each example changes barrier intensities, staff of some agency kinds, the
arrival volume, some service durations, the shared case system and dynamics
switches, the run length, the warm-up and the seed, steps the model day by
day, and checks what must hold for every run.
The case table and summary are built as ``collabsim.run`` builds them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import collabsim
from collabsim.api import resolve_scenario
from collabsim.experiments.execution import flatten
from collabsim.metrics import case_table, summarize
from collabsim.model import CollaborationModel
from collabsim.scenario import BARRIER_NAMES
from tests.conftest import BASELINE

BASE = collabsim.load_scenario(BASELINE)
STAFF = {"hub": 20, "hub_psychology": 10, "police_ppa": 6, "puskesmas": 3, "safe_house": 8}
"""Agency kinds whose staff vary, with the most staff tried."""
SERVICES = ("assessment", "police", "safe_house", "psychology", "closure")
"""Services whose duration varies."""
TIMES = [
    "reported_day", "closed_day", "handling_days", "first_service_days",
    "follow_up_working_days", "service_days", "duplicated_staff_hours",
]  # fmt: skip
"""The case table's times and durations."""
NO_ARRIVALS = {f"arrivals.cases_per_year.{city}": 0.0 for city in BASE.cities}
"""Overrides under which no case arrives."""
SLACK = 1e-9
"""Rounding allowed when comparing sums of event times, in days."""

unit = st.floats(min_value=0.0, max_value=1.0)
durations = st.fixed_dictionaries(
    {
        "dist": st.sampled_from(["exponential", "lognormal", "fixed"]),
        "mean": st.floats(min_value=0.0, max_value=30.0),
        "cv": st.floats(min_value=0.05, max_value=3.0),
    }
)


@st.composite
def variations(draw: st.DrawFn) -> dict[str, Any]:
    """Overrides that make a valid variation of the baseline, short enough to run fast."""
    days = draw(st.integers(min_value=60, max_value=200))
    volume = draw(st.floats(min_value=0.0, max_value=3.0))  # x the baseline's arrivals
    return {
        "run.days": days,
        "run.warmup_days": draw(st.integers(min_value=0, max_value=days // 2)),
        "shared_case_system": draw(st.booleans()),
        "dynamics.enabled": draw(st.booleans()),
        **{f"barriers.{b}.intensity": draw(unit) for b in BARRIER_NAMES},
        **{f"agencies.{k}.staff": draw(st.integers(1, most)) for k, most in STAFF.items()},
        **{f"services.{s}.duration": draw(durations) for s in SERVICES},
        **{
            f"arrivals.cases_per_year.{city}": rate * volume
            for city, rate in BASE.arrivals.cases_per_year.items()
        },
    }


def _check_staff(model: CollaborationModel) -> None:
    for a in model.agencies:
        assert 0 <= a.busy <= a.staff, f"{a.name}: {a.busy} busy of {a.staff} staff"
        assert not a.queue or a.busy == a.staff, f"{a.name}: jobs wait while staff are free"


def _check_counts(model: CollaborationModel, cases: pd.DataFrame, summary: dict[str, Any]) -> None:
    assert summary["cases_arrived"] == (
        summary["cases_closed"] + summary["cases_open"] + summary["cases_stalled"]
    )
    measured = cases[cases["measured"]]
    assert len(measured) == summary["cases_arrived"]
    for status in ("closed", "open", "stalled"):
        assert (measured["status"] == status).sum() == summary[f"cases_{status}"]
    # the table agrees with the model's own counters and its last daily row
    last = model.timeseries().iloc[-1]
    assert len(cases) == model.arrived == last["arrived"]
    assert (cases["status"] == "closed").sum() == model.closed == last["closed"]
    closed = cases[cases["status"] == "closed"]
    assert (closed["steps_done"] == closed["steps_planned"]).all()


def _check_times(cases: pd.DataFrame, days: int) -> None:
    for column in TIMES:
        assert (cases[column].dropna() >= 0.0).all(), f"negative {column}"
    assert (cases["reported_day"] <= days).all() and (cases["closed_day"].dropna() <= days).all()
    is_closed = cases["status"] == "closed"
    assert (cases["closed_day"].notna() == is_closed).all()
    assert (cases["handling_days"].notna() == is_closed).all()
    closed = cases[is_closed]
    # one service at a time: handling takes at least the staff time of the services
    service = closed["service_days"]
    short = closed["handling_days"] < service - SLACK * (1.0 + service)
    assert not short.any(), closed.loc[short, ["case_id", "handling_days", "service_days"]]


NOTHING_TO_MEASURE: dict[str, Callable[[pd.DataFrame], bool]] = {
    "handling_days_median": lambda m: not (m["status"] == "closed").any(),
    "handling_days_p90": lambda m: not (m["status"] == "closed").any(),
    "handling_days_mean": lambda m: not (m["status"] == "closed").any(),
    "first_service_days_median": lambda m: bool(m["first_service_days"].isna().all()),
    "interviews_per_child": lambda m: m.empty,
    "recorded_share": lambda m: not m["registered"].any(),
    "follow_up_within_norm_share": lambda m: bool(m["follow_up_working_days"].isna().all()),
    "case_type_shares": lambda m: m.empty,  # every case_type_shares.<type>
}
"""The summary's only values that may be NaN, each with when it has nothing to measure."""


def _check_finite(cases: pd.DataFrame, summary: dict[str, Any]) -> None:
    """NaN exactly where there is nothing to measure; every other number is finite."""
    measured = cases[cases["measured"]]
    for key, value in flatten(summary).items():
        if isinstance(value, str):
            continue
        rule = NOTHING_TO_MEASURE.get(key.split(".")[0])
        empty = rule is not None and rule(measured)
        if empty:
            assert math.isnan(value), f"{key} = {value} with nothing to measure"
        else:
            assert math.isfinite(value), f"{key} = {value}"


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(overrides=variations(), seed=st.integers(min_value=0, max_value=2**32 - 1))
# Found by Hypothesis: with no case at all, the case table had no columns.
@example(overrides={"run.days": 60, "run.warmup_days": 0, **NO_ARRIVALS}, seed=0)
def test_every_run_keeps_the_invariants(overrides: dict[str, Any], seed: int) -> None:
    scenario = resolve_scenario(BASE, overrides)
    model = CollaborationModel(scenario, seed=seed)
    for _ in range(scenario.run.days):
        model.step()
        _check_staff(model)
    cases = case_table(model)
    summary = summarize(model, cases)
    _check_counts(model, cases, summary)
    _check_times(cases, scenario.run.days)
    _check_finite(cases, summary)
