"""The ``collabsim`` command line. It parses, calls the API and prints; it never simulates.

Heavy modules (the model, pandas, matplotlib) are imported inside the
commands, so ``collabsim --help`` answers at once.
"""

from __future__ import annotations

import functools
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from collabsim.files import staged
from collabsim.i18n import _, translator

__all__ = ["app"]

app = typer.Typer(
    name="collabsim",
    help="Simulate how agencies collaborate on cases of violence against children.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _language(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of tables, messages and files: en or id (default: COLLABSIM_LANG, "
            "else the system's locale, else en).",
            show_default=False,
        ),
    ] = None,
) -> None:
    from collabsim.errors import InputError
    from collabsim.i18n import default_language, set_language

    try:
        set_language(lang if lang is not None else default_language())
    except InputError as exc:
        _fail(exc)


# No markup (a scenario may be named "[/]"), no wrapping (a long path stays whole).
console = Console(markup=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)

ScenarioArg = Annotated[Path, typer.Argument(help="A scenario TOML file.", show_default=False)]
Add = Annotated[
    bool,
    typer.Option(
        "--add",
        help="Keep this experiment in a store that holds another one (apart, by its key).",
    ),
]
OutFolder = Annotated[Path | None, typer.Option(help="Experiment folder.")]
Everywhere = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a parameter everywhere, e.g. --set run.days=730."),
]
NoSizeCheck = Annotated[
    bool,
    typer.Option(
        "--no-size-check",
        help="Run even if the estimate says the run will not fit in memory or take hours.",
    ),
]


def _parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``key.path=value`` pairs; values are read as TOML (numbers, booleans, "strings")."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            _fail(ValueError(f"--set {pair!r}: expected KEY=VALUE, e.g. agencies.hub.staff=20"))
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw
    return out


def _show(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[str | Text]], texts: int = 1
) -> None:
    """Print a table; the first ``texts`` columns are left-aligned, the rest right-aligned."""
    table = Table(title=title)
    for k, col in enumerate(columns):
        table.add_column(col, justify="left" if k < texts else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _exit_if_failed(failed: Sequence[str], damaged: Sequence[str] = ()) -> None:
    if damaged:
        err.print(
            Text(f"{len(damaged)} stored runs were damaged", "yellow")
            + " (their records failed the checksum), not used, and run again: "
            + ", ".join(damaged)
        )
    if failed:
        err.print(
            Text(f"{len(failed)} runs failed", "red") + "; run the command again to retry them"
        )
        raise typer.Exit(1)


def _fail(exc: Exception) -> NoReturn:
    err.print(Text("error: ", "red") + str(exc))
    raise typer.Exit(2)


def _command[**P, R](fn: Callable[P, R]) -> Callable[P, R]:
    """Register a command that turns bad input into exit 2 and Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        from collabsim.errors import InputError

        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            err.print(
                Text("interrupted: ", "red")
                + "no output file was written or changed; runs already stored in a results "
                "store are kept, and the same command resumes from them"
            )
            raise typer.Exit(130) from None

    app.command()(guarded)
    return guarded


@_command
def run(
    scenario: ScenarioArg,
    seed: Annotated[int, typer.Option(min=0, help="Random seed; same seed, same numbers.")] = 0,
    days: Annotated[
        int | None, typer.Option(min=1, help="Run length in days (default: the scenario's).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the outputs (default: out/<scenario file name>)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a parameter, e.g. --set agencies.hub.staff=20."),
    ] = None,
    no_size_check: NoSizeCheck = False,
) -> None:
    """Run one simulation, print its summary and write its files (all of them or none)."""
    from collabsim.api import run as run_scenario
    from collabsim.outputs import HEADLINE, fmt, write_run
    from collabsim.terms import term

    overrides = _parse_overrides(set_ or [])
    start = time.perf_counter()
    with console.status(_("Simulating {scenario} (seed {seed})...").format(
        scenario=scenario, seed=seed
    )):  # fmt: skip
        result = run_scenario(
            scenario, seed, days=days, overrides=overrides, size_check=not no_size_check
        )
    wall = time.perf_counter() - start
    folder = out if out is not None else Path("out") / scenario.stem
    s = result.summary
    t = translator()
    title = _("{scenario} (seed {seed}, {days} days, warm-up {warmup})").format(
        scenario=s["scenario"], seed=seed, days=t.number(s["days"]),
        warmup=t.number(s["warmup_days"]),
    )  # fmt: skip
    _show(title, (_("output"), _("value")), ((term(key), fmt(s[key])) for key in HEADLINE))
    events = s["barrier_events"].items()
    _show(_("Barrier events (cases after warm-up)"), (_("barrier"), _("events")),
          ((term(k), t.number(v)) for k, v in events))  # fmt: skip
    written = write_run(result, folder)
    console.print(
        _("Simulated in {seconds} s. Wrote {n} files to {folder}/:").format(
            seconds=t.number(wall), n=len(written), folder=folder
        )
    )
    console.print("  " + ", ".join(p.name for p in written))


@_command
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files.", show_default=False)],
    all_missing: Annotated[
        bool, typer.Option("--all", help="List every assumption that lacks a range.")
    ] = False,
    strict: Annotated[
        bool, typer.Option(help="Exit 2 also when an assumption lacks a range.")
    ] = False,
) -> None:
    """Check scenario files, that a run fits this machine, and which assumptions lack a range.

    Exit 2 if a file is invalid or a run would not fit (with --strict, also
    if an assumption lacks a range).
    """
    from collabsim.assumptions import assumed, lacking
    from collabsim.limits import check_fits
    from collabsim.loading import ScenarioError, load_scenario

    bad = 0
    for path in scenarios:
        try:
            s = load_scenario(path)
            size = check_fits(s, str(path))
        except ScenarioError as exc:
            err.print(Text("invalid ", "red") + str(exc))
            bad += 1
            continue
        console.print(
            Text("ok ", "green") + f"{path}: {s.name} (a run needs about "
            f"{size.memory_bytes / 2**20:,.0f} MiB and {size.seconds:,.1f} s)"
        )
        missing, total = lacking(s), len(assumed(s))
        console.print(
            f"   assumptions: {total}, {total - len(missing)} with a range in [ranges]"
            + (f", {len(missing)} without one" if missing else "")
        )
        shown = missing if all_missing else missing[:10]
        for key in shown:
            console.print(f"   no range: {key}")
        if len(shown) < len(missing):
            console.print(f"   ... and {len(missing) - len(shown)} more (--all lists them)")
        bad += bool(strict and missing)
    if bad:
        raise typer.Exit(2)


KEY_OUTPUTS = [
    "handling_days_median",
    "handling_days_p90",
    "handling_days_mean_closed",
    "open_share",
    "first_service_days_median",
    "interviews_per_child",
    "cases_closed",
    "cases_recorded",
    "referrals_lost",
    "bypasses",
]

Reps = Annotated[int, typer.Option(min=2, help="Replications.")]
Workers = Annotated[int | None, typer.Option(min=1, help="Processes to use (default: all cores).")]
Seed = Annotated[int, typer.Option(min=0, help="Root seed of the replications.")]


Scheduler = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (tcp://host:port) to run on instead of locally."),
]


class _Bar:
    """A rich progress bar with ETA, fed by the experiment's progress callback."""

    def __init__(self, label: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self.task = self.progress.add_task(label, total=None)

    def __enter__(self) -> _Bar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)


def _load(path: Path) -> Any:
    from collabsim.loading import load_scenario

    return load_scenario(path)


@_command
def replicate(
    scenario: ScenarioArg,
    reps: Reps = 10,
    seed: Seed = 0,
    out: OutFolder = None,
    keep_cases: Annotated[
        bool, typer.Option("--keep-cases", help="Also store each run's per-case table.")
    ] = False,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
    add: Add = False,
) -> None:
    """Run a scenario many times; print means with 95% confidence intervals."""
    from collabsim.experiments import replicate as run_replications
    from collabsim.outputs import fmt

    params = _load(scenario)
    folder = out or Path("out") / f"{scenario.stem}-replications"
    with _Bar(f"{reps} replications") as bar:
        result = run_replications(
            params,
            reps,
            seed=seed,
            out=folder,
            keep_cases=keep_cases,
            workers=workers,
            scheduler=scheduler,
            progress=bar,
            size_check=not no_size_check,
            add=add,
        )
    rows = [(k, result.stats.loc[k]) for k in KEY_OUTPUTS if k in result.stats.index]
    _show(
        f"{params.name}: {reps} replications (root seed {seed})",
        ("output", "mean", "95% CI", "sd"),
        ((k, fmt(r["mean"]), f"{fmt(r['ci_low'])} .. {fmt(r['ci_high'])}", fmt(r["sd"]))
         for k, r in rows),
    )  # fmt: skip
    with staged(folder) as stage:
        result.stats.to_csv(stage / "statistics.csv")
    console.print(f"Results in {folder}/results.sqlite; statistics in {folder}/statistics.csv")
    _exit_if_failed(result.failed, result.damaged)


def _show_differences(title: str, table: Any) -> None:
    """Print a paired comparison's key outputs: A, B, B - A and its 95% interval."""
    from collabsim.outputs import fmt

    rows = [(k, table.loc[k]) for k in KEY_OUTPUTS if k in table.index]
    _show(
        title,
        ("output", "A", "B", "B - A", "95% CI"),
        ((k, fmt(r["mean_a"]), fmt(r["mean_b"]), fmt(r["diff"]),
          f"{fmt(r['ci_low'])} .. {fmt(r['ci_high'])}") for k, r in rows),
    )  # fmt: skip


@_command
def compare(
    a: ScenarioArg,
    b: ScenarioArg,
    reps: Reps = 10,
    seed: Seed = 0,
    out: OutFolder = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
    add: Add = False,
) -> None:
    """Compare two scenarios with common random numbers: B - A with 95% intervals."""
    from collabsim.experiments import compare as run_comparison
    from collabsim.plots import plot_differences

    pa, pb = _load(a), _load(b)
    folder = out or Path("out") / f"compare-{a.stem}-vs-{b.stem}"
    with _Bar(f"{reps} paired replications") as bar:
        result = run_comparison(
            pa,
            pb,
            reps,
            seed=seed,
            out=folder,
            workers=workers,
            scheduler=scheduler,
            progress=bar,
            size_check=not no_size_check,
            add=add,
        )
    _show_differences(
        f"B = {pb.name} minus A = {pa.name} ({reps} paired replications)", result.table
    )
    with staged(folder) as stage:
        result.table.to_csv(stage / "comparison.csv")
        plot_differences(
            result.table,
            ["handling_days_median", "handling_days_p90", "first_service_days_median"],
            f"{pb.name} vs {pa.name}",
            stage / "comparison.png",
        )
    console.print(f"Wrote {folder}/comparison.csv and comparison.png")
    _exit_if_failed(result.failed, result.damaged)


@_command
def explore(
    base: ScenarioArg,
    policies: Annotated[
        list[Path],
        typer.Argument(
            help="Intervention scenario files (each named by its file).", show_default=False
        ),
    ],
    futures: Annotated[int, typer.Option(min=2, help="Futures to draw over the ranges.")] = 50,
    reps: Annotated[int, typer.Option(min=1, help="Replications per future and policy.")] = 1,
    seed: Seed = 0,
    set_: Everywhere = None,
    question: Annotated[
        list[str] | None,
        typer.Option(
            help="A question for scenario discovery, e.g. 'shared-case-system < more-hub-staff' "
            "(on handling_days_median) or 'baseline:follow_up_within_norm_share < 0.8'.",
        ),
    ] = None,
    out: OutFolder = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
    add: Add = False,
) -> None:
    """Run every intervention against the baseline in many futures over the assumptions' ranges.

    Reports, per intervention, its effect across the futures, how often it is
    the best choice and its regret; writes a Markdown and an HTML report.
    """
    import shlex

    from collabsim.errors import InputError
    from collabsim.experiments.discovery import discover, parse_question
    from collabsim.experiments.explore import explore as run_explore
    from collabsim.experiments.explore import write_report
    from collabsim.outputs import fmt

    questions = [parse_question(q) for q in question or []]
    names = [p.stem for p in policies]
    if len(set(names)) < len(names):
        _fail(InputError("policies", ["two files have the same name"]))
    overrides = _parse_overrides(set_ or [])
    pbase = _load(base)
    arms = futures * (len(policies) + 1) * reps
    folder = out or Path("out") / f"explore-{base.stem}"
    with _Bar(
        f"{futures} futures x {len(policies) + 1} arms x {reps} replications = {arms} runs"
    ) as bar:
        result = run_explore(
            pbase, {n: _load(p) for n, p in zip(names, policies, strict=True)}, futures,
            reps=reps, seed=seed, out=folder, overrides=overrides, workers=workers,
            scheduler=scheduler, progress=bar, size_check=not no_size_check, add=add,
        )  # fmt: skip
    for output in dict.fromkeys(result.summary["output"]):
        rows = result.summary[result.summary["output"] == output]
        way = result.goals.get(output)
        _show(
            f"{output} ({way} is better): effect across {futures} futures"
            if way
            else f"{output} (rupiah a year per unit saved a year), in the futures with a saving",
            ("policy", "mean", "p10 .. p90", "best in", "mean regret"),
            ((r["policy"], fmt(r["effect_mean"]),
              f"{fmt(r['effect_p10'])} .. {fmt(r['effect_p90'])}",
              "-" if r["best_share"] != r["best_share"] else f"{r['best_share']:.0%}",
              fmt(r["regret_mean"])) for _, r in rows.iterrows()),
        )  # fmt: skip
    found = [discover(result.futures, result.levels, q, seed=seed) for q in questions]
    for d in found:
        _show_discovery(d)
    sets = [x for kv in set_ or [] for x in ("--set", kv)]
    sets += [x for q in question or [] for x in ("--question", q)]
    command = shlex.join(
        ["collabsim", "explore", str(base), *map(str, policies), "--futures", str(futures),
         "--reps", str(reps), "--seed", str(seed), *sets, "--out", str(folder)]
    )  # fmt: skip
    written = write_report(result, folder, f"{pbase.name}: {futures} futures", command, found)
    console.print(f"Wrote {len(written)} files to {folder}/: " + ", ".join(p.name for p in written))
    _exit_if_failed(result.failed, result.damaged)


def _explored(folder: Path, name: str) -> Any:
    """One table of an exploration's folder, or a clear error if it has none."""
    import pandas as pd

    from collabsim.errors import InputError

    path = folder / f"{name}.csv"
    if not path.is_file():
        _fail(InputError(str(folder), [f"no {name}.csv: run collabsim explore with --out here"]))
    return pd.read_csv(path)


def _show_discovery(d: Any) -> None:
    """Print a scenario-discovery box and the assumptions' ranking."""
    console.print(
        f"When does {d.question.text} hold? In {d.true} of {d.futures} futures. "
        f"PRIM's box: coverage {d.coverage:.0%}, density {d.density:.0%}, mass {d.mass:.0%}."
    )
    _show(
        "The box (the assumptions it restricts)",
        ("assumption", "box", "whole range", "qp"),
        ((r["uncertainty"], f"{r['low']:.4g} .. {r['high']:.4g}",
          f"{r['range_low']:.4g} .. {r['range_high']:.4g}", f"{r['qp']:.2g}")
         for _, r in d.box.iterrows()),
    )  # fmt: skip
    _show(
        "What tells the futures apart (extra trees)",
        ("assumption", "score"),
        ((r["uncertainty"], f"{r['score']:.3f}") for _, r in d.importance.head(8).iterrows()),
    )


@_command
def discover(
    folder: Annotated[Path, typer.Argument(help="An explore command's output folder.")],
    question: Annotated[
        str,
        typer.Argument(
            help="e.g. 'shared-case-system < more-hub-staff' or "
            "'baseline:follow_up_within_norm_share < 0.8'.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str, typer.Option(help="The output of a side that names none.")
    ] = "handling_days_median",
    min_density: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="The density the box must reach.")
    ] = 0.8,
    seed: Seed = 0,
) -> None:
    """Scenario discovery on an exploration: which assumptions, in which ranges, make it hold."""
    from collabsim.experiments.discovery import discover as run_discover
    from collabsim.experiments.discovery import parse_question

    found = run_discover(
        _explored(folder, "futures"), _explored(folder, "levels"), parse_question(question, output),
        min_density=min_density, seed=seed,
    )  # fmt: skip
    _show_discovery(found)


def _show_allocation(title: str, table: Any) -> None:
    """Print an allocation's candidates (costs in millions of rupiah a year)."""
    from collabsim.outputs import fmt

    _show(
        title,
        ("choice", "extra cost p50 (Rp m)", "p90 (Rp m)", "effect mean", "worst decile",
         "mean regret", "affordable", "frontier"),
        ((r["policy"], fmt(r["cost_p50"] / 1e6), fmt(r["cost_p90"] / 1e6),
          fmt(r["effect_mean"]), fmt(r["effect_worst"]), fmt(r["regret_mean"]),
          "yes" if r["affordable"] else "no", "yes" if r["frontier"] else "")
         for _, r in table.iterrows()),
    )  # fmt: skip


@_command
def allocate(
    folder: Annotated[Path, typer.Argument(help="An explore command's output folder.")],
    budget: Annotated[float, typer.Option(min=0.0, help="Rupiah a year on top of today's costs.")],
    output: Annotated[str, typer.Option(help="The output to improve.")] = "handling_days_median",
    rule: Annotated[
        str, typer.Option(help="worst: the best worst decile; regret: the least mean regret.")
    ] = "worst",
) -> None:
    """The best buy for a budget among the explored policies, robust over the futures."""
    from collabsim.errors import InputError
    from collabsim.experiments.allocate import allocate as run_allocate
    from collabsim.experiments.explore import GOALS
    from collabsim.files import staged
    from collabsim.outputs import fmt
    from collabsim.plots import plot_frontier

    if rule not in ("worst", "regret"):
        _fail(InputError("--rule", [f"{rule!r}: expected worst or regret"]))
    better = GOALS.get(output, "min")
    effects = _explored(folder, "effects")
    result = run_allocate(effects, output, better, budget, rule)  # type: ignore[arg-type]
    _show_allocation(
        f"{output} ({better} is better) within Rp {fmt(budget / 1e6)} million a year",
        result.table,
    )
    console.print(f"The best buy by the {rule} rule: {result.choice}")
    with staged(folder) as stage:
        result.table.to_csv(stage / f"allocation-{output}.csv", index=False)
        plot_frontier(result.table, output, stage / f"frontier-{output}.png", budget, result.choice)
    console.print(f"Wrote {folder}/allocation-{output}.csv and frontier-{output}.png")


@_command
def mix(
    base: ScenarioArg,
    budget: Annotated[float, typer.Option(min=0.0, help="Rupiah a year on top of today's costs.")],
    levers: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Intervention scenario files to mix (each named by its file).", show_default=False
        ),
    ] = None,
    staff: Annotated[
        list[str] | None,
        typer.Option(
            help="KIND=MOST: up to MOST extra posts at every agency of this kind, e.g. hub=12.",
        ),
    ] = None,
    futures: Annotated[int, typer.Option(min=2, help="Futures to draw over the ranges.")] = 20,
    reps: Annotated[int, typer.Option(min=1, help="Replications per future and mix.")] = 1,
    seed: Seed = 0,
    output: Annotated[str, typer.Option(help="The output to improve.")] = "handling_days_median",
    rule: Annotated[
        str, typer.Option(help="worst: the best worst decile; regret: the least mean regret.")
    ] = "worst",
    search: Annotated[
        str,
        typer.Option(
            help="all: run every affordable mix; evolve: differential evolution; auto: all "
            "when there are at most 32 mixes.",
        ),
    ] = "auto",
    generations: Annotated[
        int, typer.Option(min=1, help="Generations of the search (evolve).")
    ] = 10,
    population: Annotated[
        int, typer.Option(min=2, help="Search population per variable (evolve).")
    ] = 4,
    set_: Everywhere = None,
    out: OutFolder = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
    add: Add = False,
) -> None:
    """The best mix of interventions and extra posts for a budget, robust over the futures.

    Every mix runs against the baseline in the same futures with the same
    seeds; a mix that costs more than the budget in more than one future of
    ten is never run.
    """
    from collabsim.errors import InputError
    from collabsim.experiments.mix import check_mix, search_mix
    from collabsim.outputs import fmt
    from collabsim.plots import plot_frontier

    if rule not in ("worst", "regret"):
        _fail(InputError("--rule", [f"{rule!r}: expected worst or regret"]))
    if search not in ("auto", "all", "evolve"):
        _fail(InputError("--search", [f"{search!r}: expected auto, all or evolve"]))
    most: dict[str, int] = {}
    for pair in staff or []:
        kind, sep, raw = pair.partition("=")
        if not sep or not kind or not raw.isdigit():
            _fail(InputError("--staff", [f"{pair!r}: expected KIND=MOST, e.g. hub=12"]))
        most[kind.strip()] = int(raw)
    names = [p.stem for p in levers or []]
    if len(set(names)) < len(names):
        _fail(InputError("levers", ["two files have the same name"]))
    folder = out or Path("out") / f"mix-{base.stem}"
    pbase, plevers = _load(base), {n: _load(p) for n, p in zip(names, levers or [], strict=True)}
    check_mix(pbase, plevers, most)  # before the progress bar
    with _Bar(f"mixes over {futures} futures x {reps} replications: runs") as bar:
        result = search_mix(
            pbase, plevers, budget, futures, staff=most, output=output, rule=rule,  # type: ignore[arg-type]
            reps=reps, seed=seed, out=folder, method=search,  # type: ignore[arg-type]
            generations=generations, population=population,
            overrides=_parse_overrides(set_ or []), workers=workers, scheduler=scheduler,
            progress=bar, size_check=not no_size_check, add=add,
        )  # fmt: skip
    chosen = result.allocation
    _show_allocation(
        f"{output} ({chosen.better} is better) within Rp {fmt(budget / 1e6)} million a year: "
        "the mixes that ran",
        chosen.table.sort_values(["cost_p90", "policy"]),
    )
    how = "every affordable mix ran" if result.method == "all" else "differential evolution"
    console.print(
        f"Searched ({how}): {result.proposed} mixes considered, {result.too_dear} over the "
        f"budget (not run), {len(result.mixes)} ran."
    )
    console.print(f"The best mix by the {rule} rule: {chosen.choice}")
    with staged(folder) as stage:
        result.mixes.to_csv(stage / f"mixes-{output}.csv", index=False)
        result.effects.to_csv(stage / "effects.csv", index=False)
        result.futures.to_csv(stage / "futures.csv", index=False)
        plot_frontier(chosen.table, output, stage / f"mix-frontier-{output}.png", budget,
                      chosen.choice)  # fmt: skip
    console.print(
        f"Wrote {folder}/mixes-{output}.csv, effects.csv, futures.csv and mix-frontier-{output}.png"
    )
    _exit_if_failed(result.failed, result.damaged)


@_command
def cycle(
    a: ScenarioArg,
    b: ScenarioArg,
    since: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Day to count the hysteresis from (default: the end of B's last shock, else 0).",
        ),
    ] = None,
    reps: Reps = 6,
    seed: Seed = 0,
    tolerance: Annotated[
        float, typer.Option(min=0.0, help="How close to A counts as back, on the index scale.")
    ] = 0.01,
    out: OutFolder = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
    add: Add = False,
) -> None:
    """Follow B - A day by day (a shock or a lever): the gap in each index and how long it lasts."""
    from collabsim.experiments.cycles import INDEX_COLUMNS
    from collabsim.experiments.cycles import cycle as run_cycle
    from collabsim.outputs import fmt
    from collabsim.plots import plot_gap

    pa, pb = _load(a), _load(b)
    spans = [(s.start_day, s.start_day + s.days) for s in pb.shocks]
    start = since if since is not None else max((end for _, end in spans), default=0)
    folder = out or Path("out") / f"cycle-{a.stem}-vs-{b.stem}"
    with _Bar(f"{reps} paired replications, daily series kept") as bar:
        result = run_cycle(
            pa, pb, reps, since=start, out=folder, seed=seed, tolerance=tolerance,
            workers=workers, scheduler=scheduler, progress=bar, add=add,
            size_check=not no_size_check,
        )  # fmt: skip
    gap, last = result.gap, int(result.gap.index[-1])
    days = sorted({d for d in (start, start + 180, last) if d in gap.index})

    def cell(col: str, day: int) -> str:
        mid, low, high = gap.loc[day, [col, f"{col}_low", f"{col}_high"]].astype(float)
        return f"{mid:+.3f} ({low:+.3f} .. {high:+.3f})"

    def lasts(col: str) -> str:
        h = result.hysteresis[col]
        return f"{h} days" if h is not None else "not within the run"

    _show(
        f"B = {pb.name} minus A = {pa.name}: gap in each index (95% CI), from day {start}",
        ("index", *(f"day {d}" for d in days), "back within " + fmt(tolerance)),
        ((col, *(cell(col, d) for d in days), lasts(col)) for col in INDEX_COLUMNS),
    )
    t = result.comparison.table
    _show_differences("Summary outputs (B - A, 95% CI)", t)
    with staged(folder) as stage:
        gap.to_csv(stage / "gap.csv")
        t.to_csv(stage / "comparison.csv")
        plot_gap(gap, INDEX_COLUMNS, spans, f"{pb.name} vs {pa.name}", stage / "gap.png")
    console.print(f"Wrote {folder}/gap.csv, gap.png and comparison.csv")
    _exit_if_failed(result.comparison.failed, result.comparison.damaged)


REWORK = "barriers.resources.rework_scale"
"""The assumption ``attribute`` reports the ranking across by default."""


@_command
def attribute(
    scenario: ScenarioArg,
    reps: Annotated[
        int, typer.Option(min=1, help="Replications (at least 2 without --futures).")
    ] = 5,
    seed: Seed = 0,
    out: OutFolder = None,
    across: Annotated[
        str | None,
        typer.Option(
            help="An assumption with a range in the scenario's ranges table: the attribution is "
            "also run at both ends of its range, and the rankings compared (default: "
            f"{REWORK} when the scenario gives its range; 'none' to skip).",
        ),
    ] = None,
    futures: Annotated[
        int | None,
        typer.Option(
            min=2,
            help="Instead: in this many futures over the scenario's ranges, each barrier's share "
            "of the days lost and how often it is the first to fix (14 runs per future and "
            "replication; --reps 1 is usual).",
        ),
    ] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
    add: Add = False,
) -> None:
    """How many days each of the seven barriers costs (Shapley values, 95% CIs)."""
    from collabsim.experiments import attribute as run_attribution
    from collabsim.experiments import attribute_across
    from collabsim.outputs import fmt
    from collabsim.plots import plot_attribution

    params = _load(scenario)
    folder = out or Path("out") / f"{scenario.stem}-attribution"
    if futures is not None:
        _attribute_over_futures(params, futures, reps, seed, folder, workers, scheduler,
                                not no_size_check, add)  # fmt: skip
        return
    if reps < 2:
        _fail(ValueError("--reps: at least 2 replications for the 95% intervals"))
    key = across if across is not None else (REWORK if REWORK in params.ranges else "none")
    if key != "none" and key not in params.ranges:
        _fail(ValueError(f"--across {key}: {scenario} gives no range for it "
                         f"(its ranges: {', '.join(params.ranges) or 'none'})"))  # fmt: skip
    options: dict[str, Any] = {
        "seed": seed,
        "workers": workers,
        "scheduler": scheduler,
        "size_check": not no_size_check,
        "add": add,
    }
    across_result = None
    with _Bar(f"{1 if key == 'none' else 3} x 128 barrier combinations x {reps}") as bar:
        if key == "none":
            result = run_attribution(params, reps, out=folder, progress=bar, **options)
        else:
            across_result = attribute_across(params, key, reps, out=folder, progress=bar, **options)
            result = across_result.attributions["scenario"]
    _show(
        f"{params.name}: days of handling time each barrier costs",
        ("barrier", "output", "days", "95% CI"),
        ((r["barrier"], r["output"], fmt(r["days"]), f"{fmt(r['ci_low'])} .. {fmt(r['ci_high'])}")
         for _, r in result.table.iterrows()),
        texts=2,
    )  # fmt: skip
    for output, total in result.totals.items():
        console.print(
            f"all barriers on - all off, {output}: {fmt(total)} days (the values sum to it)"
        )
    with staged(folder) as stage:
        result.table.to_csv(stage / "attribution.csv", index=False)
        plot_attribution(result.table, stage / "attribution.png")
        if across_result is not None:
            across_result.table.to_csv(stage / "attribution-across.csv", index=False)
    if across_result is not None:
        _show_across(across_result)
    console.print(f"Wrote {folder}/attribution.csv and attribution.png"
                  + (", attribution-across.csv" if across_result is not None else ""))  # fmt: skip
    _exit_if_failed(
        [], [d for a in ([result] if across_result is None
                         else across_result.attributions.values()) for d in a.damaged]
    )  # fmt: skip


def _attribute_over_futures(
    params: Any, futures: int, reps: int, seed: int, folder: Path, workers: int | None,
    scheduler: str | None, size_check: bool, add: bool,
) -> None:  # fmt: skip
    """``attribute --futures``: each barrier's share of the days lost, and the first to fix."""
    from collabsim.experiments.priority import priority

    runs = futures * 14 * reps
    with _Bar(f"{futures} futures x 14 barrier combinations x {reps} = {runs} runs") as bar:
        result = priority(
            params, futures, reps=reps, seed=seed, out=folder, workers=workers,
            scheduler=scheduler, progress=bar, size_check=size_check, add=add,
        )  # fmt: skip
    _show(
        f"{params.name}: each barrier's share of the days lost ({result.output}), "
        f"across {futures} futures",
        ("barrier", "days", "share", "share p10 .. p90", "first to fix in"),
        ((r["barrier"], f"{r['days']:.2f}", f"{r['share']:.0%}",
          f"{r['share_p10']:.0%} .. {r['share_p90']:.0%}", f"{r['first_share']:.0%}")
         for _, r in result.table.sort_values("share", ascending=False).iterrows()),
    )  # fmt: skip
    with staged(folder) as stage:
        result.table.to_csv(stage / "priority.csv", index=False)
        result.per_future.to_csv(stage / "priority-by-future.csv", index=False)
        result.futures.to_csv(stage / "futures.csv", index=False)
    console.print(f"Wrote {folder}/priority.csv, priority-by-future.csv and futures.csv")
    _exit_if_failed(result.failed)


def _show_across(across: Any) -> None:
    """The ranking at the assumption's value and both ends, and whether it changes."""
    from collabsim.outputs import fmt

    v = across.values
    for output, stable in across.stable.items():
        rows = across.table[across.table["output"] == output]
        pivot = rows.pivot(index="barrier", columns="point", values=["days", "rank"])
        order = rows[rows["point"] == "scenario"].sort_values("rank")["barrier"]
        _show(
            f"{output}: ranking across {across.key} "
            f"(low {fmt(v['low'])}, scenario {fmt(v['scenario'])}, high {fmt(v['high'])})",
            ("barrier", "rank (low)", "rank (scenario)", "rank (high)", "days (low)",
             "days (scenario)", "days (high)"),
            ((b, *(str(int(pivot.loc[b, ("rank", p)])) for p in ("low", "scenario", "high")),
              *(fmt(float(pivot.loc[b, ("days", p)])) for p in ("low", "scenario", "high")))
             for b in order),
            texts=1,
        )  # fmt: skip
        if stable:
            console.print(f"The ranking on {output} is the same across {across.key}'s range.")
        else:
            console.print(
                Text(f"The ranking on {output} depends on {across.key}, an assumption: "
                     "read it as conditional on that value.", "yellow")
            )  # fmt: skip


@_command
def sweep(
    experiment: Annotated[
        Path, typer.Argument(help="An experiment TOML file.", show_default=False)
    ],
    out: Annotated[
        Path | None, typer.Option(help="Experiment folder (default: out/<name>).")
    ] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
    add: Add = False,
) -> None:
    """Run an experiment file: a design over levers and uncertainties, with replications."""
    from collabsim.experiments.sweep import load_experiment, write_sweep
    from collabsim.experiments.sweep import sweep as run_sweep

    exp, _ = load_experiment(experiment)
    folder = out or Path("out") / exp.name
    with _Bar(f"{exp.name} ({exp.design})") as bar:
        result = run_sweep(
            experiment,
            out=folder,
            workers=workers,
            scheduler=scheduler,
            progress=bar,
            size_check=not no_size_check,
            add=add,
        )
    written = write_sweep(result, exp.name, folder, exp.design)
    console.print(
        f"{len(result.design)} design points x {exp.replications} replications = "
        f"{len(result.runs)} runs stored in {folder}/results.sqlite"
    )
    if len(result.sensitivity):
        cols = [c for c in result.sensitivity.columns if c != "policy"]
        first = result.sensitivity[result.sensitivity["policy"] == 0]
        _show(
            f"Sensitivity ({exp.design}), policy 0",
            cols,
            ([f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols]
             for _, r in first.iterrows()),
            texts=2,
        )  # fmt: skip
    console.print("Wrote " + ", ".join(str(p) for p in written))
    _exit_if_failed(result.failed, result.damaged)


@_command
def export(
    results: Annotated[
        Path, typer.Argument(help="An experiment folder or its results.sqlite.", show_default=False)
    ],
    out: Annotated[Path, typer.Option(help="File to write (.csv or .parquet).")],
    table: Annotated[str, typer.Option(help="runs, timeseries or cases.")] = "runs",
) -> None:
    """Write stored results to CSV or Parquet."""
    from collabsim.experiments.store import load_results

    if out.suffix not in (".csv", ".parquet"):
        _fail(ValueError(f"--out {out}: expected a .csv or .parquet file"))
    if table not in ("runs", "timeseries", "cases"):
        _fail(ValueError(f"--table {table!r}: expected runs, timeseries or cases"))
    df = load_results(results, table)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        df.to_csv(out, index=False)
    else:
        df.to_parquet(out, index=False)
    console.print(f"Wrote {len(df):,} rows of {table} to {out}")


@_command
def calibrate(
    scenario: ScenarioArg,
    samples: Annotated[int, typer.Option(min=1, help="Latin hypercube points.")] = 40,
    reps: Annotated[int, typer.Option(min=1, help="Replications per point.")] = 2,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the sample and the replications.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Folder for the results.")] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
) -> None:
    """Fit the scenario to the Jakarta targets (Latin hypercube search); report each target."""
    import os

    from collabsim.experiments.calibration import apply_factors, changed_values, overrides_toml
    from collabsim.experiments.calibration import calibrate as run_calibration
    from collabsim.loading import load_raw

    _load(scenario)
    folder = out or Path("out") / f"{scenario.stem}-calibration"
    with _Bar(f"{samples + 1} points x {reps} replications") as bar:
        result = run_calibration(
            scenario,
            samples=samples,
            reps=reps,
            seed=seed,
            out=folder,
            workers=workers,
            scheduler=scheduler,
            progress=bar,
            size_check=not no_size_check,
        )
    _show(
        f"Fit to the Jakarta targets (best of {samples + 1} points)",
        ("target", "observed", "simulated", "tolerance", "within"),
        ((r["target"], f"{r['observed']:g}", f"{r['simulated']:.4g}", f"{r['tolerance']:g}",
          Text("yes", "green") if r["within"] else Text("no", "red"))
         for _, r in result.fit.iterrows()),
    )  # fmt: skip
    console.print("best factors: " + ", ".join(f"{k} {v:.3f}" for k, v in result.factors.items()))
    base = load_raw(scenario)
    values = changed_values(base, apply_factors(base, result.factors))
    note = f"Fitted by collabsim calibrate (seed {seed}, {samples} samples, {reps} replications)."
    with staged(folder) as stage:
        result.fit.to_csv(stage / "fit.csv", index=False)
        result.samples.to_csv(stage / "samples.csv", index=False)
        parent = os.path.relpath(scenario.resolve(), folder.resolve())
        (stage / "calibrated.toml").write_text(overrides_toml(parent, values, note))
    console.print(f"Wrote {folder}/fit.csv, samples.csv and calibrated.toml ({len(values)} values)")


@_command
def ui(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario to start with (default: the baseline).")
    ] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 8765,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 127.0.0.1 keeps the app on this machine.")
    ] = "127.0.0.1",
    idle_minutes: Annotated[
        float,
        typer.Option(
            min=0.01,
            help="Drop a session's model this long after its tab went away without closing "
            "(a tab that reconnects sooner keeps its run).",
        ),
    ] = 2.0,
) -> None:
    """Open the browser app (Solara, through Mesa's SolaraViz) on http://HOST:PORT."""
    import os

    from collabsim.loading import ScenarioError, load_scenario

    folder = Path("scenarios")
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="False")
    # solara keeps a disconnected session for 24 h by default; a closed tab usually says
    # goodbye, but a killed browser, a sleeping laptop or a dropped network do not
    env["SOLARA_KERNEL_CULL_TIMEOUT"] = f"{idle_minutes * 60:g}s"
    # give a dropped session's memory back: Python's small-object arenas stay pinned by a few
    # live objects, so let glibc allocate them (a few per cent slower) in few arenas, which
    # the app trims after a session closes
    env.setdefault("PYTHONMALLOC", "malloc")
    env.setdefault("MALLOC_ARENA_MAX", "2")
    if scenario is not None:
        try:
            load_scenario(scenario)
        except ScenarioError as exc:
            _fail(exc)
        env["COLLABSIM_SCENARIO"] = str(scenario.resolve())
        folder = scenario.resolve().parent
    elif not folder.is_dir():
        _fail(FileNotFoundError("no ./scenarios folder here: give a SCENARIO file"))
    env["COLLABSIM_SCENARIOS"] = str(folder.resolve())
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            Text("warning: ", "yellow") + f"listening on {host}: other machines can reach the app"
        )
    console.print(f"collabsim app on http://{host}:{port}  (Ctrl+C to stop)")
    # solara run, behind a check that requests come from the app's own pages (server.py)
    cmd = [sys.executable, "-m", "collabsim.app.server", "run", "collabsim.app", "--host", host]
    cmd += ["--port", str(port), "--no-open", "--production", "--no-check-version"]
    cmd += ["--log-level", "warning"]
    os.execvpe(cmd[0], cmd, env)
