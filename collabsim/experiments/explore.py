"""Exploring futures: every intervention against the baseline, in many futures over the ranges.

A *future* is one value for each uncertainty of the baseline's ``[ranges]``
(:mod:`collabsim.assumptions`), drawn by Latin hypercube sampling. In each
future the baseline and every intervention run with the same replicate
seeds (common random numbers); an intervention keeps its own values of the
parameters it changes and takes the future's values for the rest. For each
future and output the *effect* of an intervention is its mean difference
from the baseline; the *best* choice is the one with the most favourable
effect (doing nothing, effect 0, included), and an intervention's *regret*
is how far its effect falls short of the best one's in that future.

Runs go through the experiment store, so ``explore`` runs on local processes
or Dask and resumes after a kill like every other experiment.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from collabsim.api import resolve_scenario
from collabsim.assumptions import Uncertainty, carried, future, uncertainties
from collabsim.errors import InputError
from collabsim.experiments.discovery import Discovery
from collabsim.experiments.execution import (
    Arm,
    Progress,
    arm_table,
    outputs_of,
    replicate_seeds,
    run_experiment,
)
from collabsim.experiments.store import Experiment
from collabsim.i18n import N_, Translator, _, marked, translator
from collabsim.loading import ScenarioError, scenario_hash
from collabsim.scenario import Scenario, parameters
from collabsim.terms import term

__all__ = [
    "BASELINE", "GOALS", "Exploration", "each_future", "explore", "in_future", "own_ranges",
    "owned", "sample_futures", "write_report",
]  # fmt: skip

BASELINE = "baseline"
"""The name of doing nothing: the baseline itself, whose effect is 0."""

GOALS: dict[str, Literal["min", "max"]] = {
    "handling_days_median": "min",
    "handling_days_p90": "min",
    "response_within_norm_share.high": "max",
    "follow_up_within_norm_share": "max",
    "stay_within_norm_share": "max",
    "interviews_per_child": "min",
    "cost_per_year": "min",
}
"""The outputs ``explore`` reports by default, and which way is better."""

VALUE_FOR_MONEY = {
    "cost_per_day_saved": "handling_days_median",
    "cost_per_interview_avoided": "interviews_per_child",
}
"""Value for money: the extra cost a year over (the cut in the output times children a year)."""


@dataclass
class Exploration:
    """What :func:`explore` found.

    Attributes:
        futures: one row per future (``future``, then each uncertainty's value).
        levels: one row per future and policy (the baseline included): each
            output's mean over the replications (the breakdowns by type, risk,
            city and channel left out).
        effects: one row per future and policy (the baseline included, at 0):
            each output's effect (the policy's mean minus the baseline's) and
            ``regret_<output>``.
        summary: per policy and output: the effect's mean, 10th, 50th and 90th
            percentiles over the futures, the share of futures in which the
            policy is the best choice, and its mean and 90th-percentile regret.
        goals: the outputs, and which way is better.
        seeds: the replicate seeds every arm ran with.
        failed: keys of runs that failed.
        damaged: keys of stored records that failed their checksum.
    """

    futures: pd.DataFrame
    levels: pd.DataFrame
    effects: pd.DataFrame
    summary: pd.DataFrame
    goals: dict[str, Literal["min", "max"]]
    seeds: list[int]
    failed: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)


def sample_futures(dims: Sequence[Uncertainty], n: int, seed: int) -> pd.DataFrame:
    """``n`` futures by Latin hypercube sampling over the uncertainties' ranges.

    An uncertainty whose range is a single value takes it in every future.
    """
    from SALib.sample import latin

    varying = [u for u in dims if u.high > u.low]
    columns: dict[str, Any] = {"future": range(n)}
    if varying:
        problem = {
            "num_vars": len(varying),
            "names": [u.name for u in varying],
            "bounds": [[u.low, u.high] for u in varying],
        }
        sample = latin.sample(problem, n, seed=seed)
        columns |= {u.name: sample[:, k] for k, u in enumerate(varying)}
    columns |= {u.name: np.full(n, u.low) for u in dims if u.high <= u.low}
    return pd.DataFrame(columns)[["future", *(u.name for u in dims)]]


def explore(
    base: Scenario | str | Path,
    policies: Mapping[str, Scenario | str | Path],
    futures: int,
    *,
    reps: int = 1,
    seed: int = 0,
    out: str | Path,
    goals: Mapping[str, Literal["min", "max"]] | None = None,
    overrides: Mapping[str, Any] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    size_check: bool = True,
    add: bool = False,
) -> Exploration:
    """Run every policy against the baseline in ``futures`` futures over the baseline's ranges.

    Args:
        base: the baseline scenario (its ``[ranges]`` span the futures) or its file.
        policies: name to intervention scenario (or file).
        futures: how many futures to sample.
        reps: replications per future and policy (common random numbers).
        seed: the root seed of the design and of the replications.
        out: the experiment folder (a killed run resumes there).
        goals: outputs and which way is better (default: those of :data:`GOALS`
            the runs have).
        overrides: dotted-path values applied to the baseline and every policy
            first (e.g. a shorter ``run.days``).
        workers: processes (default: all cores).
        scheduler: a Dask scheduler address, to run there instead.
        progress: called after each run.
        size_check: first refuse runs that would not fit in memory or take hours.
        add: keep this experiment beside another one in the same store.

    Raises:
        InputError: if the baseline has no ranges, a policy is named ``baseline``
            or an output is unknown.
        ScenarioError: if a future makes a scenario invalid (naming the future).
    """
    if BASELINE in policies:
        raise InputError("policies", [_baseline_taken()])
    fixed = dict(overrides or {})
    scenario = resolve_scenario(base, fixed)
    dims = uncertainties(scenario)
    if not dims:
        raise InputError(scenario.name, [no_ranges()])
    arms_of = {BASELINE: scenario} | {
        name: resolve_scenario(p, fixed) for name, p in policies.items()
    }
    base_values = parameters(scenario)
    values_of = {name: parameters(p) for name, p in arms_of.items()}
    own = {name: owned(p, base_values) for name, p in arms_of.items()}
    extra = {name: own_ranges(p, scenario, own[name]) for name, p in arms_of.items()}
    renamed = [replace(u, name=f"{n}:{u.name}") for n, us in extra.items() for u in us]
    table = sample_futures([*dims, *renamed], futures, seed)
    seeds = replicate_seeds(seed, reps)
    arms: list[Arm] = []
    for f, point, values in each_future(scenario, table, dims):
        for name, policy in arms_of.items():
            mine = {u.name: point[f"{name}:{u.name}"] for u in extra[name]}
            kept = carried(values, own[name], values_of[name], base_values)
            with in_future(f, scenario, name):
                kept |= future(policy, mine, extra[name], values_of[name])
                arms.append((_arm(f, name), resolve_scenario(policy, kept), seeds))
    design = hashlib.sha256(
        json.dumps([table.to_dict("list"), sorted(arms_of)], default=float).encode()
    ).hexdigest()[:16]
    stored = run_experiment(
        out,
        Experiment(
            "explore",
            {arm: scenario_hash(s) for arm, s, _s in arms},
            seed,
            design=design,
            label=_("{futures} futures of {scenario}").format(
                futures=translator().number(futures), scenario=scenario.name
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
    present = set(stored.runs.columns)
    if goals is None:  # the default outputs this scenario has (e.g. its risk levels' norms)
        goals = {o: way for o, way in GOALS.items() if o in present}
    unknown = [o for o in goals if o not in present]
    if unknown and len(stored.runs):
        raise InputError(
            "goals", [_("unknown outputs {outputs} (the runs are kept)").format(outputs=unknown)]
        )
    effects = _effects(stored.runs, futures, list(arms_of), goals)
    overall = [o for o in outputs_of(stored.runs).columns if not o.startswith("by_")]
    levels = _levels(stored.runs, futures, list(arms_of), overall)
    return Exploration(
        table, levels, effects, _summary(effects, goals), dict(goals), seeds, stored.failed,
        stored.damaged,
    )  # fmt: skip


def _baseline_taken() -> str:
    """The problem of an intervention named like doing nothing."""
    return _("{name} names doing nothing; call it otherwise").format(name=repr(BASELINE))


def no_ranges() -> str:
    """The problem of a baseline without ranges to draw futures from."""
    return "ranges: " + _("none to draw futures from")


def own_ranges(policy: Scenario, base: Scenario, own: set[str]) -> list[Uncertainty]:
    """A policy's own ranges on what it changes itself (its costs, its adoption).

    Ranges it inherits from the baseline unchanged are the baseline's, not its own.
    """
    return [
        u for u in uncertainties(policy)
        if u.keys and set(u.keys) <= own and policy.ranges[u.name] != base.ranges.get(u.name)
    ]  # fmt: skip


def each_future(
    scenario: Scenario, table: pd.DataFrame, dims: Sequence[Uncertainty]
) -> Iterator[tuple[int, dict[str, float], dict[str, float]]]:
    """Each future of a table: its number, its point, and the scenario's overrides there.

    Raises:
        ScenarioError: if a future makes the scenario invalid (naming the future).
    """
    numbers = parameters(scenario)
    for row in table.to_dict("records"):
        point = {str(k): float(v) for k, v in row.items()}
        f = int(point.pop("future"))
        with in_future(f, scenario, scenario.name):
            values = future(scenario, {u.name: point[u.name] for u in dims}, dims, numbers)
        yield f, point, values


@contextmanager
def in_future(f: int, scenario: Scenario, name: str) -> Iterator[None]:
    """Report a scenario a future makes invalid as that future's."""
    try:
        yield
    except ScenarioError as exc:
        where = _("future {number} of {scenario}").format(number=f, scenario=scenario.name)
        raise ScenarioError(where, [f"{name}: {p}" for p in exc.problems]) from None
    except ValueError as exc:
        where = _("future {number} of {scenario}").format(number=f, scenario=scenario.name)
        raise ScenarioError(where, [f"{name}: {exc}"]) from None


def owned(policy: Scenario, base: Mapping[str, float]) -> set[str]:
    """The parameters a policy sets to values of its own (not the baseline's)."""
    return {k for k, v in parameters(policy).items() if base.get(k) != v}


def _arm(f: int, policy: str) -> str:
    return f"f{f:05d}/{policy}"


def _effects(
    runs: pd.DataFrame, futures: int, names: list[str], goals: Mapping[str, str]
) -> pd.DataFrame:
    """Per future and policy: each output's paired difference from the baseline, and its regret.

    Where the runs have costs, also the value for money (:data:`VALUE_FOR_MONEY`).
    """
    outputs = list(goals)
    needed = {"cost_per_year", "cases_arrived", *VALUE_FOR_MONEY.values()}
    priced = needed <= set(runs.columns)
    measured = list(dict.fromkeys([*outputs, *(needed if priced else ())]))
    shown = list(dict.fromkeys([*outputs, *(["cost_per_year"] if priced else [])]))
    rows = []
    for f in range(futures):
        base = arm_table(runs, _arm(f, BASELINE)).set_index("replication")
        for name in names:
            arm = arm_table(runs, _arm(f, name)).set_index("replication")
            paired = arm.index.intersection(base.index)
            diff = {
                o: float((arm.loc[paired, o].astype(float) - base.loc[paired, o].astype(float))
                         .mean()) if len(paired) else np.nan
                for o in measured
            }  # fmt: skip
            row: dict[str, Any] = {"future": f, "policy": name, **{o: diff[o] for o in shown}}
            if priced:
                children = _children_per_year(base)
                for ratio, saved in VALUE_FOR_MONEY.items():
                    cut = -diff[saved] * children
                    row[ratio] = diff["cost_per_year"] / cut if cut > 0 else np.nan
            rows.append(row)
    ratios = list(VALUE_FOR_MONEY) if priced else []
    effects = pd.DataFrame(rows, columns=["future", "policy", *shown, *ratios])
    for o in outputs:
        signed = effects[o] * (1.0 if goals[o] == "min" else -1.0)
        effects[f"regret_{o}"] = signed - signed.groupby(effects["future"]).transform("min")
    return effects


def _levels(runs: pd.DataFrame, futures: int, names: list[str], outputs: list[str]) -> pd.DataFrame:
    """Per future and policy, each output's mean over the replications."""
    outputs = [o for o in dict.fromkeys(outputs) if o in runs.columns]
    rows = []
    for f in range(futures):
        for name in names:
            arm = arm_table(runs, _arm(f, name))
            rows.append({"future": f, "policy": name,
                         **{o: float(arm[o].astype(float).mean()) for o in outputs}})  # fmt: skip
    return pd.DataFrame(rows, columns=["future", "policy", *outputs])


def _children_per_year(base: pd.DataFrame) -> float:
    """Children reported a year in the baseline's cohort (its mean over replications)."""
    years = (base["cohort_end_day"] - base["warmup_days"]).astype(float) / 365.0
    return float((base["cases_arrived"].astype(float) / years).mean())


def _summary(effects: pd.DataFrame, goals: Mapping[str, str]) -> pd.DataFrame:
    """Per policy and output: the effect's spread over the futures, best-choice share, regret.

    A policy is the best choice in a future when its regret there is 0 (ties
    count for each). The value-for-money ratios are summarised over the
    futures in which the policy saves anything (``n`` of them); they have no
    best choice or regret.
    """
    rows = []
    ratios = [o for o in VALUE_FOR_MONEY if o in effects.columns]
    for o in [*goals, *ratios]:
        for policy, g in effects.groupby("policy", sort=False):
            e = g[o].dropna()
            r = g[f"regret_{o}"].dropna() if o in goals else pd.Series(dtype=float)
            rows.append(
                {"policy": policy, "output": o, "better": goals.get(o, "min"), "n": len(e),
                 "effect_mean": e.mean(), "effect_p10": e.quantile(0.1),
                 "effect_p50": e.median(), "effect_p90": e.quantile(0.9),
                 "best_share": float((r == 0.0).mean()) if len(r) else np.nan,
                 "regret_mean": r.mean(), "regret_p90": r.quantile(0.9)}
            )  # fmt: skip
    return pd.DataFrame(rows)


def write_report(
    result: Exploration,
    folder: Path,
    title: str,
    command: str,
    discoveries: Sequence[Discovery] = (),
) -> list[Path]:
    """Write the exploration's tables, figures and a Markdown and an HTML report (all or none).

    The reports are in the language in use (headings, notes, table headers,
    the outputs' names and the numbers); the CSV tables keep their column
    names and values as data.

    Args:
        result: what :func:`explore` found.
        folder: where to write.
        title: the report's title.
        command: the command that reproduces it.
        discoveries: scenario-discovery boxes to add to the report.
    """
    from collabsim.experiments.allocate import allocate
    from collabsim.files import staged
    from collabsim.plots import plot_effects, plot_frontier, plot_regret

    t = translator()
    outputs = list(result.goals)
    futures = len(result.futures)
    reps = len(result.seeds)
    with staged(folder) as stage:
        result.futures.to_csv(stage / "futures.csv", index=False)
        result.levels.to_csv(stage / "levels.csv", index=False)
        result.effects.to_csv(stage / "effects.csv", index=False)
        result.summary.to_csv(stage / "summary.csv", index=False)
        plot_effects(result.effects, outputs, stage / "effects.png")
        plot_regret(result.summary, outputs, stage / "regret.png")
        first = outputs[0]
        priced = "cost_per_year" in result.effects.columns
        if priced:
            frontier = allocate(result.effects, first, result.goals[first], math.inf).table
            plot_frontier(frontier, first, stage / "frontier.png")
        header, rows = _summary_rows(result.summary, t)
        found = [_discovery_text(d, t) for d in discoveries]
        intro = _(
            "{futures} futures drawn by Latin hypercube sampling over {ranges} ranges (the "
            "baseline's, and each policy's own on what it changes); in each, the baseline and "
            "every policy ran {reps} replication(s) with the same seeds (common random numbers). "
            "An effect is the policy's mean minus the baseline's; the best choice in a future is "
            "the one with the most favourable effect (doing nothing, the baseline, included; ties "
            "count for each), and regret is how far a policy falls short of the best in that "
            "future."
        ).format(
            futures=t.number(futures), ranges=t.number(len(result.futures.columns) - 1),
            reps=t.number(reps),
        )  # fmt: skip
        reproduce = _("Reproduce with:")
        seeds = _("Replicate seeds: {seeds}.").format(seeds=", ".join(map(str, result.seeds)))
        figures = ["effects", "regret", *(["frontier"] if priced else [])]
        alt = {"effects": N_("effects"), "regret": N_("regret"), "frontier": N_("frontier")}
        notes = {"frontier": _frontier_note(first)}
        md = [f"# {title}", intro, f"{reproduce}\n\n    {command}", seeds]
        html = [f"<h1>{escape(title)}</h1>", f"<p>{escape(intro)}</p>",
                f"<p>{escape(reproduce)}</p><pre>{escape(command)}</pre>",
                f"<p>{escape(seeds)}</p>"]  # fmt: skip
        for name in figures:
            label = marked(alt[name])
            md += [f"![{label}]({name}.png)", *([notes[name]] if name in notes else [])]
            html += [f"<img src='{name}.png' alt='{escape(label)}'>",
                     *([f"<p>{escape(notes[name])}</p>"] if name in notes else [])]  # fmt: skip
        heading = _("Per policy and output")
        md += [f"## {heading}", _markdown(header, rows)]
        html += [f"<h2>{escape(heading)}</h2>", _html(header, rows)]
        for question, text, (box_header, box_rows) in found:
            asked = _("When does {question} hold?").format(question=question)
            md += [f"## {asked}", text, _markdown(box_header, box_rows)]
            html += [f"<h2>{escape(asked)}</h2>", f"<p>{escape(text)}</p>",
                     _html(box_header, box_rows)]  # fmt: skip
        (stage / "report.md").write_text("\n\n".join(md) + "\n")
        (stage / "report.html").write_text(
            f"<!doctype html><html lang='{t.lang}'><head><meta charset='utf-8'>"
            f"<title>{escape(title)}</title>"
            "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
            "td,th{padding:2px 8px;text-align:right}</style></head><body>"
            + "\n".join(html)
            + "</body></html>\n"
        )
        names = sorted(p.name for p in stage.iterdir())
    return [folder / name for name in names]


def _frontier_note(output: str) -> str:
    """The note under the frontier's figure."""
    return _(
        "The frontier: each policy's extra cost a year (90th percentile over the futures) "
        "against its effect on {output} in the worst decile of futures; `collabsim allocate` "
        "picks the best buy for a budget."
    ).format(output=term(output))


Table = tuple[list[str], list[list[str]]]
"""A table for people: its header and its rows, every cell text."""


_BETTER = {"min": N_("lower"), "max": N_("higher")}
"""Which way is better, for people."""


def _summary_rows(summary: pd.DataFrame, t: Translator) -> Table:
    """The summary as a table for people: translated headers, outputs' names, numbers."""
    header = [
        _("policy"), _("output"), _("better"), _("futures counted"), _("effect, mean"),
        _("effect, p10"), _("effect, p50"), _("effect, p90"), _("best in (share of futures)"),
        _("regret, mean"), _("regret, p90"),
    ]  # fmt: skip
    rows = [
        [str(r["policy"]), term(str(r["output"]), t), marked(_BETTER.get(str(r["better"]), "")),
         t.number(int(r["n"])), *(_num(r[c], t) for c in
                                  ("effect_mean", "effect_p10", "effect_p50", "effect_p90")),
         _share(r["best_share"], t), _num(r["regret_mean"], t), _num(r["regret_p90"], t)]
        for r in summary.to_dict("records")
    ]  # fmt: skip
    return header, rows


def _num(value: Any, t: Translator) -> str:
    """A number for the report: about four significant digits, no trailing zeros.

    ``1.250.000``, ``3,422``, ``0,9``, ``0,0125`` (Indonesian); NaN reads ``t/a``.
    """
    from babel.numbers import format_decimal

    v = float(value)
    if math.isnan(v):
        return t.number(None)
    size = abs(v)
    digits = 0 if size >= 100 or size == 0 else min(4, 3 - math.floor(math.log10(size)))
    return format_decimal(v, format="#,##0." + "#" * digits if digits else "#,##0", locale=t.locale)


def _share(value: Any, t: Translator) -> str:
    """A share as a percentage (or n/a)."""
    v = float(value)
    return t.number(None) if math.isnan(v) else t.percent(v)


def _discovery_text(d: Discovery, t: Translator) -> tuple[str, str, Table]:
    """A discovery's question, a sentence on its box, and the box as a table for people."""
    top = ", ".join(d.importance["uncertainty"].head(3))
    text = _(
        "It holds in {true} of {futures} futures. PRIM's box below (the assumptions it restricts, "
        "within their whole ranges) holds {coverage} of them (coverage), and it holds in "
        "{density} of the futures inside the box (density; the box has {mass} of all futures). "
        "The assumptions that tell them apart most (extra trees): {top}."
    ).format(
        true=t.number(d.true), futures=t.number(d.futures), coverage=t.percent(d.coverage),
        density=t.percent(d.density), mass=t.percent(d.mass), top=top,
    )  # fmt: skip
    header = [
        _("assumption"), _("box: low"), _("box: high"), _("whole range: low"),
        _("whole range: high"), _("qp (quasi-p-value)"),
    ]  # fmt: skip
    rows = [
        [str(r["uncertainty"]),
         *(_num(r[c], t) for c in ("low", "high", "range_low", "range_high", "qp"))]
        for r in d.box.to_dict("records")
    ]  # fmt: skip
    return d.question.text, text, (header, rows)


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table as Markdown."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _html(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table as HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
