"""Virtuous and vicious cycles: two scenarios compared day by day, and how long a gap lasts.

A cycle experiment is a paired comparison (common random numbers) of a
reference scenario A and a scenario B that differs by a shock or a lever,
that also keeps every run's daily series. Per day it gives the mean gap
B - A in each index with its 95% confidence interval, and the *hysteresis*:
how many days after a given day (the shock's end) the gap takes to come back
within a tolerance and stay there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from collabsim.api import resolve_scenario
from collabsim.experiments.analyses import Comparison, compare
from collabsim.experiments.execution import Progress
from collabsim.experiments.stats import confidence_interval
from collabsim.experiments.store import ResultsStore
from collabsim.scenario import Scenario

__all__ = ["INDEX_COLUMNS", "Cycle", "cycle", "hysteresis"]

INDEX_COLUMNS = ("engagement", "motivation", "capacity")
"""The daily series' columns a cycle follows by default."""


@dataclass
class Cycle:
    """Two scenarios compared day by day.

    Attributes:
        gap: one row per day; per column ``<col>``, ``<col>_low`` and
            ``<col>_high``: the mean gap B - A and its 95% confidence interval.
        hysteresis: per column, days from ``since`` until the gap is back
            within the tolerance for good (``None``: not within the run).
        comparison: the paired comparison of the two arms' summaries.
        since: the day the hysteresis is counted from.
        tolerance: how close counts as back.
    """

    gap: pd.DataFrame
    hysteresis: dict[str, int | None]
    comparison: Comparison
    since: int
    tolerance: float
    columns: tuple[str, ...] = field(default=INDEX_COLUMNS)


def hysteresis(gap: pd.Series, since: int, tolerance: float) -> int | None:
    """Days from day ``since`` until ``|gap|`` is at most ``tolerance`` on every later day.

    Args:
        gap: the mean gap, indexed by day.
        since: the day to count from (the shock's end).
        tolerance: how close counts as back.

    Returns:
        The days, or ``None`` if the gap is still wider on the last day.
    """
    values = np.abs(gap.loc[since:].to_numpy(dtype=float))
    if not values.size or values[-1] > tolerance:
        return None
    outside = np.flatnonzero(values > tolerance)
    return 0 if not outside.size else int(outside[-1]) + 1


def cycle(
    a: Scenario | str | Path,
    b: Scenario | str | Path,
    reps: int,
    *,
    since: int,
    out: str | Path,
    seed: int = 0,
    tolerance: float = 0.01,
    columns: tuple[str, ...] = INDEX_COLUMNS,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    size_check: bool = True,
    add: bool = False,
) -> Cycle:
    """Compare two scenarios day by day over ``reps`` paired replications.

    Args:
        a: the reference scenario (or its file).
        b: the scenario with the shock or the lever (or its file).
        reps: replications (the same seeds in both arms).
        since: the day to count the hysteresis from (a shock's end).
        out: the experiment folder (its store resumes a killed run).
        seed: the root seed.
        tolerance: how close to the reference counts as back, on the index scale.
        columns: the daily series' columns to follow.
        workers: processes (default: all cores).
        scheduler: a Dask scheduler address, to run there instead.
        progress: called after each run.
        size_check: first refuse runs that would not fit in memory or take hours.
        add: keep this experiment beside another one in the same store.
    """
    pa, pb = resolve_scenario(a), resolve_scenario(b)
    comparison = compare(
        pa, pb, reps, seed=seed, out=out, workers=workers, scheduler=scheduler,
        progress=progress, size_check=size_check, add=add,
    )  # fmt: skip
    with ResultsStore(Path(out) / "results.sqlite") as store:
        series = store.table("timeseries")
    arms = {}
    for arm, runs in (("A", comparison.runs_a), ("B", comparison.runs_b)):
        keys = dict(zip(runs["run_key"], runs["replication"], strict=True))
        rows = series[series["run_key"].isin(keys)]
        arms[arm] = rows.assign(rep=rows["run_key"].map(keys))
    gap: dict[str, np.ndarray] = {}
    days = pd.Index([], dtype=int)
    for col in columns:
        wide = {
            arm: rows.pivot_table(index="day", columns="rep", values=col)
            for arm, rows in arms.items()
        }
        reps_both = wide["A"].columns.intersection(wide["B"].columns)
        diff = (wide["B"][reps_both] - wide["A"][reps_both]).to_numpy()
        gap[col] = diff.mean(axis=1)
        bounds = np.array([confidence_interval(row) for row in diff])
        gap[f"{col}_low"], gap[f"{col}_high"] = bounds[:, 0], bounds[:, 1]
        days = wide["A"].index
    table = pd.DataFrame(gap, index=pd.Index(days, name="day"))
    found = {col: hysteresis(table[col], since, tolerance) for col in columns}
    return Cycle(table, found, comparison, since, tolerance, tuple(columns))
