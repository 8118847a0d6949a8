"""The best mix for a budget: which interventions together, and how many more posts of which kind.

A *mix* is some of the given interventions taken together, plus a number of
extra posts at every agency of some kinds. Its scenario is the baseline
with each chosen intervention's own changes (:func:`compose`): counts
(staff, beds) and costs add up, so two interventions that each add posts
add both; any other setting two of them change differently cannot be mixed.

A mix runs in every future (drawn over the ranges as
:mod:`collabsim.experiments.explore` draws them) against the baseline, with
the same seeds. Its extra cost a year is known before it runs (its posts and
its interventions' costs in each future), so a mix that would cost more than
the budget in more than one future out of ten is never run.

The search: when the mixes are few (at most ``exhaustive``), every
affordable one runs. Otherwise scipy's differential evolution searches the
space (each intervention in or out, each kind's extra posts: integers),
for the mix with the best worst decile of its effect, within the budget as
a constraint; each generation's new mixes run together, on processes or
Dask, and a mix runs once however often the search proposes it. Among every
mix that ran, :func:`collabsim.experiments.allocate.allocate` then chooses
by the rule asked for and draws the cost-effect frontier. The search is
seeded, so the same command proposes the same mixes, and a killed search
resumes from the store.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from collabsim.api import resolve_scenario
from collabsim.assumptions import carried, future, uncertainties
from collabsim.errors import InputError
from collabsim.experiments.allocate import Allocation, Rule, allocate
from collabsim.experiments.execution import Arm, Progress, replicate_seeds, run_experiment
from collabsim.experiments.explore import (
    BASELINE,
    GOALS,
    each_future,
    in_future,
    no_ranges,
    own_ranges,
    owned,
    sample_futures,
)
from collabsim.experiments.explore import _effects as effects_of
from collabsim.experiments.store import Experiment
from collabsim.i18n import _, translator
from collabsim.loading import scenario_hash
from collabsim.scenario import Scenario, parameters

__all__ = ["ADDITIVE", "Mix", "MixSearch", "check_mix", "compose", "evolve", "search_mix"]

ADDITIVE = ("costs.one_off", "costs.yearly")
"""Settings that add up when interventions are mixed (as counts do)."""

Method = Literal["auto", "all", "evolve"]


@dataclass(frozen=True)
class Mix:
    """Some interventions taken together, and extra posts at every agency of some kinds.

    Attributes:
        levers: the interventions' names, in the order given to the search.
        staff: (agency kind, extra posts at each agency of it), only kinds with some.
    """

    levers: tuple[str, ...] = ()
    staff: tuple[tuple[str, int], ...] = ()

    @property
    def name(self) -> str:
        """E.g. ``integrated-sops & hub+6``; ``baseline`` for doing nothing."""
        return " & ".join(_parts(self.levers, dict(self.staff))) or BASELINE


def _parts(levers: Iterable[str], staff: Mapping[str, int]) -> list[str]:
    """A mix's name's parts: its interventions, then each kind's extra posts (when some)."""
    return [*levers, *(f"{kind}+{n}" for kind, n in staff.items() if n)]


def check_mix(base: Scenario, levers: Mapping[str, Scenario], staff: Mapping[str, int]) -> None:
    """Refuse, before any run, a search with nothing to mix or that cannot be mixed.

    Raises:
        InputError: if there are neither interventions nor posts, an intervention
            is named ``baseline``, two set one setting differently, or a kind
            is not the baseline's.
    """
    if not levers and not any(staff.values()):
        raise InputError("mix", [_("nothing to mix: give interventions or --staff KIND=MOST")])
    if BASELINE in levers:
        problem = _("{name} names doing nothing; call it otherwise")
        raise InputError("levers", [problem.format(name=repr(BASELINE))])
    compose(base, levers, dict.fromkeys(staff, 0))


def compose(
    base: Scenario,
    levers: Mapping[str, Scenario],
    staff: Mapping[str, int] | None = None,
) -> Scenario:
    """The baseline with every intervention's own changes, and extra posts.

    A count (staff, beds) or a cost (:data:`ADDITIVE`) that several
    interventions change takes all their changes (each one's value minus the
    baseline's, added up); ``staff`` adds that many posts at every agency of
    each kind. The ranges and sources stay the baseline's.

    Args:
        base: the baseline.
        levers: name to intervention (a scenario that extends the baseline).
        staff: agency kind to extra posts at each agency of it.

    Raises:
        InputError: if two interventions set another setting differently, or a
            kind is not the baseline's.
    """
    numbers = parameters(base)
    doc = base.model_dump(by_alias=True)
    changes: dict[str, Any] = {}
    setter: dict[str, str] = {}
    for name, lever in levers.items():
        for key, value in _changes(doc, lever.model_dump(by_alias=True)).items():
            if _adds(key, numbers, value):
                changes[key] = changes.get(key, numbers[key]) + value - numbers[key]
            elif key in changes and changes[key] != value:
                problem = _("{one} sets {first} and {other} sets {second}; they cannot be mixed")
                text = problem.format(
                    one=setter[key], first=repr(changes[key]), other=name, second=repr(value)
                )
                raise InputError("mix", [f"{key}: {text}"])
            else:
                changes[key], setter[key] = value, name
    for kind, n in (staff or {}).items():
        key = f"agencies.{kind}.staff"
        if key not in numbers:
            problem = _("{kind} is no agency kind of {scenario}")
            raise InputError("staff", [problem.format(kind=repr(kind), scenario=base.name)])
        changes[key] = changes.get(key, numbers[key]) + n
    changes["name"] = " & ".join([base.name, *_parts(levers, staff or {})])
    return resolve_scenario(base, changes)


def _changes(
    before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = ""
) -> dict[str, Any]:
    """Every setting of ``after`` that differs from ``before``, by dotted name (lists whole)."""
    out: dict[str, Any] = {}
    for key, value in after.items():
        if not prefix and key in ("name", "description", "ranges", "sources"):
            continue
        dotted = f"{prefix}.{key}" if prefix else str(key)
        old = before.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            out |= _changes(old, value, dotted)
        elif value != old:
            out[dotted] = value
    return out


def _adds(key: str, numbers: Mapping[str, float], value: Any) -> bool:
    """Whether mixed interventions' changes of this setting add up."""
    if key not in numbers or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return key in ADDITIVE or (isinstance(numbers[key], int) and isinstance(value, int))


@dataclass
class MixSearch:
    """What :func:`search_mix` found.

    Attributes:
        allocation: the choice among every mix that ran, and its table
            (:class:`collabsim.experiments.allocate.Allocation`).
        mixes: one row per mix that ran: ``policy`` (its name), one column per
            intervention (1 in, 0 out) and per kind (extra posts), then the
            allocation's columns.
        effects: one row per future and mix, as :func:`explore` gives them.
        futures: one row per future.
        method: ``all`` (every affordable mix ran) or ``evolve`` (a search).
        proposed: how many distinct mixes were considered.
        too_dear: how many of them cost more than the budget (never run).
        seeds: the replicate seeds.
        failed: keys of runs that failed.
        damaged: keys of stored records that failed their checksum.
    """

    allocation: Allocation
    mixes: pd.DataFrame
    effects: pd.DataFrame
    futures: pd.DataFrame
    method: Literal["all", "evolve"]
    proposed: int
    too_dear: int
    seeds: list[int]
    failed: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)


def search_mix(
    base: Scenario | str | Path,
    levers: Mapping[str, Scenario | str | Path],
    budget: float,
    futures: int,
    *,
    staff: Mapping[str, int] | None = None,
    output: str = "handling_days_median",
    rule: Rule = "worst",
    reps: int = 1,
    seed: int = 0,
    out: str | Path,
    method: Method = "auto",
    exhaustive: int = 32,
    generations: int = 10,
    population: int = 4,
    overrides: Mapping[str, Any] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    size_check: bool = True,
    add: bool = False,
) -> MixSearch:
    """The mix of interventions and extra posts that does most for ``output`` within ``budget``.

    Args:
        base: the baseline (its ``[ranges]`` span the futures) or its file.
        levers: name to intervention scenario (or file).
        budget: rupiah a year a mix may cost on top of today's (in nine futures of ten).
        futures: how many futures to draw over the ranges.
        staff: agency kind to the most extra posts at each agency of it.
        output: the output to improve (which way is better: :data:`GOALS`, else lower).
        rule: how the choice is made among the mixes that ran (``worst`` or ``regret``).
        reps: replications per future and mix (common random numbers).
        seed: the root seed of the futures, the search and the replications.
        out: the experiment folder (a killed search resumes there).
        method: ``all`` runs every affordable mix; ``evolve`` searches;
            ``auto`` runs all when there are at most ``exhaustive`` mixes.
        exhaustive: the most mixes ``auto`` runs all of.
        generations: the search's generations (after the first).
        population: the search's population per variable (scipy's ``popsize``).
        overrides: dotted-path values applied to the baseline and every intervention.
        workers: processes (default: all cores).
        scheduler: a Dask scheduler address, to run there instead.
        progress: called after each run, with the runs done and asked for so far.
        size_check: first refuse runs that would not fit in memory or take hours.
        add: keep this search beside another experiment in the same store.

    Raises:
        InputError: if there is nothing to mix, the baseline has no ranges, the
            interventions cannot be mixed, or the output is unknown.
    """
    fixed = dict(overrides or {})
    scenario = resolve_scenario(base, fixed)
    resolved = {n: resolve_scenario(p, fixed) for n, p in levers.items()}
    check_mix(scenario, resolved, staff or {})
    if not uncertainties(scenario):
        raise InputError(scenario.name, [no_ranges()])
    space = _Space(scenario, resolved, dict(staff or {}), futures, seed, reps)
    better = GOALS.get(output, "min")
    runner = _Runner(space, out, budget, output, better, workers, scheduler, progress,
                     size_check, add)  # fmt: skip
    runner.run([Mix()])
    total = math.prod([2] * len(space.levers) + [m + 1 for m in space.most.values()])
    chosen: Literal["all", "evolve"]
    if method == "all" or (method == "auto" and total <= exhaustive):
        chosen = "all"
        runner.score_all(space.every_mix())
    else:
        chosen = "evolve"
        evolve(
            space.bounds(),
            lambda xs: runner.score_all([space.mix(x) for x in xs]),
            lambda x: runner.extra_cost(space.mix(x)),
            budget,
            generations=generations,
            population=population,
            seed=seed,
        )
    effects = runner.effects()
    table = allocate(effects, output, better, budget, rule)
    mixes = pd.DataFrame([space.row(m) for m in runner.ran.values()])
    return MixSearch(
        table, mixes.merge(table.table, on="policy"), effects, space.table, chosen,
        len(runner.cost), sum(c > budget for c in runner.cost.values()), space.seeds,
        runner.failed, runner.damaged,
    )  # fmt: skip


class _Space:
    """The mixes, the futures, and each mix's scenario in each future."""

    def __init__(
        self,
        base: Scenario,
        levers: dict[str, Scenario],
        most: dict[str, int],
        futures: int,
        seed: int,
        reps: int,
    ) -> None:
        self.base, self.levers, self.most = base, levers, most
        self.dims = uncertainties(base)
        self.numbers = parameters(base)
        self.values = {n: parameters(p) for n, p in levers.items()}
        own = {n: owned(p, self.numbers) for n, p in levers.items()}
        self.extra = {n: own_ranges(p, base, own[n]) for n, p in levers.items()}
        renamed = [replace(u, name=f"{n}:{u.name}") for n, us in self.extra.items() for u in us]
        self.table = sample_futures([*self.dims, *renamed], futures, seed)
        self.points = list(each_future(base, self.table, self.dims))
        self.seeds = replicate_seeds(seed, reps)
        self._arms: dict[Mix, list[Arm]] = {}  # a mix's arms: its cost and its runs use them
        self.experiment = Experiment(
            "mix",
            {BASELINE: scenario_hash(base)} | {n: scenario_hash(p) for n, p in levers.items()},
            seed,
            design=hashlib.sha256(
                json.dumps(self.table.to_dict("list"), default=float).encode()
            ).hexdigest()[:16],
            label=_("mixes over {futures} futures of {scenario}").format(
                futures=translator().number(futures), scenario=base.name
            ),
        )

    def mix(self, x: Sequence[float] | np.ndarray) -> Mix:
        """The mix of a search vector (each intervention in or out, then each kind's posts)."""
        v = [
            min(hi, max(lo, round(float(a)))) for a, (lo, hi) in zip(x, self.bounds(), strict=True)
        ]
        k = len(self.levers)
        chosen = tuple(n for n, a in zip(self.levers, v[:k], strict=True) if a)
        return Mix(chosen, tuple((kind, a) for kind, a in zip(self.most, v[k:], strict=True) if a))

    def every_mix(self) -> list[Mix]:
        """Every mix, doing nothing first."""
        ranges = [range(2)] * len(self.levers) + [range(m + 1) for m in self.most.values()]
        return [self.mix(x) for x in itertools.product(*ranges)]

    def bounds(self) -> list[tuple[int, int]]:
        """The search vector's bounds."""
        return [(0, 1)] * len(self.levers) + [(0, m) for m in self.most.values()]

    def scenario(self, mix: Mix) -> Scenario:
        """The mix's scenario (today's ranges' middle values)."""
        return compose(self.base, {n: self.levers[n] for n in mix.levers}, dict(mix.staff))

    def arms(self, mix: Mix) -> list[Arm]:
        """The mix in every future: the baseline's future values, each intervention's own draws."""
        if mix not in self._arms:
            self._arms[mix] = self._build(mix)
        return self._arms[mix]

    def _build(self, mix: Mix) -> list[Arm]:
        composed = self.scenario(mix)
        values = parameters(composed)
        own = owned(composed, self.numbers)
        arms: list[Arm] = []
        for f, point, base_values in self.points:
            kept = carried(base_values, own, values, self.numbers)
            with in_future(f, self.base, mix.name):
                for n in mix.levers:  # its own draws (its costs add to the others')
                    mine = {u.name: point[f"{n}:{u.name}"] for u in self.extra[n]}
                    for key, v in future(
                        self.levers[n], mine, self.extra[n], self.values[n]
                    ).items():
                        was = self.values[n][key]
                        kept[key] = kept.get(key, values[key]) + v - was if key in ADDITIVE else v
                arms.append((f"f{f:05d}/{mix.name}", resolve_scenario(composed, kept), self.seeds))
        return arms

    def row(self, mix: Mix) -> dict[str, Any]:
        """The mix as a table row: its name, each intervention in or out, each kind's posts."""
        posts = dict(mix.staff)
        return {"policy": mix.name, **{n: int(n in mix.levers) for n in self.levers},
                **{f"{kind}_posts": posts.get(kind, 0) for kind in self.most}}  # fmt: skip


class _Runner:
    """Runs mixes once each, in batches, and scores them."""

    def __init__(
        self,
        space: _Space,
        out: str | Path,
        budget: float,
        output: str,
        better: Literal["min", "max"],
        workers: int | None,
        scheduler: str | None,
        progress: Progress | None,
        size_check: bool,
        add: bool,
    ) -> None:
        self.space, self.out, self.budget, self.output = space, out, budget, output
        self.sign = 1.0 if better == "min" else -1.0
        self.options: dict[str, Any] = {"workers": workers, "scheduler": scheduler,
                                        "size_check": size_check, "add": add}  # fmt: skip
        self.progress = progress
        self.ran: dict[str, Mix] = {}
        self.cost: dict[str, float] = {}  # extra cost a year, 90th percentile over the futures
        self.frames: list[pd.DataFrame] = []
        self.means: dict[str, float] = {}  # the output's mean per arm
        self.failed: list[str] = []
        self.damaged: list[str] = []
        self.asked = self.done = 0
        self.base_cost = np.array([_cost_per_year(s) for _a, s, _s in space.arms(Mix())])

    def extra_cost(self, mix: Mix) -> float:
        """The mix's extra cost a year over today's in nine futures of ten, before any run."""
        if mix.name not in self.cost:
            mine = np.array([_cost_per_year(s) for _a, s, _s in self.space.arms(mix)])
            self.cost[mix.name] = float(np.quantile(mine - self.base_cost, 0.9))
        return self.cost[mix.name]

    def run(self, mixes: Iterable[Mix]) -> None:
        """Run the mixes not run yet, together."""
        new = {m.name: m for m in mixes if m.name not in self.ran}
        if not new:
            return
        arms = [a for m in new.values() for a in self.space.arms(m)]
        before, self.asked = self.done, self.asked + len(arms) * len(self.space.seeds)

        def tick(done: int, total: int) -> None:
            self.done = before + done
            if self.progress:
                self.progress(self.done, self.asked)

        stored = run_experiment(self.out, self.space.experiment, arms, keep_timeseries=False,
                                progress=tick, **self.options)  # fmt: skip
        self.done = self.asked
        self.frames.append(stored.runs)
        self.failed += stored.failed
        self.damaged += [k for k in stored.damaged if k not in self.damaged]
        self.ran |= new
        if self.output not in stored.runs.columns and len(stored.runs):
            problem = _("unknown output {output} (the runs are kept)")
            raise InputError("output", [problem.format(output=repr(self.output))])
        done = stored.runs[stored.runs["status"] == "done"]
        self.means |= {str(k): float(v) for k, v in done.groupby("arm")[self.output].mean().items()}

    def effects(self) -> pd.DataFrame:
        """Every mix that ran, against the baseline, per future (as :func:`explore` has them)."""
        runs = pd.concat(self.frames, ignore_index=True)
        goals = {o: way for o, way in GOALS.items() if o in runs.columns}
        goals.setdefault(self.output, "min")
        return effects_of(runs, len(self.space.table), list(self.ran), goals)

    def score(self, mix: Mix) -> float:
        """The mix's worst decile of effect, the right way round (lower is better)."""
        means = self.means
        diffs = [
            means.get(f"f{f:05d}/{mix.name}", np.nan) - means.get(f"f{f:05d}/{BASELINE}", np.nan)
            for f, _point, _values in self.space.points
        ]
        signed = self.sign * pd.Series(diffs, dtype=float).dropna()
        return float(signed.quantile(0.9)) if len(signed) else math.inf

    def score_all(self, mixes: Sequence[Mix]) -> list[float]:
        """Run the affordable mixes together and score each (an unaffordable one scores inf)."""
        self.run(m for m in mixes if self.extra_cost(m) <= self.budget)
        return [self.score(m) if m.name in self.ran else math.inf for m in mixes]


def evolve(
    bounds: Sequence[tuple[int, int]],
    batch: Callable[[list[np.ndarray]], list[float]],
    cost: Callable[[np.ndarray], float],
    budget: float,
    *,
    generations: int,
    population: int,
    seed: int,
) -> None:
    """Differential evolution over integer vectors, scored a generation at a time, then a climb.

    After the last generation, the best vector's neighbours (one variable one
    step up or down) that fit the budget are scored together; the search moves
    to a better one and goes on until none is better.

    Args:
        bounds: each variable's least and most value.
        batch: scores a generation's vectors (lower is better).
        cost: a vector's cost; a vector that costs more than ``budget`` is
            never scored (scipy's constraint handling ranks it by how far over).
        budget: the most a vector may cost.
        generations: generations after the first.
        population: population per variable (scipy's ``popsize``).
        seed: the search's seed.
    """
    from scipy.optimize import NonlinearConstraint, differential_evolution

    scores: dict[tuple[int, ...], float] = {}

    def scored(_function: Callable[..., float], xs: Iterable[np.ndarray]) -> list[float]:
        xs = list(xs)
        out = batch(xs)
        scores.update(zip((_whole(x, bounds) for x in xs), out, strict=True))
        return out

    differential_evolution(
        _never,
        bounds,
        maxiter=generations,
        popsize=population,
        rng=np.random.default_rng(seed),
        polish=False,
        updating="deferred",
        workers=scored,
        constraints=NonlinearConstraint(cost, -np.inf, budget),
        integrality=[True] * len(bounds),
        tol=0.0,
    )
    while scores:  # then one step at a time from the best, while a neighbour is better
        best = min(scores, key=lambda v: scores[v])
        steps = [
            tuple(min(hi, max(lo, a + d)) if i == k else a for i, a in enumerate(best))
            for k, (lo, hi) in enumerate(bounds)
            for d in (-1, 1)
        ]
        near = [np.array(v) for v in dict.fromkeys(steps)
                if v not in scores and cost(np.array(v)) <= budget]  # fmt: skip
        if not near:
            return
        scored(_never, near)
        if min(scores.values()) >= scores[best]:
            return


def _whole(x: np.ndarray, bounds: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """A vector as integers within their bounds."""
    return tuple(min(hi, max(lo, round(float(a)))) for a, (lo, hi) in zip(x, bounds, strict=True))


def _never(x: np.ndarray) -> float:
    """The function scipy is given; the batch scores every vector instead."""
    raise AssertionError("scored in batches")


def _cost_per_year(scenario: Scenario) -> float:
    """A scenario's cost a year as a run reports it: its filled posts, its intervention."""
    from collabsim.metrics import agency_table
    from collabsim.model import CollaborationModel

    staff = float(agency_table(CollaborationModel(scenario, seed=0))["staff_cost_per_year"].sum())
    c = scenario.costs
    return staff + c.yearly + c.one_off / c.years
