"""Sweeps: experiment files, designs (factorial, Latin hypercube, Sobol, Morris), sensitivity.

An experiment file (TOML) names a base scenario, the parameters to vary, kept
apart as *levers* (what a policy can change) and *uncertainties* (what nobody
controls), a design, the replications and the outputs to keep. As in
exploratory-modelling tools, every combination of lever values (a *policy*)
is crossed with the design's points over the uncertainties; a factorial
design enumerates both. Every design point runs with the same replicate seeds
(common random numbers across points).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from collabsim.experiments.execution import (
    Arm,
    Progress,
    outputs_of,
    replicate_seeds,
    run_experiment,
)
from collabsim.experiments.store import Experiment
from collabsim.files import staged
from collabsim.i18n import _
from collabsim.loading import (
    ScenarioError,
    apply_overrides,
    load_raw,
    parse_toml,
    read_text,
    scenario_from_dict,
    validation_problems,
)

__all__ = ["ExperimentFile", "Range", "SweepResult", "load_experiment", "sweep"]

Design = Literal["factorial", "lhs", "sobol", "morris", "combinations"]


_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Range(BaseModel):
    """A continuous range; ``levels`` evenly spaced values in a factorial design."""

    model_config = _STRICT

    min: float
    max: float
    levels: int = Field(default=3, ge=2, le=1_000)
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.max <= self.min:
            raise ValueError(_("max must be greater than min"))
        return self

    def values(self) -> list[float]:
        """The factorial levels."""
        vals = np.linspace(self.min, self.max, self.levels)
        return [round(float(v)) if self.integer else float(v) for v in vals]


Parameter = list[Any] | Range


class ExperimentFile(BaseModel):
    """An experiment: see ``docs/experiments.md``."""

    model_config = _STRICT

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    scenario: str
    design: Design = "factorial"
    replications: int = Field(default=3, ge=1, le=10_000)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    samples: int = Field(default=16, ge=1, le=1_000_000)
    fixed: dict[str, Any] = {}
    levers: dict[str, Parameter] = {}
    uncertainties: dict[str, Parameter] = {}
    combinations: list[dict[str, Any]] = []
    outputs: list[str] = []
    keep_timeseries: bool = True
    keep_cases: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentFile:
        both = set(self.levers) & set(self.uncertainties)
        if both:
            problem = _("a parameter cannot be both lever and uncertainty: {names}")
            raise ValueError(problem.format(names=sorted(both)))
        design = repr(self.design)
        if self.design in ("lhs", "sobol", "morris"):
            if not self.uncertainties:
                problem = _("design {design} samples the uncertainties; give some")
                raise ValueError(problem.format(design=design))
            lists = [k for k, v in self.uncertainties.items() if not isinstance(v, Range)]
            if lists:
                problem = _("design {design} needs ranges ({ranges}) for: {names}")
                raise ValueError(
                    problem.format(design=design, ranges="{min = .., max = ..}", names=lists)
                )
            if self.combinations and self.design != "lhs":
                problem = _("hand-picked combinations would break a {design} design")
                raise ValueError(problem.format(design=self.design))
        if self.design == "combinations" and not self.combinations:
            raise ValueError(_("design 'combinations' needs [[combinations]]"))
        if self.design == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(_("samples must be a power of 2 for a Sobol design"))
        names = set(self.levers) | set(self.uncertainties)
        for i, combo in enumerate(self.combinations):
            unknown = set(combo) - names
            if unknown:
                problem = _("not a lever or uncertainty: {names}")
                raise ValueError(f"combinations[{i}]: " + problem.format(names=sorted(unknown)))
        return self


def load_experiment(path: str | Path) -> tuple[ExperimentFile, Path]:
    """Read and validate an experiment file; return it with its base scenario's path.

    Raises:
        ScenarioError: naming the file and the field.
    """
    p = Path(path)
    data = parse_toml(read_text(p), str(p))
    try:
        exp = ExperimentFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(str(p), validation_problems(exc)) from None
    return exp, (p.parent / exp.scenario).resolve()


def _problem(params: Mapping[str, Range]) -> dict[str, Any]:
    return {
        "num_vars": len(params),
        "names": list(params),
        "bounds": [[r.min, r.max] for r in params.values()],
    }


def _round(params: Mapping[str, Parameter], point: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in point.items():
        spec = params.get(k)
        if isinstance(spec, Range) and spec.integer:
            out[k] = round(v)
        elif isinstance(v, np.generic):
            out[k] = v.item()
        else:
            out[k] = v
    return out


def _levels(spec: Parameter) -> list[Any]:
    return spec.values() if isinstance(spec, Range) else list(spec)


def design_points(exp: ExperimentFile) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The design: one row per point (``point``, ``policy``, then each parameter).

    Returns:
        The design table and, for Sobol and Morris, the sample matrix SALib
        analyses (per policy, in the same order).
    """
    from SALib.sample import latin, morris, sobol

    lever_names = list(exp.levers)
    policies = [
        dict(zip(lever_names, combo, strict=True))
        for combo in itertools.product(*(_levels(v) for v in exp.levers.values()))
    ]
    unc: dict[str, Parameter] = dict(exp.uncertainties)
    sample: np.ndarray | None = None
    if exp.design == "factorial":
        u_points = [
            dict(zip(unc, combo, strict=True))
            for combo in itertools.product(*(_levels(v) for v in unc.values()))
        ]
    elif exp.design == "combinations":
        u_points = [{}]
        policies = [{}]
    else:
        ranges = {k: v for k, v in unc.items() if isinstance(v, Range)}
        problem = _problem(ranges)
        if exp.design == "lhs":
            sample = latin.sample(problem, exp.samples, seed=exp.seed)
        elif exp.design == "sobol":
            sample = sobol.sample(problem, exp.samples, calc_second_order=False, seed=exp.seed)
        else:
            sample = morris.sample(problem, exp.samples, num_levels=4, seed=exp.seed)
        u_points = [dict(zip(ranges, row, strict=True)) for row in sample]
    rows = []
    for p, policy in enumerate(policies):
        for u in u_points:
            rows.append({"policy": p, **policy, **u})
    for combo in exp.combinations:
        rows.append({"policy": -1, **combo})
    table = pd.DataFrame(rows)
    params = {**exp.levers, **exp.uncertainties}
    records = [
        _round(params, {str(k): v for k, v in r.items() if k != "policy" and not _isnan(v)})
        for r in table.to_dict("records")
    ]
    table = pd.DataFrame(
        [{"policy": int(p), **r} for p, r in zip(table["policy"], records, strict=True)]
    )
    table.insert(0, "point", range(len(table)))
    return table, sample


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


@dataclass
class SweepResult:
    """A sweep's results.

    Attributes:
        design: one row per point (``point``, ``policy`` and the parameters).
        runs: one row per run (header, ``point`` and outputs).
        points: per point, the mean of each kept output over its replications.
        sensitivity: Sobol (S1, ST with confidence intervals) or Morris
            (mu, mu_star, sigma, mu_star_conf) indices per policy, uncertainty
            and output; empty for other designs.
        failed: keys of runs that failed.
        damaged: keys of stored records that failed their checksum (not used; run again).
    """

    design: pd.DataFrame
    runs: pd.DataFrame
    points: pd.DataFrame
    sensitivity: pd.DataFrame
    failed: list[str]
    damaged: list[str] = field(default_factory=list)


def _design_hash(exp: ExperimentFile, design: pd.DataFrame, base_hash: str) -> str:
    blob = json.dumps(
        {"exp": exp.model_dump(mode="json"), "design": design.to_dict("list"), "base": base_hash},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def sweep(
    path: str | Path,
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    size_check: bool = True,
    add: bool = False,
) -> SweepResult:
    """Run an experiment file.

    Args:
        path: the experiment file.
        out: the experiment folder (default ``out/<experiment name>``); its
            ``results.sqlite`` is reused to resume.
        workers: local processes (default: all cores).
        scheduler: a Dask scheduler address (``tcp://host:port``) instead.
        progress: called after each run.
        size_check: first refuse runs that would not fit in memory or take hours.
        add: keep this experiment beside another one in the same store (apart).

    Raises:
        ScenarioError: if the file, its scenario or a parameter is invalid.
        StoreError: if the folder holds another experiment (and not ``add``).
    """
    from collabsim.loading import scenario_hash

    exp, scenario_path = load_experiment(path)
    try:
        raw = apply_overrides(load_raw(scenario_path), exp.fixed)
    except ScenarioError as exc:
        raise ScenarioError(str(path), [f"scenario: {p}" for p in exc.problems]) from None
    try:
        base = scenario_from_dict(raw, str(scenario_path))
    except ScenarioError as exc:
        where = _("scenario or fixed: {problem}")
        raise ScenarioError(str(path), [where.format(problem=p) for p in exc.problems]) from None
    design, sample = design_points(exp)
    seeds = replicate_seeds(exp.seed, exp.replications)
    arms: list[Arm] = []
    params_cols = [c for c in design.columns if c not in ("point", "policy")]
    for row in design.to_dict("records"):
        overrides = {k: row[k] for k in params_cols if k in row and not _isnan(row[k])}
        try:
            scenario = scenario_from_dict(apply_overrides(raw, overrides), str(scenario_path))
        except ScenarioError as exc:
            where = _("point {point} {overrides}: {problem}")
            raise ScenarioError(
                str(path),
                [where.format(point=row["point"], overrides=overrides, problem=p)
                 for p in exc.problems],
            ) from None  # fmt: skip
        arms.append((f"p{row['point']:05d}", scenario, seeds))
    identity = Experiment(
        exp.name,
        {arm: scenario_hash(scenario) for arm, scenario, _s in arms},
        exp.seed,
        design=_design_hash(exp, design, scenario_hash(base)),
        label=_("{design} design over {scenario}").format(design=exp.design, scenario=base.name),
    )
    stored = run_experiment(
        Path(out) if out is not None else Path("out") / exp.name,
        identity,
        arms,
        keep_timeseries=exp.keep_timeseries,
        keep_cases=exp.keep_cases,
        add=add,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        size_check=size_check,
    )
    runs, failed = stored.runs, stored.failed
    runs["point"] = runs["arm"].str[1:].astype(int)
    done = runs[runs["status"] == "done"]
    outputs = exp.outputs or list(outputs_of(done).columns)
    missing = [o for o in outputs if o not in done.columns]
    if missing and len(done):
        problem = _("unknown outputs {outputs}").format(outputs=missing)
        raise ScenarioError(str(path), [f"outputs: {problem}"])
    points = design.merge(done.groupby("point")[outputs].mean().reset_index(), on="point")
    sensitivity = pd.DataFrame()
    if sample is not None and exp.design in ("sobol", "morris") and not failed:
        sensitivity = _sensitivity(exp, points, sample, outputs)
    return SweepResult(design, runs, points, sensitivity, failed, stored.damaged)


def _sensitivity(
    exp: ExperimentFile,
    points: pd.DataFrame,
    sample: np.ndarray,
    outputs: list[str],
) -> pd.DataFrame:
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    ranges = {k: v for k, v in exp.uncertainties.items() if isinstance(v, Range)}
    problem = _problem(ranges)
    rows = []
    for policy in sorted(int(p) for p in points["policy"].unique()):
        grp = points[points["policy"] == policy].sort_values("point")
        for output in outputs:
            y = grp[output].to_numpy(dtype=float)
            if exp.design == "sobol":
                res = sobol_analyze.analyze(
                    problem, y, calc_second_order=False, seed=exp.seed, print_to_console=False
                )
                keys = ("S1", "S1_conf", "ST", "ST_conf")
            else:
                res = morris_analyze.analyze(problem, sample, y, num_levels=4, seed=exp.seed)
                keys = ("mu", "mu_star", "sigma", "mu_star_conf")
            for k, name in enumerate(problem["names"]):
                rows.append(
                    {
                        "policy": policy,
                        "output": output,
                        "uncertainty": name,
                        **{key: float(np.asarray(res[key])[k]) for key in keys},
                    }
                )
    return pd.DataFrame(rows)


def write_sweep(result: SweepResult, exp_name: str, folder: Path, design: str) -> list[Path]:
    """Write a sweep's tables (CSV) and, for Sobol and Morris, the sensitivity plot."""
    from collabsim.plots import plot_sensitivity

    with staged(folder) as stage:
        result.design.to_csv(stage / "design.csv", index=False)
        result.points.to_csv(stage / "points.csv", index=False)
        if len(result.sensitivity):
            result.sensitivity.to_csv(stage / "sensitivity.csv", index=False)
            plot_sensitivity(result.sensitivity, design, exp_name, stage / "sensitivity.png")
        names = sorted(p.name for p in stage.iterdir())
    return [folder / name for name in names]
