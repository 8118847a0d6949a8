"""Writing a run's files: summary.json, CSV tables, PNG plots and report.md."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from collabsim.api import RunResult
from collabsim.files import staged
from collabsim.plots import plot_backlog, plot_handling_time, plot_indices

__all__ = ["HEADLINE", "write_run"]

HEADLINE: tuple[tuple[str, str], ...] = (
    ("cases_arrived", "cases reported (after warm-up)"),
    ("cases_closed", "closed"),
    ("cases_open", "open"),
    ("cases_stalled", "stalled"),
    ("handling_days_median", "handling time, median (days)"),
    ("handling_days_p90", "handling time, p90 (days)"),
    ("first_service_days_median", "time to first care service, median (days)"),
    ("follow_up_within_norm_share", "share followed up within the norm"),
    ("referrals_lost", "referrals lost"),
    ("referrals_misrouted", "referrals misrouted"),
    ("duplicated_staff_hours", "duplicated staff-hours"),
    ("interviews_per_child", "interviews per child"),
    ("bypasses", "bypasses (facility distrust)"),
    ("cases_recorded", "cases recorded in the case system"),
    ("engagement_end", "principled engagement (end)"),
    ("motivation_end", "shared motivation (end)"),
    ("capacity_end", "capacity for joint action (end)"),
)
"""The summary lines shown in the terminal and the report, with labels."""


def fmt(value: Any) -> str:
    """Format a summary value for people."""
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value.is_integer() and abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _clean(value: Any) -> Any:
    """JSON has no NaN: write null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _report(result: RunResult, files: list[str]) -> str:
    s = result.summary
    lines = [
        f"# {s['scenario']}: one run",
        "",
        f"Seed {s['seed']}, {s['days']} days of which {s['warmup_days']} warm-up; "
        "statistics cover cases reported after the warm-up. One run shows one possible "
        "year: compare scenarios over many replications before drawing conclusions.",
        "",
        "| output | value |",
        "|---|---|",
        *(f"| {label} | {fmt(s[key])} |" for key, label in HEADLINE),
        "",
        "## Barrier events",
        "",
        "| barrier | events |",
        "|---|---|",
        *(f"| {k} | {v:,} |" for k, v in s["barrier_events"].items()),
        "",
        "## Handling time by case type",
        "",
        "| type | closed | median (days) | p90 (days) |",
        "|---|---|---|---|",
        *(
            f"| {k} | {v['n']} | {fmt(v['median'])} | {fmt(v['p90'])} |"
            for k, v in s["handling_days_by_type"].items()
        ),
        "",
        "## Figures",
        "",
        *(f"![{f}]({f})" for f in files if f.endswith(".png")),
        "",
        "Durations in the scenario are assumptions where no source exists; "
        "see the scenario file's comments and docs/scenario-reference.md.",
        "",
    ]
    return "\n".join(lines)


def write_run(result: RunResult, folder: Path) -> list[Path]:
    """Write every file of a run into ``folder`` (created if needed), all or none.

    Returns:
        The paths written.
    """
    with staged(folder) as stage:
        names = [p.name for p in _write_run(result, stage)]
    return [folder / name for name in names]


def _write_run(result: RunResult, out: Path) -> list[Path]:
    warmup = result.scenario.run.warmup_days
    written = [
        out / "summary.json",
        out / "cases.csv",
        out / "timeseries.csv",
        out / "agencies.csv",
    ]
    written[0].write_text(json.dumps(_clean(result.summary), indent=2) + "\n")
    result.cases.to_csv(written[1], index=False)
    result.timeseries.to_csv(written[2], index=False)
    result.agencies.to_csv(written[3], index=False)
    written += [
        plot_backlog(result.timeseries, warmup, out / "backlog.png"),
        plot_handling_time(result.cases, out / "handling_time.png"),
        plot_indices(result.timeseries, warmup, out / "indices.png"),
    ]
    report = out / "report.md"
    report.write_text(_report(result, [p.name for p in written]))
    written.append(report)
    return written
