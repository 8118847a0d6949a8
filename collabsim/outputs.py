"""Writing a run's files: summary.json, CSV tables, PNG plots and report.md."""

from __future__ import annotations

import json
import math
from math import nan as NAN
from pathlib import Path
from typing import Any

import pandas as pd

from collabsim.api import RunResult
from collabsim.files import staged
from collabsim.plots import plot_backlog, plot_handling_time, plot_indices, plot_norms

__all__ = ["HEADLINE", "groups", "write_run"]

HEADLINE: tuple[tuple[str, str], ...] = (
    ("cases_arrived", "cases reported (after warm-up)"),
    ("cases_closed", "closed"),
    ("cases_open", "open"),
    ("cases_stalled", "stalled"),
    ("cases_dropped", "ended unfinished (lost to follow-up)"),
    ("cases_withdrawn", "police reports withdrawn (cabut laporan)"),
    ("repeat_reports", "repeat reports"),
    ("open_share", "share of the cohort still open at the end"),
    ("handling_days_median", "handling time, median (days, Kaplan-Meier)"),
    ("handling_days_p90", "handling time, p90 (days, Kaplan-Meier)"),
    ("first_service_days_median", "time to first care service, median (days)"),
    ("days_to_stay_median", "time to a safe-house place, median (days)"),
    ("days_to_exam_median", "time to the medico-legal examination, median (days)"),
    ("follow_up_within_norm_share", "share followed up within the norm"),
    ("stay_within_norm_share", "share of safe-house stays within the norm"),
    ("staff_hours_per_case", "staff-hours per case"),
    ("referrals_lost", "referrals lost"),
    ("referrals_misrouted", "referrals misrouted"),
    ("duplicated_staff_hours", "duplicated staff-hours"),
    ("interviews_per_child", "interviews per child"),
    ("bypasses", "bypasses (facility distrust)"),
    ("cases_recorded", "cases recorded in the case system"),
    ("conference_settled", "held-up cases settled by case conferences"),
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
    sc = result.scenario
    norms = ", ".join(f"{k} {v:g}" for k, v in sc.norms.first_response_hours.items())
    lines = [
        f"# {s['scenario']}: one run",
        "",
        f"Seed {s['seed']}, {s['days']} days of which {s['warmup_days']} warm-up. "
        f"Statistics cover the cohort of cases reported from day {s['warmup_days']} to day "
        f"{s['cohort_end_day']}, followed to the end of the run; cases still open then count "
        "as censored in the Kaplan-Meier medians, and the share still open is shown beside "
        "them. One run shows one possible year: compare scenarios over many replications "
        "before drawing conclusions.",
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
        "## Service norms by risk",
        "",
        f"Responded to within the norm (hours: {norms}), followed up within "
        f"{sc.run.follow_up_norm_working_days} working days, safe-house stay within "
        f"{sc.norms.stay_days} days.",
        "",
        "| risk | cases | responded within norm | followed up within norm | stay within norm "
        "| days to a safe-house place (median) | days to the visum (median) |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {k} | {v['n']} | {fmt(v['response_within_norm_share'])} | "
            f"{fmt(v['follow_up_within_norm_share'])} | {fmt(v['stay_within_norm_share'])} | "
            f"{fmt(v['days_to_stay_median'])} | {fmt(v['days_to_exam_median'])} |"
            for k, v in s["by_risk"].items()
        ),
        "",
        *_breakdown(s, "by_type", "case type"),
        *_breakdown(s, "by_risk", "risk"),
        *_breakdown(s, "by_city", "city"),
        *_breakdown(s, "by_channel", "entry channel"),
        "## Workload by agency kind",
        "",
        "Utilisation is staff time busy over staff time on duty (working hours only when "
        "the calendar is on); it includes background work that is not a traced child case.",
        "",
        "| kind | utilisation | staff-hours | bed occupancy |",
        "|---|---|---|---|",
        *(
            f"| {k} | {fmt(v)} | {fmt(s['staff_hours_by_kind'].get(k, NAN))} | "
            f"{fmt(s['bed_occupancy_by_kind'].get(k, NAN))} |"
            for k, v in s["utilisation_by_kind"].items()
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


def groups(summary: dict[str, Any]) -> pd.DataFrame:
    """The cohort's statistics by case type, risk, city and entry channel, a row per group."""
    rows = [
        {"by": key.removeprefix("by_"), "group": name, **stats}
        for key in ("by_type", "by_risk", "by_city", "by_channel")
        for name, stats in summary[key].items()
    ]
    return pd.DataFrame(rows)


def _breakdown(s: dict[str, Any], key: str, label: str) -> list[str]:
    return [
        f"## Handling time by {label}",
        "",
        f"| {label} | cases | closed | still open | median (days) | p90 (days) | "
        "staff-hours per case |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {k} | {v['n']} | {v['closed']} | {fmt(v['open_share'])} | "
            f"{fmt(v['handling_days_median'])} | {fmt(v['handling_days_p90'])} | "
            f"{fmt(v['staff_hours_per_case'])} |"
            for k, v in s[key].items()
        ),
        "",
    ]


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
        out / "groups.csv",
    ]
    written[0].write_text(json.dumps(_clean(result.summary), indent=2) + "\n")
    result.cases.to_csv(written[1], index=False)
    result.timeseries.to_csv(written[2], index=False)
    result.agencies.to_csv(written[3], index=False)
    groups(result.summary).to_csv(written[4], index=False)
    written += [
        plot_backlog(
            result.timeseries, warmup, out / "backlog.png", result.summary["cohort_end_day"]
        ),
        plot_handling_time(result.cases, out / "handling_time.png"),
        plot_norms(result.summary, out / "norms.png"),
        plot_indices(result.timeseries, warmup, out / "indices.png"),
    ]
    report = out / "report.md"
    report.write_text(_report(result, [p.name for p in written]))
    written.append(report)
    return written
