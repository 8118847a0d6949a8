"""Barrier priority over futures: which barrier to fix first, and how far that rests on the ranges.

In each future (Latin hypercube over the scenario's ``[ranges]``, as
:mod:`collabsim.experiments.explore` draws them) the barriers are taken off
in two ways, all with the same seeds:

- one at a time, from all on: the barrier whose removal alone saves most is
  the *first to fix* in that future;
- one after another in an order drawn for the future, from all on to all
  off: each barrier's step down is one sample of its Shapley value (the
  mean over every order), and the steps add up to all on minus all off.

Averaged over the futures, the sampled contributions estimate each
barrier's share of the days lost across the ranges (the exact Shapley value
takes 128 runs per future; this takes 14). A future's own share carries the
noise of its one order as well as the future's: read the spread with that
in mind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from collabsim.api import resolve_scenario
from collabsim.assumptions import uncertainties
from collabsim.errors import InputError
from collabsim.experiments.execution import Arm, Progress, replicate_seeds, run_experiment
from collabsim.experiments.explore import each_future, in_future, no_ranges, sample_futures
from collabsim.experiments.store import Experiment
from collabsim.i18n import _, translator
from collabsim.loading import scenario_hash
from collabsim.scenario import BARRIER_NAMES, Scenario

__all__ = ["Priority", "priority"]

_ALL = 2 ** len(BARRIER_NAMES) - 1  # every barrier on (bit k: barrier k on)


@dataclass
class Priority:
    """What :func:`priority` found.

    Attributes:
        output: the output the days are counted on.
        futures: one row per future (``future``, then each uncertainty).
        per_future: one row per future and barrier: ``alone`` (what removing it
            alone saves), ``step`` (its step down in the future's order),
            ``share`` (``step`` over all on minus all off), ``first`` (it is the
            first to fix there).
        table: one row per barrier, over the futures in which the output is
            defined in every combination (``futures`` of them): ``days`` (mean
            step), ``share`` (mean step over the mean total), ``share_p10``,
            ``share_p50``, ``share_p90``, ``first_share`` (of the futures in
            which it is the first to fix).
        failed: keys of runs that failed.
    """

    output: str
    futures: pd.DataFrame
    per_future: pd.DataFrame
    table: pd.DataFrame
    failed: list[str]


def _order(seed: int, f: int) -> list[int]:
    """The order in which future ``f`` takes the barriers off."""
    rng = np.random.default_rng([seed, f])
    return [int(k) for k in rng.permutation(len(BARRIER_NAMES))]


def _masks(order: list[int]) -> list[int]:
    """Every combination a future runs: all on, each barrier off alone, and the order's path."""
    masks = [_ALL, *(_ALL & ~(1 << k) for k in range(len(BARRIER_NAMES)))]
    mask = _ALL
    for k in order:
        mask &= ~(1 << k)
        masks.append(mask)
    return list(dict.fromkeys(masks))


def priority(
    scenario: Scenario | str | Path,
    futures: int,
    *,
    reps: int = 1,
    seed: int = 0,
    out: str | Path,
    output: str = "handling_days_median",
    better: Literal["min", "max"] = "min",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    size_check: bool = True,
    add: bool = False,
) -> Priority:
    """Which barrier to fix first, in each of ``futures`` futures over the scenario's ranges.

    Args:
        scenario: the scenario (with ``[ranges]``) or its file.
        futures: how many futures.
        reps: replications of each combination (common random numbers).
        seed: the root seed of the design, the orders and the replications.
        out: the experiment folder (a killed run resumes there).
        output: the output whose days are counted.
        better: which way is better for it (a barrier's cost is the change
            that removing it brings, the right way round).
        workers: processes (default: all cores).
        scheduler: a Dask scheduler address, to run there instead.
        progress: called after each run.
        size_check: first refuse runs that would not fit in memory or take hours.
        add: keep this experiment beside another one in the same store.

    Raises:
        InputError: if the scenario has no ranges, or the output is unknown.
    """
    base = resolve_scenario(scenario)
    dims = uncertainties(base)
    if not dims:
        raise InputError(base.name, [no_ranges()])
    table = sample_futures(dims, futures, seed)
    seeds = replicate_seeds(seed, reps)
    arms: list[Arm] = []
    for f, _point, values in each_future(base, table, dims):
        for mask in _masks(_order(seed, f)):
            off = {f"barriers.{b}.intensity": 0.0
                   for k, b in enumerate(BARRIER_NAMES) if not mask >> k & 1}  # fmt: skip
            with in_future(f, base, _("barriers on {mask}").format(mask=f"{mask:03d}")):
                arms.append((f"f{f:05d}/on{mask:03d}", resolve_scenario(base, values | off), seeds))
    stored = run_experiment(
        out,
        Experiment(
            "priority",
            {a: scenario_hash(s) for a, s, _s in arms},
            seed,
            label=_("barrier priority over {futures} futures of {scenario}").format(
                futures=translator().number(futures), scenario=base.name
            ),
        ),
        arms,
        keep_timeseries=False,
        add=add,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        size_check=size_check,
    )
    runs = stored.runs[stored.runs["status"] == "done"]
    if len(runs) and output not in runs.columns:
        problem = _("unknown output {output} (the runs are kept)")
        raise InputError("output", [problem.format(output=repr(output))])
    value = runs.groupby("arm")[output].mean().to_dict()
    sign = 1.0 if better == "min" else -1.0
    rows = []
    for f in range(futures):

        def v(mask: int, f: int = f) -> float:
            return sign * float(value.get(f"f{f:05d}/on{mask:03d}", np.nan))

        order = _order(seed, f)
        total = v(_ALL) - v(0)
        alone = [v(_ALL) - v(_ALL & ~(1 << k)) for k in range(len(BARRIER_NAMES))]
        step, mask = {}, _ALL
        for k in order:
            step[k] = v(mask) - v(mask & ~(1 << k))
            mask &= ~(1 << k)
        first = int(np.nanargmax(alone)) if not np.all(np.isnan(alone)) else -1
        for k, name in enumerate(BARRIER_NAMES):
            rows.append(
                {"future": f, "barrier": name, "alone": alone[k], "step": step[k],
                 "share": step[k] / total if total else np.nan, "first": k == first}
            )  # fmt: skip
    per_future = pd.DataFrame(rows)
    # a future counts when the output is defined in every combination it ran
    defined = per_future.groupby("future")[["alone", "step"]].transform(lambda c: c.notna().all())
    counted = per_future[defined.all(axis=1)]
    totals = counted.groupby("future")["step"].sum()
    summary = []
    for barrier, g in counted.groupby("barrier", sort=False):
        summary.append(
            {"barrier": barrier, "futures": len(g), "days": g["step"].mean(),
             "share": g["step"].mean() / totals.mean() if totals.mean() else np.nan,
             "share_p10": g["share"].quantile(0.1), "share_p50": g["share"].median(),
             "share_p90": g["share"].quantile(0.9), "first_share": g["first"].mean()}
        )  # fmt: skip
    return Priority(output, table, per_future, pd.DataFrame(summary), stored.failed)
