"""Calibration to the Jakarta targets (domain brief, section 7).

Method: a two-stage Latin hypercube search (SALib) over scale factors of the
uncertain inputs the targets depend on: the scenario as written, half the
points over the whole box, the other half in a box of half the width around
the best point so far. Every point runs with the same replicate seeds (common
random numbers); the point with the smallest sum of squared tolerance-scaled
errors wins. The targets are observed shares and counts, so
the fit ties the pathway and the volumes to data; durations are not
calibrated (no measured durations exist).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collabsim.experiments.execution import Arm, replicate_seeds, run_experiment
from collabsim.experiments.store import Experiment
from collabsim.i18n import _, translator
from collabsim.loading import ScenarioError, load_raw, scenario_from_dict, scenario_hash
from collabsim.scenario import Scenario

__all__ = [
    "FACTORS",
    "TARGETS",
    "Calibration",
    "Target",
    "apply_factors",
    "calibrate",
    "calibration_outputs",
    "fit_table",
]

CITY_ORDER = [
    "Jakarta Timur",
    "Jakarta Barat",
    "Jakarta Selatan",
    "Jakarta Utara",
    "Jakarta Pusat",
    "Kepulauan Seribu",
]


@dataclass(frozen=True)
class Target:
    """A calibration target: the observed value, the tolerance and where it comes from."""

    name: str
    value: float
    tolerance: float
    source: str


TARGETS: tuple[Target, ...] = (
    Target("cases_per_year", 1148.0, 115.0, "child victims handled by DKI's service unit, 2024"),
    Target("sexual_share", 0.585, 0.035, "sexual violence 55-62% of child cases"),
    Target("police_share", 0.35, 0.05, "~35% of Jakarta Pusat's 2024 cases reached police"),
    Target(
        "health_share", 0.164, 0.05, "SIMFONI Jan-Jul 2021: 1,274 health services, 7,784 victims"
    ),
    Target("safe_house_share", 0.05, 0.02, "P2TP2A DKI 2020: 47 safe-house referrals, 947 victims"),
    Target("mediation_share", 0.02, 0.015, "P2TP2A DKI 2020: 16 mediations, 947 victims"),
    Target("psychology_per_victim", 3.6, 0.4, "P2TP2A DKI 2020: 3,398 psychology services"),
    Target("legal_per_victim", 2.6, 0.4, "P2TP2A DKI 2020: 2,494 legal consultations"),
    Target("city_order", 1.0, 0.0, "2024 counts: Timur > Barat > Selatan > Utara > Pusat > Seribu"),
)
"""The targets of domain.md section 7 with the tolerance each is checked to."""


def _plan_scale(
    service: str, field: str, floor: float, cap: float
) -> Callable[[dict[str, Any], float], None]:
    def apply(data: dict[str, Any], factor: float) -> None:
        for plan in data["pathway"]["plans"].values():
            if service in plan and field in plan[service]:
                plan[service][field] = float(min(cap, max(floor, plan[service][field] * factor)))

    return apply


def _volume(data: dict[str, Any], factor: float) -> None:
    rates = data["arrivals"]["cases_per_year"]
    for city in rates:
        rates[city] = float(rates[city] * factor)


FACTORS: dict[str, tuple[float, float, Callable[[dict[str, Any], float], None]]] = {
    "volume": (0.85, 1.15, _volume),
    "police": (0.7, 1.3, _plan_scale("police", "p", 0.0, 1.0)),
    "health": (0.6, 1.4, _plan_scale("health", "p", 0.0, 1.0)),
    "safe_house": (0.5, 1.5, _plan_scale("safe_house", "p", 0.0, 1.0)),
    "mediation": (0.5, 1.5, _plan_scale("mediation", "p", 0.0, 1.0)),
    "psychology_sessions": (0.8, 1.2, _plan_scale("psychology", "sessions", 1.0, 100.0)),
    "legal_sessions": (0.8, 1.2, _plan_scale("legal", "sessions", 1.0, 100.0)),
}
"""Calibrated inputs: name -> (low, high, how a factor changes the scenario data)."""


def apply_factors(data: Mapping[str, Any], factors: Mapping[str, float]) -> dict[str, Any]:
    """Scenario data with the factors applied (a new dictionary)."""
    out = copy.deepcopy(dict(data))
    for name, factor in factors.items():
        FACTORS[name][2](out, factor)
    return out


def calibration_outputs(summary: Mapping[Any, Any], scenario: Scenario) -> dict[str, float]:
    """The calibrated quantities of one run, from its (flattened) summary.

    Shares and contacts come from each case's plan (``services_planned``),
    before attrition: a family lost to follow-up (10% in the baseline) or a
    withdrawn report does not receive all of it, so the delivered counts the
    sources give are matched by the plan only up to that share. Cases per
    year count the cohort's first reports (repeat reports of a child left
    out), over the cohort's window. The city order is judged on the expected yearly
    counts (the scenario's Poisson rates): one simulated year's counts of close
    cities (Barat 260, Selatan 248) swap by chance about a third of the time.
    """
    run = scenario.run
    years = (run.cohort_end - run.warmup_days) / 365.0
    rates = scenario.arrivals.cases_per_year
    expected = np.array([rates.get(c, 0.0) for c in CITY_ORDER])

    def planned(service: str, what: str) -> float:
        return float(summary.get(f"services_planned.{service}.{what}", 0.0))

    return {
        "cases_per_year": (
            float(summary["cases_arrived"]) - float(summary.get("repeat_reports", 0))
        )
        / years,
        "sexual_share": float(summary.get("case_type_shares.sexual", 0.0)),
        "police_share": planned("police", "share"),
        "health_share": planned("health", "share"),
        "safe_house_share": planned("safe_house", "share"),
        "mediation_share": planned("mediation", "share"),
        "psychology_per_victim": planned("psychology", "per_case"),
        "legal_per_victim": planned("legal", "per_case"),
        "city_order": float(all(np.diff(expected) < 0)),
        **{f"cases_{c}": float(summary.get(f"cases_by_city.{c}", 0)) for c in CITY_ORDER},
    }


def fit_table(outputs: Mapping[str, float]) -> pd.DataFrame:
    """Each target with the simulated value and whether it is within tolerance."""
    rows = []
    for t in TARGETS:
        value = float(outputs[t.name])
        rows.append(
            {
                "target": t.name,
                "observed": t.value,
                "simulated": value,
                "tolerance": t.tolerance,
                "within": abs(value - t.value) <= t.tolerance + 1e-12,
                "source": t.source,
            }
        )
    return pd.DataFrame(rows)


def loss(outputs: Mapping[str, float]) -> float:
    """Sum of squared tolerance-scaled errors (city order: 0 or a large penalty)."""
    total = 0.0
    for t in TARGETS:
        if t.tolerance == 0:
            total += 0.0 if outputs[t.name] == t.value else 100.0
        else:
            total += ((outputs[t.name] - t.value) / t.tolerance) ** 2
    return total


@dataclass
class Calibration:
    """The result of a calibration.

    Attributes:
        factors: the best scale factors.
        scenario: the scenario with them applied.
        fit: the fit of the best point, target by target (means over replications).
        samples: every point tried with its loss.
    """

    factors: dict[str, float]
    scenario: Scenario
    fit: pd.DataFrame
    samples: pd.DataFrame


def mean_outputs(summaries: Sequence[Mapping[Any, Any]], scenario: Scenario) -> dict[str, float]:
    """Calibration outputs averaged over replications."""
    each = [calibration_outputs(s, scenario) for s in summaries]
    return {k: float(np.mean([e[k] for e in each])) for k in each[0]}


def calibrate(
    path: str | Path,
    *,
    samples: int = 40,
    reps: int = 2,
    seed: int = 0,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    size_check: bool = True,
) -> Calibration:
    """Latin hypercube search over :data:`FACTORS` for the best fit to :data:`TARGETS`.

    The unscaled scenario (all factors 1) is always tried too. The points run
    like every other experiment: serially, on local processes or on Dask,
    into the results store of ``out``, from which a killed calibration
    resumes.

    Args:
        path: the scenario file.
        samples: Latin hypercube points.
        reps: replications per point (the same seeds at every point).
        seed: root seed for the sample and the replications.
        out: the calibration folder (its ``results.sqlite``).
        workers: processes (default: all cores).
        scheduler: a Dask scheduler address, to run there instead.
        progress: called as ``progress(done, total)`` after each run.
        size_check: first refuse runs that would not fit in memory or take hours.
    """
    from SALib.sample import latin

    raw = load_raw(path)
    base = scenario_from_dict(raw, str(path))
    missing = [c for c in CITY_ORDER if c not in base.arrivals.cases_per_year]
    if base.pathway.kind != "plan" or missing:
        problem = _(
            "calibrate fits a Jakarta scenario: it needs pathway.kind = 'plan' and the cities "
            "{cities} in arrivals.cases_per_year"
        )
        raise ScenarioError(str(path), [problem.format(cities=CITY_ORDER)])
    names = list(FACTORS)
    seeds = replicate_seeds(seed, reps)
    first = samples - samples // 2
    total = (1 + samples) * reps
    rows: list[dict[str, float]] = []
    best: tuple[float, dict[str, float], Scenario, dict[str, float]] | None = None

    def stage(points: list[dict[str, float]], number: int) -> None:
        nonlocal best
        scenarios = [scenario_from_dict(apply_factors(raw, f), str(path)) for f in points]
        arms: list[Arm] = [(f"s{number}p{k:03d}", sc, seeds) for k, sc in enumerate(scenarios)]
        identity = Experiment(
            "calibrate",
            {arm: scenario_hash(sc) for arm, sc, _s in arms},
            seed,
            design=f"stage {number} of {samples} samples",
            label=base.name,
        )
        done_before = len(rows) * reps
        stored = run_experiment(
            out,
            identity,
            arms,
            keep_timeseries=False,
            add=number > 1,  # a later stage belongs to the calibration the first one claimed
            workers=workers,
            scheduler=scheduler,
            progress=(lambda d, t: progress(done_before + d, total)) if progress else None,
            size_check=size_check,
        )
        if stored.failed:
            problem = _("{n} calibration runs failed: {runs}")
            n = translator().number(len(stored.failed))
            raise RuntimeError(problem.format(n=n, runs=stored.failed[:3]))
        summaries = stored.runs.to_dict("records")
        for k, ((arm, scenario, _s), factors) in enumerate(zip(arms, points, strict=True)):
            mine = [r for r in summaries if r["arm"] == arm]
            outputs = mean_outputs(mine, scenario)
            value = loss(outputs)
            label = 0 if number == 1 and k == 0 else number  # 0: the scenario as written
            rows.append({"stage": label, **factors, "loss": value})
            if best is None or value < best[0]:
                best = (value, factors, scenario, outputs)

    def box(bounds: list[list[float]], n: int, number: int) -> list[dict[str, float]]:
        if n <= 0:
            return []
        problem = {"num_vars": len(names), "names": names, "bounds": bounds}
        sample = latin.sample(problem, n, seed=seed + number)
        return [dict(zip(names, map(float, row), strict=True)) for row in sample]

    # stage 1: the scenario as written and half the points over the whole box
    stage([dict.fromkeys(names, 1.0), *box([list(FACTORS[n][:2]) for n in names], first, 1)], 1)
    assert best is not None
    centre = best[1]  # stage 2: a box of half the width around the best point so far
    half = [(FACTORS[n][1] - FACTORS[n][0]) / 4 for n in names]
    bounds = [
        [max(FACTORS[n][0], centre[n] - h), min(FACTORS[n][1], centre[n] + h)]
        for n, h in zip(names, half, strict=True)
    ]
    points = box(bounds, samples // 2, 2)
    if points:
        stage(points, 2)
    return Calibration(best[1], best[2], fit_table(best[3]), pd.DataFrame(rows))


def changed_values(before: Any, after: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths whose value differs between two scenario data trees."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: dict[str, Any] = {}
        for key in after:
            out.update(changed_values(before.get(key), after[key], f"{prefix}{key}."))
        return out
    return {} if before == after else {prefix.rstrip("."): after}


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else f'"{key}"'


def overrides_toml(parent: str, values: Mapping[str, Any], note: str) -> str:
    """A scenario file that extends ``parent`` and sets ``values`` (dotted paths)."""
    lines = [f"# {note}", f'extends = "{parent}"', ""]
    tables: dict[str, list[str]] = {}
    for dotted, value in sorted(values.items()):
        *path, leaf = dotted.split(".")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float):
            text = f"{value:.4g}"
        else:
            text = repr(value).replace("'", '"')
        tables.setdefault(".".join(_toml_key(t) for t in path), []).append(
            f"{_toml_key(leaf)} = {text}"
        )
    for name, entries in tables.items():
        lines += [f"[{name}]", *entries, ""]
    return "\n".join(lines)
