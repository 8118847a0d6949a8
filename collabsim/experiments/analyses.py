"""The analyses: replications, paired comparisons and barrier attribution.

Each describes its runs as arms (:data:`~collabsim.experiments.execution.Arm`),
runs them through :func:`~collabsim.experiments.execution.run_experiment`
(serially, on local processes or on Dask, into the folder's results store)
and turns the stored outputs into statistics with confidence intervals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collabsim.api import resolve_scenario
from collabsim.assumptions import uncertainties
from collabsim.experiments.execution import (
    Arm,
    Progress,
    arm_table,
    outputs_of,
    replicate_seeds,
    run_experiment,
)
from collabsim.experiments.shapley import shapley_values
from collabsim.experiments.stats import describe, welch
from collabsim.experiments.store import Experiment
from collabsim.i18n import _, translator
from collabsim.loading import scenario_hash
from collabsim.scenario import BARRIER_NAMES, Scenario, parameters

__all__ = [
    "Attribution",
    "AttributionAcross",
    "Comparison",
    "Replications",
    "attribute",
    "attribute_across",
    "compare",
    "replicate",
]


@dataclass
class Replications:
    """Replications of one scenario: per-run outputs and their statistics."""

    runs: pd.DataFrame
    stats: pd.DataFrame
    failed: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)

    def needed(self, output: str, half_width: float, level: float = 0.95) -> int:
        """Replications needed for a ``level`` interval of ``half_width`` on ``output``."""
        from collabsim.experiments.stats import replications_needed

        return replications_needed(self.runs[output].to_numpy(dtype=float), half_width, level)


def replicate(
    scenario: Scenario | str | Path,
    reps: int,
    *,
    seed: int = 0,
    out: str | Path,
    overrides: Mapping[str, Any] | None = None,
    keep_cases: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    size_check: bool = True,
    add: bool = False,
) -> Replications:
    """Run a scenario ``reps`` times and summarise with confidence intervals.

    Args:
        scenario: a scenario or its file.
        reps: replications.
        seed: the root seed.
        out: the experiment folder (its ``results.sqlite`` is reused to resume).
        overrides: dotted-path values.
        keep_cases: also store each run's per-case table.
        workers: processes (default: all cores).
        scheduler: a Dask scheduler address, to run there instead.
        progress: called after each run.
        size_check: first refuse runs that would not fit in memory or take hours.
        add: keep this experiment beside another one in the same store (apart).
    """
    params = resolve_scenario(scenario, overrides)
    identity = Experiment("replicate", {"A": scenario_hash(params)}, seed, label=params.name)
    stored = run_experiment(
        out,
        identity,
        [("A", params, replicate_seeds(seed, reps))],
        keep_cases=keep_cases,
        add=add,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        size_check=size_check,
    )
    table = arm_table(stored.runs, "A")
    return Replications(table, describe(outputs_of(table)), stored.failed, stored.damaged)


@dataclass
class Comparison:
    """A paired comparison of two scenarios (B minus A)."""

    table: pd.DataFrame
    runs_a: pd.DataFrame
    runs_b: pd.DataFrame
    failed: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)


def compare(
    a: Scenario | str | Path,
    b: Scenario | str | Path,
    reps: int,
    *,
    seed: int = 0,
    out: str | Path,
    common_random_numbers: bool = True,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    size_check: bool = True,
    add: bool = False,
) -> Comparison:
    """Compare two scenarios over ``reps`` replications.

    With common random numbers (the default) both arms use the same seeds, so
    the same cases arrive at the same times in both; the difference B - A is
    then estimated per replication (a paired comparison). Without, arm B uses
    other seeds and the interval is Welch's, for two independent samples.

    Args:
        a: the first scenario (A) or its file.
        b: the second scenario (B) or its file.
        reps: replications.
        seed: the root seed.
        out: the experiment folder.
        common_random_numbers: the same seeds in both arms (a paired comparison).
        workers: processes (default: all cores).
        scheduler: a Dask scheduler address, to run there instead.
        progress: called after each run.
        size_check: first refuse runs that would not fit in memory or take hours.
        add: keep this experiment beside another one in the same store (apart).

    Returns:
        Per output: ``mean_a``, ``mean_b``, ``diff``, ``ci_low``, ``ci_high``,
        ``half_width``.
    """
    pa, pb = resolve_scenario(a), resolve_scenario(b)
    seeds_a = replicate_seeds(seed, reps)
    seeds_b = seeds_a if common_random_numbers else replicate_seeds(seed + 1_000_003, reps)
    name = "compare" if common_random_numbers else "compare-independent"
    hashes = {"A": scenario_hash(pa), "B": scenario_hash(pb)}
    stored = run_experiment(
        out,
        Experiment(name, hashes, seed, label=_("{a} and {b}").format(a=pa.name, b=pb.name)),
        [("A", pa, seeds_a), ("B", pb, seeds_b)],
        add=add,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        size_check=size_check,
    )
    ra, rb = arm_table(stored.runs, "A"), arm_table(stored.runs, "B")
    xa, xb = outputs_of(ra), outputs_of(rb)
    cols = [c for c in xa.columns if c in xb.columns]
    if common_random_numbers:
        paired = xb[cols].set_axis(rb["replication"]) - xa[cols].set_axis(ra["replication"])
        diff = paired.dropna(how="all")
        stats = describe(diff)
    else:
        stats = welch(xa[cols], xb[cols])
    table = pd.DataFrame(
        {
            "mean_a": xa[cols].mean(),
            "mean_b": xb[cols].mean(),
            "diff": stats["mean"],
            "ci_low": stats["ci_low"],
            "ci_high": stats["ci_high"],
            "half_width": stats["half_width"],
        }
    )
    table.index.name = "output"
    return Comparison(table, ra, rb, stored.failed, stored.damaged)


@dataclass
class Attribution:
    """Shapley values of the barriers for some outputs.

    Attributes:
        table: per barrier and output: ``days`` (mean Shapley value) with its CI.
        per_replication: the Shapley values of each replication.
        totals: per output, v(all on) - v(all off) (mean over replications).
        damaged: keys of stored records that failed their checksum (not used; run again).
    """

    table: pd.DataFrame
    per_replication: pd.DataFrame
    totals: pd.Series
    damaged: list[str] = field(default_factory=list)

    def ranking(self, output: str) -> list[str]:
        """The barriers from the one that costs most days of ``output`` to the least."""
        rows = self.table[self.table["output"] == output]
        return list(rows.sort_values("days", ascending=False, kind="stable")["barrier"])


@dataclass
class AttributionAcross:
    """The barrier attribution at an assumption's value and at both ends of its range.

    Attributes:
        key: the assumption (a dotted scenario path).
        values: the assumption's value at each point: ``low``, ``scenario``, ``high``.
        attributions: the attribution at each point.
        table: per point, barrier and output: the days and the barrier's rank (1 = costs most).
        stable: per output, whether the ranking is the same at every point.
    """

    key: str
    values: dict[str, float]
    attributions: dict[str, Attribution]
    table: pd.DataFrame
    stable: dict[str, bool]


def attribute_across(
    scenario: Scenario | str | Path,
    key: str,
    reps: int,
    *,
    out: str | Path,
    outputs: Iterable[str] = ("handling_days_median", "handling_days_p90"),
    progress: Progress | None = None,
    **options: Any,
) -> AttributionAcross:
    """Attribute the barriers at an assumption's value and at both ends of its range.

    The range is the scenario's ``ranges`` entry for ``key``. Each point is
    its own experiment (with the same seeds), in ``out`` (the scenario's
    value) and ``out/low`` and ``out/high``; a killed run resumes each.

    Args:
        scenario: a scenario or its file.
        key: the assumption, e.g. ``barriers.resources.rework_scale``.
        reps: replications at each point.
        out: the experiment folder.
        outputs: summary outputs to attribute.
        progress: called after each run.
        **options: passed to :func:`attribute` (seed, workers, scheduler, ...).

    Raises:
        ValueError: if the scenario gives no range for ``key``.
    """
    base = resolve_scenario(scenario)
    found = {u.name: u for u in uncertainties(base)}
    if key not in found:
        if not found:
            raise ValueError(
                _("the scenario gives no range for {key} (its ranges: none)").format(key=repr(key))
            )
        problem = _("the scenario gives no range for {key} (its ranges: {known})")
        raise ValueError(problem.format(key=repr(key), known=", ".join(found)))
    rng = found[key]
    outputs = list(outputs)
    folder = Path(out)
    numbers = parameters(base)
    if rng.relative:
        now = 1.0  # the factor
    elif len(rng.keys) == 1:
        now = float(numbers[rng.keys[0]])
    else:
        now = math.nan  # the parameters it moves keep their own values
    values = {"low": rng.low, "scenario": now, "high": rng.high}
    attributions = {}
    for point, value in values.items():
        params = base if point == "scenario" else resolve_scenario(base, rng.at(value, numbers))
        where = folder if point == "scenario" else folder / point
        attributions[point] = attribute(
            params, reps, out=where, outputs=outputs, progress=progress, **options
        )
    rows = []
    for point, result in attributions.items():
        for o in outputs:
            rank = {b: k + 1 for k, b in enumerate(result.ranking(o))}
            for _i, r in result.table[result.table["output"] == o].iterrows():
                rows.append(
                    {"point": point, key: values[point], "barrier": r["barrier"], "output": o,
                     "days": r["days"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "rank": rank[r["barrier"]]}
                )  # fmt: skip
    stable = {o: len({tuple(a.ranking(o)) for a in attributions.values()}) == 1 for o in outputs}
    return AttributionAcross(key, values, attributions, pd.DataFrame(rows), stable)


def _mask_arm(mask: int) -> str:
    return f"on{mask:03d}"


def attribute(
    scenario: Scenario | str | Path,
    reps: int,
    *,
    seed: int = 0,
    out: str | Path,
    outputs: Iterable[str] = ("handling_days_median", "handling_days_p90"),
    barriers: Sequence[str] = BARRIER_NAMES,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    size_check: bool = True,
    add: bool = False,
) -> Attribution:
    """How much of each output each barrier costs: Shapley values over on/off combinations.

    Every combination of the chosen barriers on (as in the scenario) or off
    (intensity 0) is run with the same seeds (common random numbers). Per
    replication, barrier i gets
    ``sum over S not containing i of |S|!(n-|S|-1)!/n! * (v(S + i) - v(S))``;
    the values add up exactly to v(all on) - v(all off).

    Args:
        scenario: a scenario or its file.
        reps: replications.
        seed: the root seed.
        out: the experiment folder.
        outputs: summary outputs to attribute.
        barriers: the barriers to attribute (the others stay as in the scenario).
        workers: processes (default: all cores).
        scheduler: a Dask scheduler address, to run there instead.
        progress: called after each run.
        size_check: first refuse runs that would not fit in memory or take hours.
        add: keep this experiment beside another one in the same store (apart).
    """
    base = resolve_scenario(scenario)
    n = len(barriers)
    unknown = set(barriers) - set(BARRIER_NAMES)
    if unknown:
        raise ValueError(_("unknown barriers: {barriers}").format(barriers=sorted(unknown)))
    seeds = replicate_seeds(seed, reps)
    arms: list[Arm] = []
    for mask in range(2**n):
        off = {f"barriers.{b}.intensity": 0.0 for k, b in enumerate(barriers) if not mask >> k & 1}
        arms.append((_mask_arm(mask), resolve_scenario(base, off), seeds))
    stored = run_experiment(
        out,
        Experiment("attribute", {a: scenario_hash(p) for a, p, _s in arms}, seed, label=base.name),
        arms,
        keep_timeseries=False,
        add=add,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        size_check=size_check,
    )
    runs = stored.runs
    failed = runs[runs["status"] == "failed"]
    if len(failed):
        problem = _("{n} runs failed, e.g. {error}")
        raise RuntimeError(
            problem.format(n=translator().number(len(failed)), error=failed["error"].iloc[0])
        )
    outputs = list(outputs)
    value = {
        (arm, rep): row
        for arm, rep, row in zip(
            runs["arm"], runs["replication"], runs[outputs].to_dict("records"), strict=True
        )
    }
    rows = []
    for rep in range(reps):
        games = {o: {m: value[(_mask_arm(m), rep)][o] for m in range(2**n)} for o in outputs}
        phi = {o: shapley_values(game, n) for o, game in games.items()}
        for k, name in enumerate(barriers):
            rows.append({"replication": rep, "barrier": name, **{o: phi[o][k] for o in outputs}})
    per_rep = pd.DataFrame(rows)
    stats = []
    for key, grp in per_rep.groupby("barrier", sort=False):
        d = describe(grp[outputs])
        for o in outputs:
            stats.append({"barrier": str(key), "output": o, **d.loc[o].to_dict()})
    table = pd.DataFrame(stats).rename(columns={"mean": "days"})
    full, empty = _mask_arm(2**n - 1), _mask_arm(0)
    totals = pd.Series(
        {
            o: float(np.mean([value[(full, r)][o] - value[(empty, r)][o] for r in range(reps)]))
            for o in outputs
        }
    )
    return Attribution(table, per_rep, totals, stored.damaged)
