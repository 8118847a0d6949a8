"""The ``collabsim`` command line. It parses, calls the API and prints; it never simulates.

Heavy modules (the model, pandas, matplotlib) are imported inside the
commands, so ``collabsim --help`` answers at once.

Every word it shows is translated (:mod:`collabsim.i18n`). The help texts are
made once, at import, in the environment's language (``COLLABSIM_LANG``, else
the locale): ``--lang`` is read only after click has built the commands. That
is why this module does without ``from __future__ import annotations``: the
``help=_()`` of the commands' parameters are evaluated when each command is
defined, not later by typer, in whatever language is in use then.
"""

import contextlib
import functools
import os
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, Self

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from collabsim.errors import InputError
from collabsim.files import staged
from collabsim.i18n import (
    N_,
    UnknownLanguage,
    _,
    check_language,
    default_language,
    language,
    marked,
    set_language,
    translator,
    use_language,
)

__all__ = ["app"]


# The help texts are translated here, at import, so in the environment's language: --lang is
# read only after click has built the commands (and after --help has been answered).
_help_texts = contextlib.ExitStack()
_help_texts.enter_context(use_language(default_language()))

app = typer.Typer(
    name="collabsim",
    help=_("Simulate how agencies collaborate on cases of violence against children."),
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
            help=_(
                "Language of tables, messages and files: en or id (default: COLLABSIM_LANG, "
                "else the system's locale, else en). The help texts (--help) follow "
                "COLLABSIM_LANG or the locale, not --lang."
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    set_language(default_language())  # first a language to say what is wrong in
    try:
        set_language(check_language(lang) if lang is not None else default_language(strict=True))
    except UnknownLanguage as exc:
        _fail(exc)


# No markup (a scenario may be named "[/]"), no wrapping (a long path stays whole).
console = Console(markup=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)

ScenarioArg = Annotated[Path, typer.Argument(help=_("A scenario TOML file."), show_default=False)]
Add = Annotated[
    bool,
    typer.Option(
        "--add",
        help=_("Keep this experiment in a store that holds another one (apart, by its key)."),
    ),
]
OutFolder = Annotated[Path | None, typer.Option(help=_("Experiment folder."))]
Everywhere = Annotated[
    list[str] | None,
    typer.Option("--set", help=_("Override a parameter everywhere, e.g. --set run.days=730.")),
]
NoSizeCheck = Annotated[
    bool,
    typer.Option(
        "--no-size-check",
        help=_("Run even if the estimate says the run will not fit in memory or take hours."),
    ),
]


def _parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``key.path=value`` pairs; values are read as TOML (numbers, booleans, "strings")."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            _fail(ValueError(_("--set {pair}: expected KEY=VALUE, e.g. agencies.hub.staff=20")
                             .format(pair=repr(pair))))  # fmt: skip
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


def _rows(df: Any) -> list[Any]:
    """A data frame's rows (``iterrows`` without its index)."""
    return [row for _index, row in df.iterrows()]


def _ci(low: Any, high: Any) -> str:
    """A 95% interval, ``low .. high``, in the language's numbers."""
    from collabsim.outputs import fmt

    return f"{fmt(low)} .. {fmt(high)}"


def _sig(value: float, digits: int = 4) -> str:
    """A number to ``digits`` significant digits with the language's separators (``0,01235``)."""
    from babel.numbers import format_decimal

    if value != value:
        return _("n/a")
    if value == 0:
        return "0"
    return format_decimal(value, format="@" + "#" * (digits - 1), locale=translator().locale)


def _signed(value: Any) -> str:
    """A difference with its sign and three decimals: ``+0,012``, ``-0,250``."""
    from babel.numbers import format_decimal

    number = float(value)
    if number != number:
        return _("n/a")
    pattern = "+#,##0.000;-#,##0.000"
    return format_decimal(number, format=pattern, locale=translator().locale)


def _output_name(key: str) -> str:
    """An output for a title: its label and, for the options and the CSV files, its key."""
    from collabsim.terms import term

    label = term(key)
    return key if label == key else f"{label} [{key}]"


def _output_cell(key: str) -> Text:
    """An output for a table's row: its label, then its key (the row of the CSV file), dim."""
    from collabsim.terms import term

    label = term(key)
    return Text(key) if label == key else Text(label) + Text(f" [{key}]", "dim")


def _exit_if_failed(failed: Sequence[str], damaged: Sequence[str] = ()) -> None:
    t = translator()
    if damaged:
        err.print(
            Text(_("{n} stored runs were damaged").format(n=t.number(len(damaged))), "yellow")
            + _(" (their records failed the checksum), not used, and run again: {runs}").format(
                runs=", ".join(damaged)
            )
        )
    if failed:
        err.print(
            Text(_("{n} runs failed").format(n=t.number(len(failed))), "red")
            + _("; run the command again to retry them")
        )
        raise typer.Exit(1)


def _fail(exc: Exception) -> NoReturn:
    err.print(Text(_("error:"), "red") + " " + str(exc))
    raise typer.Exit(2)


def _command[**P, R](text: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register a command with its help ``text`` (translated; the docstring is for developers).

    The command turns bad input into exit 2 and Ctrl-C into exit 130.
    """

    def register(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except InputError as exc:
                _fail(exc)
            except KeyboardInterrupt:
                err.print(
                    Text(_("interrupted:"), "red")
                    + " "
                    + _(
                        "no output file was written or changed; runs already stored in a results "
                        "store are kept, and the same command resumes from them"
                    )
                )
                raise typer.Exit(130) from None

        app.command(help=text)(guarded)
        return guarded

    return register


@_command(_("Run one simulation, print its summary and write its files (all of them or none)."))
def run(
    scenario: ScenarioArg,
    seed: Annotated[int, typer.Option(min=0, help=_("Random seed; same seed, same numbers."))] = 0,
    days: Annotated[
        int | None, typer.Option(min=1, help=_("Run length in days (default: the scenario's)."))
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help=_("Folder for the outputs (default: out/<scenario file name>).")),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help=_("Override a parameter, e.g. --set agencies.hub.staff=20.")),
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


@_command(
    _(
        "Check scenario files, that a run fits this machine, and which assumptions lack a range."
        "\n\n"
        "Exit 2 if a file is invalid or a run would not fit (with --strict, also if an "
        "assumption lacks a range)."
    )
)
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help=_("Scenario files."), show_default=False)],
    all_missing: Annotated[
        bool, typer.Option("--all", help=_("List every assumption that lacks a range."))
    ] = False,
    strict: Annotated[
        bool, typer.Option(help=_("Exit 2 also when an assumption lacks a range."))
    ] = False,
) -> None:
    """Check scenario files, that a run fits this machine, and which assumptions lack a range.

    Exit 2 if a file is invalid or a run would not fit (with --strict, also
    if an assumption lacks a range).
    """
    from collabsim.assumptions import assumed, lacking
    from collabsim.limits import check_fits
    from collabsim.loading import ScenarioError, load_scenario

    t = translator()
    bad = 0
    for path in scenarios:
        try:
            s = load_scenario(path)
            size = check_fits(s, str(path))
        except ScenarioError as exc:
            err.print(Text(_("invalid"), "red") + " " + str(exc))
            bad += 1
            continue
        console.print(
            Text(_("ok"), "green") + " "
            + _("{path}: {name} (a run needs about {mib} MiB and {seconds} s)").format(
                path=path, name=s.name, mib=t.number(size.memory_bytes / 2**20, 0),
                seconds=t.number(size.seconds, 1),
            )
        )  # fmt: skip
        missing, total = lacking(s), len(assumed(s))
        counts = {
            "total": t.number(total),
            "ranged": t.number(total - len(missing)),
            "missing": t.number(len(missing)),
        }
        if missing:
            line = _(
                "assumptions: {total}, {ranged} with a range in [ranges], {missing} without one"
            )
        else:
            line = _("assumptions: {total}, {ranged} with a range in [ranges]")
        console.print("   " + line.format(**counts))
        shown = missing if all_missing else missing[:10]
        for key in shown:
            console.print("   " + _("no range: {key}").format(key=key))
        if len(shown) < len(missing):
            more = t.number(len(missing) - len(shown))
            console.print("   " + _("... and {n} more (--all lists them)").format(n=more))
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

Reps = Annotated[int, typer.Option(min=2, help=_("Replications."))]
Workers = Annotated[
    int | None, typer.Option(min=1, help=_("Processes to use (default: all cores)."))
]
Seed = Annotated[int, typer.Option(min=0, help=_("Root seed of the replications."))]


Scheduler = Annotated[
    str | None,
    typer.Option(help=_("Dask scheduler address (tcp://host:port) to run on instead of locally.")),
]
Rule = Annotated[
    str, typer.Option(help=_("worst: the best worst decile; regret: the least mean regret."))
]
Budget = Annotated[float, typer.Option(min=0.0, help=_("Rupiah a year on top of today's costs."))]
Explored = Annotated[Path, typer.Argument(help=_("An explore command's output folder."))]
Improve = Annotated[str, typer.Option(help=_("The output to improve."))]
Futures = Annotated[int, typer.Option(min=2, help=_("Futures to draw over the ranges."))]


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

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)


def _load(path: Path) -> Any:
    from collabsim.loading import load_scenario

    return load_scenario(path)


@_command(_("Run a scenario many times; print means with 95% confidence intervals."))
def replicate(
    scenario: ScenarioArg,
    reps: Reps = 10,
    seed: Seed = 0,
    out: OutFolder = None,
    keep_cases: Annotated[
        bool, typer.Option("--keep-cases", help=_("Also store each run's per-case table."))
    ] = False,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
    add: Add = False,
) -> None:
    """Run a scenario many times; print means with 95% confidence intervals."""
    from collabsim.experiments import replicate as run_replications
    from collabsim.outputs import fmt

    t = translator()
    params = _load(scenario)
    folder = out or Path("out") / f"{scenario.stem}-replications"
    with _Bar(_("{n} replications").format(n=t.number(reps))) as bar:
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
        _("{scenario}: {n} replications (root seed {seed})").format(
            scenario=params.name, n=t.number(reps), seed=seed
        ),
        (_("output"), _("mean"), _("95% CI"), _("sd")),
        ((_output_cell(k), fmt(r["mean"]), _ci(r["ci_low"], r["ci_high"]), fmt(r["sd"]))
         for k, r in rows),
    )  # fmt: skip
    with staged(folder) as stage:
        result.stats.to_csv(stage / "statistics.csv")
    console.print(
        _("Results in {folder}/results.sqlite; statistics in {folder}/statistics.csv").format(
            folder=folder
        )
    )
    _exit_if_failed(result.failed, result.damaged)


def _show_differences(title: str, table: Any) -> None:
    """Print a paired comparison's key outputs: A, B, B - A and its 95% interval."""
    from collabsim.outputs import fmt

    rows = [(k, table.loc[k]) for k in KEY_OUTPUTS if k in table.index]
    _show(
        title,
        (_("output"), "A", "B", "B - A", _("95% CI")),
        ((_output_cell(k), fmt(r["mean_a"]), fmt(r["mean_b"]), fmt(r["diff"]),
          _ci(r["ci_low"], r["ci_high"])) for k, r in rows),
    )  # fmt: skip


@_command(_("Compare two scenarios with common random numbers: B - A with 95% intervals."))
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

    t = translator()
    pa, pb = _load(a), _load(b)
    folder = out or Path("out") / f"compare-{a.stem}-vs-{b.stem}"
    with _Bar(_("{n} paired replications").format(n=t.number(reps))) as bar:
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
        _("B = {b} minus A = {a} ({n} paired replications)").format(
            b=pb.name, a=pa.name, n=t.number(reps)
        ),
        result.table,
    )
    with staged(folder) as stage:
        result.table.to_csv(stage / "comparison.csv")
        plot_differences(
            result.table,
            ["handling_days_median", "handling_days_p90", "first_service_days_median"],
            _("{b} vs {a}").format(b=pb.name, a=pa.name),
            stage / "comparison.png",
        )
    console.print(_("Wrote {folder}/comparison.csv and comparison.png").format(folder=folder))
    _exit_if_failed(result.failed, result.damaged)


_EFFECT_TITLES = {
    "min": N_("{output} (min is better): effect across {futures} futures"),
    "max": N_("{output} (max is better): effect across {futures} futures"),
}
"""The title of an output's effects table, by the way that is better."""


@_command(
    _(
        "Run every intervention against the baseline in many futures over the assumptions' "
        "ranges.\n\n"
        "Reports, per intervention, its effect across the futures, how often it is the best "
        "choice and its regret; writes a Markdown and an HTML report."
    )
)
def explore(
    base: ScenarioArg,
    policies: Annotated[
        list[Path],
        typer.Argument(
            help=_("Intervention scenario files (each named by its file)."), show_default=False
        ),
    ],
    futures: Futures = 50,
    reps: Annotated[int, typer.Option(min=1, help=_("Replications per future and policy."))] = 1,
    seed: Seed = 0,
    set_: Everywhere = None,
    question: Annotated[
        list[str] | None,
        typer.Option(
            help=_(
                "A question for scenario discovery, e.g. 'shared-case-system < more-hub-staff' "
                "(on handling_days_median) or 'baseline:follow_up_within_norm_share < 0.8'."
            ),
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

    from collabsim.experiments.discovery import discover, parse_question
    from collabsim.experiments.explore import explore as run_explore
    from collabsim.experiments.explore import write_report
    from collabsim.outputs import fmt

    t = translator()
    questions = [parse_question(q) for q in question or []]
    names = [p.stem for p in policies]
    if len(set(names)) < len(names):
        _fail(InputError("policies", [_("two files have the same name")]))
    overrides = _parse_overrides(set_ or [])
    pbase = _load(base)
    arms = futures * (len(policies) + 1) * reps
    label = _("{futures} futures x {arms} arms x {reps} replications = {runs} runs").format(
        futures=t.number(futures), arms=t.number(len(policies) + 1), reps=t.number(reps),
        runs=t.number(arms),
    )  # fmt: skip
    folder = out or Path("out") / f"explore-{base.stem}"
    with _Bar(label) as bar:
        result = run_explore(
            pbase, {n: _load(p) for n, p in zip(names, policies, strict=True)}, futures,
            reps=reps, seed=seed, out=folder, overrides=overrides, workers=workers,
            scheduler=scheduler, progress=bar, size_check=not no_size_check, add=add,
        )  # fmt: skip
    for output in dict.fromkeys(result.summary["output"]):
        rows = result.summary[result.summary["output"] == output]
        way = result.goals.get(output)
        title = (
            marked(_EFFECT_TITLES[way]) if way in _EFFECT_TITLES
            else _("{output} (rupiah a year per unit saved a year), in the futures with a saving")
        )  # fmt: skip
        _show(
            title.format(output=_output_name(output), futures=t.number(futures)),
            (_("policy"), _("mean"), "p10 .. p90", _("best in"), _("mean regret")),
            ((r["policy"], fmt(r["effect_mean"]), _ci(r["effect_p10"], r["effect_p90"]),
              "-" if r["best_share"] != r["best_share"] else t.percent(r["best_share"]),
              fmt(r["regret_mean"])) for r in _rows(rows)),
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
    report_title = _("{scenario}: {n} futures").format(scenario=pbase.name, n=t.number(futures))
    written = write_report(result, folder, report_title, command, found)
    console.print(_("Wrote {n} files to {folder}/: {files}").format(
        n=t.number(len(written)), folder=folder, files=", ".join(p.name for p in written)
    ))  # fmt: skip
    _exit_if_failed(result.failed, result.damaged)


def _explored(folder: Path, name: str) -> Any:
    """One table of an exploration's folder, or a clear error if it has none."""
    import pandas as pd

    path = folder / f"{name}.csv"
    if not path.is_file():
        problem = _("no {name}.csv: run collabsim explore with --out here").format(name=name)
        _fail(InputError(str(folder), [problem]))
    return pd.read_csv(path)


def _show_discovery(d: Any) -> None:
    """Print a scenario-discovery box and the assumptions' ranking."""
    t = translator()
    console.print(
        _(
            "When does {question} hold? In {true} of {futures} futures. "
            "PRIM's box: coverage {coverage}, density {density}, mass {mass}."
        ).format(
            question=d.question.text, true=t.number(d.true), futures=t.number(d.futures),
            coverage=t.percent(d.coverage), density=t.percent(d.density), mass=t.percent(d.mass),
        )
    )  # fmt: skip
    _show(
        _("The box (the assumptions it restricts)"),
        (_("assumption"), _("box"), _("whole range"), "qp"),
        ((r["uncertainty"], f"{_sig(r['low'])} .. {_sig(r['high'])}",
          f"{_sig(r['range_low'])} .. {_sig(r['range_high'])}", _sig(r["qp"], 2))
         for r in _rows(d.box)),
    )  # fmt: skip
    _show(
        _("What tells the futures apart (extra trees)"),
        (_("assumption"), _("score")),
        ((r["uncertainty"], t.number(r["score"], 3)) for r in _rows(d.importance.head(8))),
    )


@_command(
    _("Scenario discovery on an exploration: which assumptions, in which ranges, make it hold.")
)
def discover(
    folder: Explored,
    question: Annotated[
        str,
        typer.Argument(
            help=_(
                "e.g. 'shared-case-system < more-hub-staff' or "
                "'baseline:follow_up_within_norm_share < 0.8'."
            ),
            show_default=False,
        ),
    ],
    output: Annotated[
        str, typer.Option(help=_("The output of a side that names none."))
    ] = "handling_days_median",
    min_density: Annotated[
        float, typer.Option(min=0.0, max=1.0, help=_("The density the box must reach."))
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
        (_("choice"), _("extra cost p50 (Rp m)"), _("p90 (Rp m)"), _("effect mean"),
         _("worst decile"), _("mean regret"), _("affordable"), _("frontier")),
        ((r["policy"], fmt(r["cost_p50"] / 1e6), fmt(r["cost_p90"] / 1e6),
          fmt(r["effect_mean"]), fmt(r["effect_worst"]), fmt(r["regret_mean"]),
          _("yes") if r["affordable"] else _("no"), _("yes") if r["frontier"] else "")
         for r in _rows(table)),
    )  # fmt: skip


def _check_rule(rule: str) -> None:
    if rule not in ("worst", "regret"):
        problem = _("{value}: expected worst or regret").format(value=repr(rule))
        _fail(InputError("--rule", [problem]))


_BUDGET_TITLES = {
    "min": N_("{output} (min is better) within Rp {budget} million a year"),
    "max": N_("{output} (max is better) within Rp {budget} million a year"),
}
_MIX_TITLES = {
    "min": N_("{output} (min is better) within Rp {budget} million a year: the mixes that ran"),
    "max": N_("{output} (max is better) within Rp {budget} million a year: the mixes that ran"),
}


@_command(_("The best buy for a budget among the explored policies, robust over the futures."))
def allocate(
    folder: Explored,
    budget: Budget,
    output: Improve = "handling_days_median",
    rule: Rule = "worst",
) -> None:
    """The best buy for a budget among the explored policies, robust over the futures."""
    from collabsim.experiments.allocate import allocate as run_allocate
    from collabsim.experiments.explore import GOALS
    from collabsim.outputs import fmt
    from collabsim.plots import plot_frontier

    _check_rule(rule)
    better = GOALS.get(output, "min")
    effects = _explored(folder, "effects")
    result = run_allocate(effects, output, better, budget, rule)  # type: ignore[arg-type]
    _show_allocation(
        marked(_BUDGET_TITLES[better]).format(
            output=_output_name(output), budget=fmt(budget / 1e6)
        ),
        result.table,
    )
    console.print(
        _("The best buy by the {rule} rule: {choice}").format(rule=rule, choice=result.choice)
    )
    with staged(folder) as stage:
        result.table.to_csv(stage / f"allocation-{output}.csv", index=False)
        plot_frontier(result.table, output, stage / f"frontier-{output}.png", budget, result.choice)
    console.print(
        _("Wrote {folder}/allocation-{output}.csv and frontier-{output}.png").format(
            folder=folder, output=output
        )
    )


@_command(
    _(
        "The best mix of interventions and extra posts for a budget, robust over the futures."
        "\n\n"
        "Every mix runs against the baseline in the same futures with the same seeds; a mix "
        "that costs more than the budget in more than one future of ten is never run."
    )
)
def mix(
    base: ScenarioArg,
    budget: Budget,
    levers: Annotated[
        list[Path] | None,
        typer.Argument(
            help=_("Intervention scenario files to mix (each named by its file)."),
            show_default=False,
        ),
    ] = None,
    staff: Annotated[
        list[str] | None,
        typer.Option(
            help=_("KIND=MOST: up to MOST extra posts at every agency of this kind, e.g. hub=12."),
        ),
    ] = None,
    futures: Futures = 20,
    reps: Annotated[int, typer.Option(min=1, help=_("Replications per future and mix."))] = 1,
    seed: Seed = 0,
    output: Improve = "handling_days_median",
    rule: Rule = "worst",
    search: Annotated[
        str,
        typer.Option(
            help=_(
                "all: run every affordable mix; evolve: differential evolution; auto: all "
                "when there are at most 32 mixes."
            ),
        ),
    ] = "auto",
    generations: Annotated[
        int, typer.Option(min=1, help=_("Generations of the search (evolve)."))
    ] = 10,
    population: Annotated[
        int, typer.Option(min=2, help=_("Search population per variable (evolve)."))
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
    from collabsim.experiments.mix import check_mix, search_mix
    from collabsim.outputs import fmt
    from collabsim.plots import plot_frontier

    t = translator()
    _check_rule(rule)
    if search not in ("auto", "all", "evolve"):
        problem = _("{value}: expected auto, all or evolve").format(value=repr(search))
        _fail(InputError("--search", [problem]))
    most: dict[str, int] = {}
    for pair in staff or []:
        kind, sep, raw = pair.partition("=")
        if not sep or not kind or not raw.isdigit():
            problem = _("{value}: expected KIND=MOST, e.g. hub=12").format(value=repr(pair))
            _fail(InputError("--staff", [problem]))
        most[kind.strip()] = int(raw)
    names = [p.stem for p in levers or []]
    if len(set(names)) < len(names):
        _fail(InputError("levers", [_("two files have the same name")]))
    folder = out or Path("out") / f"mix-{base.stem}"
    pbase, plevers = _load(base), {n: _load(p) for n, p in zip(names, levers or [], strict=True)}
    check_mix(pbase, plevers, most)  # before the progress bar
    label = _("mixes over {futures} futures x {reps} replications: runs").format(
        futures=t.number(futures), reps=t.number(reps)
    )
    with _Bar(label) as bar:
        result = search_mix(
            pbase, plevers, budget, futures, staff=most, output=output, rule=rule,  # type: ignore[arg-type]
            reps=reps, seed=seed, out=folder, method=search,  # type: ignore[arg-type]
            generations=generations, population=population,
            overrides=_parse_overrides(set_ or []), workers=workers, scheduler=scheduler,
            progress=bar, size_check=not no_size_check, add=add,
        )  # fmt: skip
    chosen = result.allocation
    _show_allocation(
        marked(_MIX_TITLES[chosen.better]).format(
            output=_output_name(output), budget=fmt(budget / 1e6)
        ),
        chosen.table.sort_values(["cost_p90", "policy"]),
    )
    how = _("every affordable mix ran") if result.method == "all" else _("differential evolution")
    console.print(
        _(
            "Searched ({how}): {proposed} mixes considered, {too_dear} over the budget (not run), "
            "{ran} ran."
        ).format(
            how=how, proposed=t.number(result.proposed), too_dear=t.number(result.too_dear),
            ran=t.number(len(result.mixes)),
        )
    )  # fmt: skip
    console.print(
        _("The best mix by the {rule} rule: {choice}").format(rule=rule, choice=chosen.choice)
    )
    with staged(folder) as stage:
        result.mixes.to_csv(stage / f"mixes-{output}.csv", index=False)
        result.effects.to_csv(stage / "effects.csv", index=False)
        result.futures.to_csv(stage / "futures.csv", index=False)
        plot_frontier(chosen.table, output, stage / f"mix-frontier-{output}.png", budget,
                      chosen.choice)  # fmt: skip
    console.print(
        _(
            "Wrote {folder}/mixes-{output}.csv, effects.csv, futures.csv and "
            "mix-frontier-{output}.png"
        ).format(folder=folder, output=output)
    )
    _exit_if_failed(result.failed, result.damaged)


_INDICES = {
    "engagement": N_("principled engagement"),
    "motivation": N_("shared motivation"),
    "capacity": N_("capacity for joint action"),
}
"""The collaboration-dynamics indices a cycle follows, for people."""


@_command(
    _("Follow B - A day by day (a shock or a lever): the gap in each index and how long it lasts.")
)
def cycle(
    a: ScenarioArg,
    b: ScenarioArg,
    since: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=_(
                "Day to count the hysteresis from (default: the end of B's last shock, else 0)."
            ),
        ),
    ] = None,
    reps: Reps = 6,
    seed: Seed = 0,
    tolerance: Annotated[
        float,
        typer.Option(min=0.0, help=_("How close to A counts as back, on the index scale.")),
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
    from collabsim.terms import term

    t = translator()
    pa, pb = _load(a), _load(b)
    spans = [(s.start_day, s.start_day + s.days) for s in pb.shocks]
    start = since if since is not None else max((end for _s, end in spans), default=0)
    folder = out or Path("out") / f"cycle-{a.stem}-vs-{b.stem}"
    with _Bar(_("{n} paired replications, daily series kept").format(n=t.number(reps))) as bar:
        result = run_cycle(
            pa, pb, reps, since=start, out=folder, seed=seed, tolerance=tolerance,
            workers=workers, scheduler=scheduler, progress=bar, add=add,
            size_check=not no_size_check,
        )  # fmt: skip
    gap, last = result.gap, int(result.gap.index[-1])
    days = sorted({d for d in (start, start + 180, last) if d in gap.index})

    def cell(col: str, day: int) -> str:
        mid, low, high = gap.loc[day, [col, f"{col}_low", f"{col}_high"]].astype(float)
        return f"{_signed(mid)} ({_signed(low)} .. {_signed(high)})"

    def lasts(col: str) -> str:
        h = result.hysteresis[col]
        return _("{n} days").format(n=t.number(h)) if h is not None else _("not within the run")

    def index(col: str) -> str:
        return marked(_INDICES[col]) if col in _INDICES else term(col)

    _show(
        _("B = {b} minus A = {a}: gap in each index (95% CI), from day {start}").format(
            b=pb.name, a=pa.name, start=start
        ),
        (_("index"), *(_("day {day}").format(day=d) for d in days),
         _("back within {tolerance}").format(tolerance=fmt(tolerance))),
        ((index(col), *(cell(col, d) for d in days), lasts(col)) for col in INDEX_COLUMNS),
    )  # fmt: skip
    comparison = result.comparison.table
    _show_differences(_("Summary outputs (B - A, 95% CI)"), comparison)
    with staged(folder) as stage:
        gap.to_csv(stage / "gap.csv")
        comparison.to_csv(stage / "comparison.csv")
        plot_gap(gap, INDEX_COLUMNS, spans, _("{b} vs {a}").format(b=pb.name, a=pa.name),
                 stage / "gap.png")  # fmt: skip
    console.print(_("Wrote {folder}/gap.csv, gap.png and comparison.csv").format(folder=folder))
    _exit_if_failed(result.comparison.failed, result.comparison.damaged)


REWORK = "barriers.resources.rework_scale"
"""The assumption ``attribute`` reports the ranking across by default."""


@_command(_("How many days each of the seven barriers costs (Shapley values, 95% CIs)."))
def attribute(
    scenario: ScenarioArg,
    reps: Annotated[
        int, typer.Option(min=1, help=_("Replications (at least 2 without --futures)."))
    ] = 5,
    seed: Seed = 0,
    out: OutFolder = None,
    across: Annotated[
        str | None,
        typer.Option(
            help=_(
                "An assumption with a range in the scenario's ranges table: the attribution is "
                "also run at both ends of its range, and the rankings compared (default: "
                "{rework} when the scenario gives its range; 'none' to skip)."
            ).format(rework=REWORK),
        ),
    ] = None,
    futures: Annotated[
        int | None,
        typer.Option(
            min=2,
            help=_(
                "Instead: in this many futures over the scenario's ranges, each barrier's share "
                "of the days lost and how often it is the first to fix (14 runs per future and "
                "replication; --reps 1 is usual)."
            ),
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
    from collabsim.terms import term

    t = translator()
    params = _load(scenario)
    folder = out or Path("out") / f"{scenario.stem}-attribution"
    if futures is not None:
        _attribute_over_futures(params, futures, reps, seed, folder, workers, scheduler,
                                not no_size_check, add)  # fmt: skip
        return
    if reps < 2:
        _fail(ValueError(_("--reps: at least 2 replications for the 95% intervals")))
    key = across if across is not None else (REWORK if REWORK in params.ranges else "none")
    if key != "none" and key not in params.ranges:
        _fail(ValueError(
            _("--across {key}: {scenario} gives no range for it (its ranges: {ranges})").format(
                key=key, scenario=scenario, ranges=", ".join(params.ranges) or _("none")
            )
        ))  # fmt: skip
    options: dict[str, Any] = {
        "seed": seed,
        "workers": workers,
        "scheduler": scheduler,
        "size_check": not no_size_check,
        "add": add,
    }
    across_result = None
    label = _("{points} x 128 barrier combinations x {reps}").format(
        points=1 if key == "none" else 3, reps=t.number(reps)
    )
    with _Bar(label) as bar:
        if key == "none":
            result = run_attribution(params, reps, out=folder, progress=bar, **options)
        else:
            across_result = attribute_across(params, key, reps, out=folder, progress=bar, **options)
            result = across_result.attributions["scenario"]
    _show(
        _("{scenario}: days of handling time each barrier costs").format(scenario=params.name),
        (_("barrier"), _("output"), _("days"), _("95% CI")),
        ((term(r["barrier"]), term(r["output"]), fmt(r["days"]), _ci(r["ci_low"], r["ci_high"]))
         for r in _rows(result.table)),
        texts=2,
    )  # fmt: skip
    for output, total in result.totals.items():
        console.print(
            _("all barriers on - all off, {output}: {days} days (the values sum to it)").format(
                output=term(str(output)), days=fmt(total)
            )
        )
    with staged(folder) as stage:
        result.table.to_csv(stage / "attribution.csv", index=False)
        plot_attribution(result.table, stage / "attribution.png")
        if across_result is not None:
            across_result.table.to_csv(stage / "attribution-across.csv", index=False)
    if across_result is not None:
        _show_across(across_result)
        wrote = _("Wrote {folder}/attribution.csv, attribution.png and attribution-across.csv")
    else:
        wrote = _("Wrote {folder}/attribution.csv and attribution.png")
    console.print(wrote.format(folder=folder))
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
    from collabsim.terms import term

    t = translator()
    runs = futures * 14 * reps
    label = _("{futures} futures x 14 barrier combinations x {reps} = {runs} runs").format(
        futures=t.number(futures), reps=t.number(reps), runs=t.number(runs)
    )
    with _Bar(label) as bar:
        result = priority(
            params, futures, reps=reps, seed=seed, out=folder, workers=workers,
            scheduler=scheduler, progress=bar, size_check=size_check, add=add,
        )  # fmt: skip
    _show(
        _("{scenario}: each barrier's share of the days lost ({output}), across {futures} futures")
        .format(scenario=params.name, output=term(result.output), futures=t.number(futures)),
        (_("barrier"), _("days"), _("share"), _("share p10 .. p90"), _("first to fix in")),
        ((term(r["barrier"]), t.number(r["days"], 2), t.percent(r["share"]),
          f"{t.percent(r['share_p10'])} .. {t.percent(r['share_p90'])}",
          t.percent(r["first_share"]))
         for r in _rows(result.table.sort_values("share", ascending=False))),
    )  # fmt: skip
    with staged(folder) as stage:
        result.table.to_csv(stage / "priority.csv", index=False)
        result.per_future.to_csv(stage / "priority-by-future.csv", index=False)
        result.futures.to_csv(stage / "futures.csv", index=False)
    console.print(
        _("Wrote {folder}/priority.csv, priority-by-future.csv and futures.csv").format(
            folder=folder
        )
    )
    _exit_if_failed(result.failed)


def _show_across(across: Any) -> None:
    """The ranking at the assumption's value and both ends, and whether it changes."""
    from collabsim.outputs import fmt
    from collabsim.terms import term

    t = translator()
    v = across.values
    for output, stable in across.stable.items():
        rows = across.table[across.table["output"] == output]
        pivot = rows.pivot(index="barrier", columns="point", values=["days", "rank"])
        order = rows[rows["point"] == "scenario"].sort_values("rank")["barrier"]
        _show(
            _("{output}: ranking across {key} (low {low}, scenario {scenario}, high {high})")
            .format(output=term(output), key=across.key, low=fmt(v["low"]),
                    scenario=fmt(v["scenario"]), high=fmt(v["high"])),
            (_("barrier"), _("rank (low)"), _("rank (scenario)"), _("rank (high)"),
             _("days (low)"), _("days (scenario)"), _("days (high)")),
            ((term(b), *(t.number(int(pivot.loc[b, ("rank", p)]))
                         for p in ("low", "scenario", "high")),
              *(fmt(float(pivot.loc[b, ("days", p)])) for p in ("low", "scenario", "high")))
             for b in order),
            texts=1,
        )  # fmt: skip
        if stable:
            console.print(
                _("The ranking on {output} is the same across {key}'s range.").format(
                    output=term(output), key=across.key
                )
            )
        else:
            console.print(
                Text(_("The ranking on {output} depends on {key}, an assumption: read it as "
                       "conditional on that value.").format(output=term(output), key=across.key),
                     "yellow")
            )  # fmt: skip


_SENSITIVITY_COLUMNS = {"output": N_("output"), "uncertainty": N_("uncertainty")}
"""The sensitivity table's columns that have words (the others are the indices' symbols)."""


@_command(_("Run an experiment file: a design over levers and uncertainties, with replications."))
def sweep(
    experiment: Annotated[
        Path, typer.Argument(help=_("An experiment TOML file."), show_default=False)
    ],
    out: Annotated[
        Path | None, typer.Option(help=_("Experiment folder (default: out/<name>)."))
    ] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
    add: Add = False,
) -> None:
    """Run an experiment file: a design over levers and uncertainties, with replications."""
    from collabsim.experiments.sweep import load_experiment, write_sweep
    from collabsim.experiments.sweep import sweep as run_sweep
    from collabsim.terms import term

    t = translator()
    exp, _design = load_experiment(experiment)
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
        _(
            "{points} design points x {reps} replications = {runs} runs stored in "
            "{folder}/results.sqlite"
        ).format(
            points=t.number(len(result.design)), reps=t.number(exp.replications),
            runs=t.number(len(result.runs)), folder=folder,
        )
    )  # fmt: skip
    if len(result.sensitivity):
        cols = [c for c in result.sensitivity.columns if c != "policy"]
        first = result.sensitivity[result.sensitivity["policy"] == 0]

        def shown(col: str, value: Any) -> str:
            if isinstance(value, float):
                return t.number(value, 3)
            return term(str(value)) if col == "output" else str(value)

        _show(
            _("Sensitivity ({design}), policy 0").format(design=exp.design),
            [marked(_SENSITIVITY_COLUMNS[c]) if c in _SENSITIVITY_COLUMNS else c for c in cols],
            ([shown(c, r[c]) for c in cols] for r in _rows(first)),
            texts=2,
        )
    console.print(_("Wrote {files}").format(files=", ".join(str(p) for p in written)))
    _exit_if_failed(result.failed, result.damaged)


@_command(_("Write stored results to CSV or Parquet."))
def export(
    results: Annotated[
        Path,
        typer.Argument(help=_("An experiment folder or its results.sqlite."), show_default=False),
    ],
    out: Annotated[Path, typer.Option(help=_("File to write (.csv or .parquet)."))],
    table: Annotated[str, typer.Option(help=_("runs, timeseries or cases."))] = "runs",
) -> None:
    """Write stored results to CSV or Parquet."""
    from collabsim.experiments.store import load_results

    if out.suffix not in (".csv", ".parquet"):
        _fail(ValueError(_("--out {out}: expected a .csv or .parquet file").format(out=out)))
    if table not in ("runs", "timeseries", "cases"):
        _fail(ValueError(_("--table {table}: expected runs, timeseries or cases").format(
            table=repr(table)
        )))  # fmt: skip
    df = load_results(results, table)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        df.to_csv(out, index=False)
    else:
        df.to_parquet(out, index=False)
    console.print(_("Wrote {n} rows of {table} to {out}").format(
        n=translator().number(len(df)), table=table, out=out
    ))  # fmt: skip


@_command(
    _(
        "Write a two-page policy brief (HTML and PDF) of a comparison or an exploration folder, "
        "in the language of --lang."
    )
)
def brief(
    folder: Annotated[
        Path,
        typer.Argument(
            help=_("A folder that collabsim compare or collabsim explore wrote."),
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help=_("Folder for brief.html and brief.pdf (default: FOLDER)."))
    ] = None,
) -> None:
    """Write a policy brief of an experiment folder (nothing is simulated)."""
    from collabsim.brief import write_brief

    written = write_brief(folder, out, lang=language())
    console.print(_("Wrote {files}").format(files=", ".join(str(p) for p in written)))


@_command(
    _("Fit the scenario to the Jakarta targets (Latin hypercube search); report each target.")
)
def calibrate(
    scenario: ScenarioArg,
    samples: Annotated[int, typer.Option(min=1, help=_("Latin hypercube points."))] = 40,
    reps: Annotated[int, typer.Option(min=1, help=_("Replications per point."))] = 2,
    seed: Annotated[
        int, typer.Option(min=0, help=_("Seed of the sample and the replications."))
    ] = 0,
    out: Annotated[Path | None, typer.Option(help=_("Folder for the results."))] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    no_size_check: NoSizeCheck = False,
) -> None:
    """Fit the scenario to the Jakarta targets (Latin hypercube search); report each target."""
    from collabsim.experiments.calibration import apply_factors, changed_values, overrides_toml
    from collabsim.experiments.calibration import calibrate as run_calibration
    from collabsim.loading import load_raw
    from collabsim.terms import term

    t = translator()
    _load(scenario)
    folder = out or Path("out") / f"{scenario.stem}-calibration"
    label = _("{points} points x {reps} replications").format(
        points=t.number(samples + 1), reps=t.number(reps)
    )
    with _Bar(label) as bar:
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
        _("Fit to the Jakarta targets (best of {points} points)").format(
            points=t.number(samples + 1)
        ),
        (_("target"), _("observed"), _("simulated"), _("tolerance"), _("within")),
        ((term(r["target"]), _sig(r["observed"], 6), _sig(r["simulated"]),
          _sig(r["tolerance"], 6),
          Text(_("yes"), "green") if r["within"] else Text(_("no"), "red"))
         for r in _rows(result.fit)),
    )  # fmt: skip
    factors = ", ".join(f"{k} {t.number(v, 3)}" for k, v in result.factors.items())
    console.print(_("best factors: {factors}").format(factors=factors))
    base = load_raw(scenario)
    values = changed_values(base, apply_factors(base, result.factors))
    note = _(
        "Fitted by collabsim calibrate (seed {seed}, {samples} samples, {reps} replications)."
    ).format(seed=seed, samples=samples, reps=reps)
    with staged(folder) as stage:
        result.fit.to_csv(stage / "fit.csv", index=False)
        result.samples.to_csv(stage / "samples.csv", index=False)
        parent = os.path.relpath(scenario.resolve(), folder.resolve())
        (stage / "calibrated.toml").write_text(overrides_toml(parent, values, note))
    console.print(
        _("Wrote {folder}/fit.csv, samples.csv and calibrated.toml ({n} values)").format(
            folder=folder, n=t.number(len(values))
        )
    )


@_command(_("Open the browser app on http://HOST:PORT."))
def ui(
    scenario: Annotated[
        Path | None, typer.Argument(help=_("Scenario to start with (default: the baseline)."))
    ] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help=_("Port (0: any free one)."))] = 8765,
    host: Annotated[
        str,
        typer.Option(help=_("Address to listen on; 127.0.0.1 keeps the app on this machine.")),
    ] = "127.0.0.1",
    idle_minutes: Annotated[
        float,
        typer.Option(
            min=0.01,
            help=_(
                "Drop a session's model this long after its tab went away without closing "
                "(a tab that reconnects sooner keeps its run)."
            ),
        ),
    ] = 2.0,
) -> None:
    """Open the browser app on http://HOST:PORT."""
    from collabsim.loading import ScenarioError, load_scenario

    folder = Path("scenarios")
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="False")
    env["COLLABSIM_LANG"] = language()  # the app starts in the language of --lang
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
        _fail(FileNotFoundError(_("no ./scenarios folder here: give a SCENARIO file")))
    env["COLLABSIM_SCENARIOS"] = str(folder.resolve())
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            Text(_("warning:"), "yellow") + " "
            + _("listening on {host}: other machines can reach the app").format(host=host)
        )  # fmt: skip
    console.print(
        _("collabsim app on http://{host}:{port}  (Ctrl+C to stop)").format(host=host, port=port)
    )
    # solara run, behind a check that requests come from the app's own pages (server.py)
    cmd = [sys.executable, "-m", "collabsim.app.server", "run", "collabsim.app", "--host", host]
    cmd += ["--port", str(port), "--no-open", "--production", "--no-check-version"]
    cmd += ["--log-level", "warning"]
    os.execvpe(cmd[0], cmd, env)


_help_texts.close()  # the help texts are made: from here on, the language in use
