"""The Python API for scripts and notebooks: run a scenario, get DataFrames.

Example:
    >>> import collabsim
    >>> result = collabsim.run("scenarios/jakarta-baseline.toml", seed=1,
    ...                        overrides={"barriers.sop.intensity": 0.0})  # doctest: +SKIP
    >>> result.summary["handling_days_median"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from collabsim.cases import Trail
from collabsim.limits import check_fits
from collabsim.loading import apply_overrides, load_scenario, scenario_from_dict
from collabsim.metrics import agency_table, case_table, summarize
from collabsim.model import CollaborationModel
from collabsim.scenario import Scenario

__all__ = ["RunResult", "resolve_scenario", "run", "simulate"]


@dataclass(frozen=True)
class RunResult:
    """Everything one run produces.

    Attributes:
        scenario: the scenario that was run.
        seed: its seed.
        summary: the summary (``docs/outputs.md``).
        cases: one row per case.
        timeseries: one row per day.
        agencies: one row per agency.
    """

    scenario: Scenario
    seed: int
    summary: dict[str, Any]
    cases: pd.DataFrame
    timeseries: pd.DataFrame
    agencies: pd.DataFrame


def resolve_scenario(
    scenario: Scenario | str | Path, overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """A scenario from a file path or an object, with dotted-path overrides applied.

    Raises:
        ScenarioError: if the file or an override is invalid.
    """
    if not isinstance(scenario, Scenario):
        return load_scenario(scenario, overrides)
    if not overrides:
        return scenario
    data = scenario.model_dump(by_alias=True)
    return scenario_from_dict(apply_overrides(data, overrides), scenario.name)


def simulate(
    scenario: Scenario, seed: int = 0, *, size_check: bool = True, trail: Trail = "full"
) -> CollaborationModel:
    """Build the model and run it for the scenario's ``run.days``.

    ``trail="lean"`` keeps only each case's event counts (faster; the same outputs).

    Raises:
        RunTooLarge: if the run would not fit in memory or take hours
            (:func:`collabsim.limits.check_fits`), unless ``size_check`` is false.
    """
    if size_check:
        check_fits(scenario, scenario.name)
    model = CollaborationModel(scenario, seed=seed, trail=trail)
    model.run_days(scenario.run.days)
    return model


def run(
    scenario: Scenario | str | Path,
    seed: int = 0,
    *,
    days: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    size_check: bool = True,
    trail: Trail = "full",
) -> RunResult:
    """Run one simulation.

    Args:
        scenario: a :class:`Scenario` or the path of a scenario file.
        seed: the seed; the same scenario and seed give the same result.
        days: run length, replacing the scenario's ``run.days``.
        overrides: dotted-path values, e.g. ``{"agencies.hub.staff": 20}``.
        size_check: refuse a run that would not fit in memory or take hours.
        trail: ``full`` keeps every case's events, ``lean`` only their counts
            (faster); the summary and the tables are the same.

    Returns:
        The summary and the case, daily and agency tables.

    Raises:
        ScenarioError: if the scenario is invalid.
        RunTooLarge: if the run would not fit (see ``size_check``).
    """
    extra = dict(overrides or {})
    if days is not None:
        extra["run.days"] = days
    params = resolve_scenario(scenario, extra)
    if size_check:
        check_fits(params, scenario.name if isinstance(scenario, Scenario) else str(scenario))
    model = simulate(params, seed, size_check=False, trail=trail)
    cases = case_table(model)
    timeseries, agencies = model.timeseries(), agency_table(model)
    summary = summarize(model, cases, timeseries, agencies)
    return RunResult(params, seed, summary, cases, timeseries, agencies)
