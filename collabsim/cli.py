"""The ``collabsim`` command line. It parses, calls the API and prints; it never simulates.

Heavy modules (the model, pandas, matplotlib) are imported inside the
commands, so ``collabsim --help`` answers at once.
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="collabsim",
    help="Simulate how agencies collaborate on cases of violence against children.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

ScenarioArg = Annotated[Path, typer.Argument(help="A scenario TOML file.", show_default=False)]


def _parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``key.path=value`` pairs; values are read as TOML (numbers, booleans, "strings")."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            err.print(f"[red]--set {pair!r}: expected KEY=VALUE, e.g. agencies.hub.staff=20[/]")
            raise typer.Exit(2)
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw
    return out


def _fail(exc: Exception) -> None:
    err.print(f"[red]error:[/] {exc}", highlight=False)
    raise typer.Exit(2)


@app.command()
def run(
    scenario: ScenarioArg,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same numbers.")] = 0,
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
) -> None:
    """Run one simulation, print its summary and write its files."""
    from collabsim.api import run as run_scenario
    from collabsim.loading import ScenarioError
    from collabsim.outputs import HEADLINE, fmt, write_run

    overrides = _parse_overrides(set_ or [])
    start = time.perf_counter()
    try:
        with console.status(f"Simulating {scenario} (seed {seed})..."):
            result = run_scenario(scenario, seed, days=days, overrides=overrides)
    except ScenarioError as exc:
        _fail(exc)
    wall = time.perf_counter() - start
    folder = out if out is not None else Path("out") / scenario.stem
    s = result.summary
    table = Table(
        title=f"{s['scenario']} (seed {seed}, {s['days']} days, warm-up {s['warmup_days']})"
    )
    table.add_column("output")
    table.add_column("value", justify="right")
    for key, label in HEADLINE:
        table.add_row(label, fmt(s[key]))
    console.print(table)
    events = Table(title="Barrier events (cases after warm-up)")
    events.add_column("barrier")
    events.add_column("events", justify="right")
    for key, value in s["barrier_events"].items():
        events.add_row(key, f"{value:,}")
    console.print(events)
    written = write_run(result, folder)
    console.print(f"Simulated in {wall:.2f} s. Wrote {len(written)} files to {folder}/:")
    console.print("  " + ", ".join(p.name for p in written))


@app.command()
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files.", show_default=False)],
) -> None:
    """Check scenario files; exit 2 if any is invalid."""
    from collabsim.loading import ScenarioError, load_scenario

    bad = 0
    for path in scenarios:
        try:
            s = load_scenario(path)
        except ScenarioError as exc:
            err.print(f"[red]invalid[/] {exc}", highlight=False)
            bad += 1
        else:
            console.print(f"[green]ok[/] {path}: {s.name}", highlight=False)
    if bad:
        raise typer.Exit(2)


def main() -> None:  # pragma: no cover - console entry point
    """Entry point for ``python -m collabsim``."""
    sys.exit(app())
