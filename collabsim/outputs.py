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
from collabsim.i18n import _, translator
from collabsim.plots import plot_backlog, plot_handling_time, plot_indices, plot_norms
from collabsim.terms import term

__all__ = ["HEADLINE", "groups", "write_run"]

HEADLINE: tuple[str, ...] = (
    "cases_arrived",
    "cases_closed",
    "cases_open",
    "cases_stalled",
    "cases_dropped",
    "cases_withdrawn",
    "repeat_reports",
    "open_share",
    "handling_days_median",
    "handling_days_p90",
    "first_service_days_median",
    "days_to_stay_median",
    "days_to_exam_median",
    "follow_up_within_norm_share",
    "stay_within_norm_share",
    "staff_hours_per_case",
    "referrals_lost",
    "referrals_misrouted",
    "duplicated_staff_hours",
    "interviews_per_child",
    "bypasses",
    "cases_recorded",
    "conference_settled",
    "engagement_end",
    "motivation_end",
    "capacity_end",
)
"""The summary lines shown in the terminal and the report (labels: :func:`collabsim.terms.term`)."""


def fmt(value: Any) -> str:
    """Format a summary value for people, in the language in use (``1.148``; ``86,50``)."""
    return translator().value(value)


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
    t = translator()
    norms = ", ".join(f"{term(k)} {t.short(v)}" for k, v in sc.norms.first_response_hours.items())
    window = {
        "warmup": t.number(s["warmup_days"]),
        "cohort_end": t.number(s["cohort_end_day"]),
        "start": t.day(s["warmup_days"]),
        "end": t.day(s["cohort_end_day"]),
    }
    lines = [
        _("# {scenario}: one run").format(scenario=s["scenario"]),
        "",
        _("Seed {seed}, {days} days of which {warmup} warm-up.").format(
            seed=s["seed"], days=t.number(s["days"]), warmup=t.number(s["warmup_days"])
        )
        + " "
        + _(
            "Statistics cover the cohort of cases reported from day {warmup} ({start}) to "
            "day {cohort_end} ({end}), followed to the end of the run; cases still open then "
            "count as censored in the Kaplan-Meier medians, and the share still open is shown "
            "beside them. One run shows one possible year: compare scenarios over many "
            "replications before drawing conclusions."
        ).format(**window),
        "",
        f"| {_('output')} | {_('value')} |",
        "|---|---|",
        *(f"| {term(key)} | {fmt(s[key])} |" for key in HEADLINE),
        "",
        _("## Barrier events"),
        "",
        f"| {_('barrier')} | {_('events')} |",
        "|---|---|",
        *(f"| {term(k)} | {t.number(v)} |" for k, v in s["barrier_events"].items()),
        "",
        _("## Service norms by risk"),
        "",
        _(
            "Responded to within the norm (hours: {norms}), followed up within {follow_up} "
            "working days, safe-house stay within {stay} days."
        ).format(
            norms=norms,
            follow_up=t.short(sc.run.follow_up_norm_working_days),
            stay=t.short(sc.norms.stay_days),
        ),
        "",
        "| "
        + " | ".join(
            (
                _("risk"),
                _("cases"),
                _("responded within norm"),
                _("followed up within norm"),
                _("stay within norm"),
                _("days to a safe-house place (median)"),
                _("days to the visum (median)"),
            )
        )
        + " |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {term(k)} | {t.number(v['n'])} | {fmt(v['response_within_norm_share'])} | "
            f"{fmt(v['follow_up_within_norm_share'])} | {fmt(v['stay_within_norm_share'])} | "
            f"{fmt(v['days_to_stay_median'])} | {fmt(v['days_to_exam_median'])} |"
            for k, v in s["by_risk"].items()
        ),
        "",
        *_breakdown(s, "by_type", _("case type")),
        *_breakdown(s, "by_risk", _("risk")),
        *_breakdown(s, "by_city", _("city")),
        *_breakdown(s, "by_channel", _("entry channel")),
        _("## Workload by agency kind"),
        "",
        _(
            "Utilisation is staff time busy over staff time on duty (working hours only when "
            "the calendar is on); it includes background work that is not a traced child case."
        ),
        "",
        f"| {_('agency kind')} | {_('utilisation')} | {_('staff-hours')} | {_('bed occupancy')} |",
        "|---|---|---|---|",
        *(
            f"| {term(k)} | {fmt(v)} | {fmt(s['staff_hours_by_kind'].get(k, NAN))} | "
            f"{fmt(s['bed_occupancy_by_kind'].get(k, NAN))} |"
            for k, v in s["utilisation_by_kind"].items()
        ),
        "",
        _("## Figures"),
        "",
        *(f"![{f}]({f})" for f in files if f.endswith(".png")),
        "",
        _(
            "Durations in the scenario are assumptions where no source exists; "
            "see the scenario file's comments and docs/scenario-reference.md."
        ),
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
    t = translator()
    columns = (
        label,
        _("cases"),
        _("closed"),
        _("still open"),
        _("median (days)"),
        _("p90 (days)"),
        _("staff-hours per case"),
    )
    return [
        _("## Handling time by {group}").format(group=label),
        "",
        "| " + " | ".join(columns) + " |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {term(k)} | {t.number(v['n'])} | {t.number(v['closed'])} | "
            f"{fmt(v['open_share'])} | {fmt(v['handling_days_median'])} | "
            f"{fmt(v['handling_days_p90'])} | {fmt(v['staff_hours_per_case'])} |"
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
