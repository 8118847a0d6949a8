"""Outputs of one run, built from the case trails and the model's state.

Only cases reported after the warm-up count; ``docs/outputs.md`` documents
every name in the summary.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from collabsim.barriers import BARRIER_EVENT_KINDS
from collabsim.cases import Case, EventKind
from collabsim.model import CollaborationModel
from collabsim.scenario import BARRIER_NAMES, Run

__all__ = ["agency_table", "case_table", "summarize", "working_days"]


def working_days(t0: float, t1: float) -> float:
    """Working days (Monday to Friday; day 0 is a Monday) between two times."""

    def cumulative(t: float) -> float:
        weeks, rest = divmod(t, 7.0)
        return 5.0 * weeks + min(rest, 5.0)

    return cumulative(t1) - cumulative(t0)


def _status(case: Case, now: float, stall_days: float) -> str:
    if case.closed_at is not None:
        return "closed"
    return "stalled" if now - case.last_progress > stall_days else "open"


def case_table(model: CollaborationModel) -> pd.DataFrame:
    """One row per case reported so far (``measured`` marks those after the warm-up).

    With no case yet, the table has no rows but the same columns and types.
    """
    run = model.params.run
    rows = [_case_row(c, model.now, run) for c in model.cases]
    if not rows:
        blank = Case(0, "", "", "", "", 0.0, [], 0)
        return pd.DataFrame([_case_row(blank, model.now, run)]).iloc[:0]
    return pd.DataFrame(rows)


def _case_row(c: Case, now: float, run: Run) -> dict[str, Any]:
    """One case's row of :func:`case_table`, at time ``now``."""
    kinds = c.counts
    k = EventKind
    handling = c.closed_at - c.reported_at if c.closed_at is not None else np.nan
    first = c.first_care_at - c.reported_at if c.first_care_at is not None else np.nan
    manager = (
        working_days(c.reported_at, c.first_manager_service_at)
        if c.first_manager_service_at is not None
        else np.nan
    )
    return {
        "case_id": c.id,
        "city": c.city,
        "case_type": c.case_type,
        "risk": c.risk,
        "channel": c.channel,
        "reported_day": c.reported_at,
        "closed_day": c.closed_at if c.closed_at is not None else np.nan,
        "status": _status(c, now, run.stall_days),
        "measured": c.measured,
        "handling_days": handling,
        "first_service_days": first,
        "follow_up_working_days": manager,
        "steps_planned": len(c.plan),
        "steps_done": kinds[k.COMPLETED],
        "plan": " ".join(c.plan),
        "referrals": kinds[k.REFERRED],
        "interviews": c.interviews,
        "service_days": c.service_days,
        "duplicated_staff_hours": c.duplicated_days * run.hours_per_staff_day,
        "registered": c.registered,
        "recorded": c.recorded,
        **{f"events_{k}": sum(kinds[x] for x in v) for k, v in BARRIER_EVENT_KINDS.items()},
        "referrals_lost": kinds[k.REFERRAL_LOST],
        "referrals_misrouted": kinds[k.REFERRAL_MISROUTED],
        "referrals_late": kinds[k.REFERRAL_LATE],
        "referrals_held": kinds[k.HELD],
        "referrals_refused": kinds[k.REFUSED],
        "follow_up_waits": kinds[k.AWAITING_FOLLOW_UP],
    }


def agency_table(model: CollaborationModel) -> pd.DataFrame:
    """One row per agency: staff on duty, services done, utilisation in the measured window."""
    run = model.params.run
    window = max(1e-9, min(model.now, run.days) - run.warmup_days)
    areas = [a.queue_integrals(model.now) for a in model.agencies]
    return pd.DataFrame(
        [
            {
                "agency": a.name,
                "kind": a.kind,
                "city": a.city,
                "sector": a.sector,
                "staff": a.staff,
                "served": a.served,
                "utilisation": a.busy_days / (a.staff * window),
                "mean_queue": waiting / window,
                "mean_in_system": present / window,
                "queue_end": len(a.queue),
            }
            for a, (waiting, present) in zip(model.agencies, areas, strict=True)
        ]
    )


def _q(values: pd.Series, q: float) -> float:
    v = values.dropna()
    return float(np.quantile(v, q)) if len(v) else float("nan")


def summarize(
    model: CollaborationModel,
    cases: pd.DataFrame | None = None,
    timeseries: pd.DataFrame | None = None,
    agencies: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The run's summary: every output under its documented name (``docs/outputs.md``).

    Args:
        model: a model that has been run.
        cases: its case table, if already built.
        timeseries: its daily series, if already built.
        agencies: its agency table, if already built.

    Returns:
        A JSON-serialisable dictionary.
    """
    run = model.params.run
    table = case_table(model) if cases is None else cases
    m = table[table["measured"]] if len(table) else table
    n = len(m)
    status = Counter(m["status"]) if n else Counter()
    closed = m[m["status"] == "closed"] if n else m
    ts = model.timeseries() if timeseries is None else timeseries
    ts_m = ts[ts["day"] > run.warmup_days] if len(ts) else ts
    agencies = agency_table(model) if agencies is None else agencies

    def by(column: str) -> dict[str, dict[str, float | int]]:
        out: dict[str, dict[str, float | int]] = {}
        for key, grp in closed.groupby(column) if len(closed) else []:
            h = grp["handling_days"]
            out[str(key)] = {"n": len(grp), "median": _q(h, 0.5), "p90": _q(h, 0.9)}
        return out

    def mean(series: pd.Series) -> float:
        return float(series.mean()) if len(series) else float("nan")

    follow = m["follow_up_working_days"].dropna() if n else pd.Series(dtype=float)
    return {
        "scenario": model.params.name,
        "seed": model.seed,
        "days": run.days,
        "warmup_days": run.warmup_days,
        "cases_arrived": n,
        "cases_closed": status["closed"],
        "cases_open": status["open"],
        "cases_stalled": status["stalled"],
        "handling_days_median": _q(closed["handling_days"], 0.5) if n else float("nan"),
        "handling_days_p90": _q(closed["handling_days"], 0.9) if n else float("nan"),
        "handling_days_mean": mean(closed["handling_days"]) if n else float("nan"),
        "handling_days_by_type": by("case_type"),
        "handling_days_by_risk": by("risk"),
        "first_service_days_median": _q(m["first_service_days"], 0.5) if n else float("nan"),
        "referrals": int(m["referrals"].sum()) if n else 0,
        "referrals_lost": int(m["referrals_lost"].sum()) if n else 0,
        "referrals_misrouted": int(m["referrals_misrouted"].sum()) if n else 0,
        "referrals_late": int(m["referrals_late"].sum()) if n else 0,
        "referrals_held": int(m["referrals_held"].sum()) if n else 0,
        "referrals_refused": int(m["referrals_refused"].sum()) if n else 0,
        "duplicated_staff_hours": float(m["duplicated_staff_hours"].sum()) if n else 0.0,
        "interviews_per_child": mean(m["interviews"]) if n else float("nan"),
        "bypasses": int(m["events_facility_distrust"].sum()) if n else 0,
        "reworks": int(m["events_resources"].sum()) if n else 0,
        "follow_up_waits": int(m["follow_up_waits"].sum()) if n else 0,
        "cases_registered": int(m["registered"].sum()) if n else 0,
        "cases_recorded": int(m["recorded"].sum()) if n else 0,
        "recorded_share": (
            float(m["recorded"].sum() / m["registered"].sum())
            if n and m["registered"].any()
            else float("nan")
        ),
        "follow_up_within_norm_share": (
            float((follow <= run.follow_up_norm_working_days).mean())
            if len(follow)
            else float("nan")
        ),
        "backlog_mean": mean(ts_m["backlog"]) if len(ts_m) else float("nan"),
        "backlog_end": int(ts["backlog"].iloc[-1]) if len(ts) else 0,
        "barrier_events": {k: int(m[f"events_{k}"].sum()) if n else 0 for k in BARRIER_NAMES},
        "vacant_posts": model.barriers.resources.vacant_posts,
        "utilisation_by_kind": {
            str(k): float(v) for k, v in agencies.groupby("kind")["utilisation"].mean().items()
        },
        "utilisation_max": float(agencies["utilisation"].max()) if len(agencies) else 0.0,
        "waiting_by_kind": {
            str(k): float(v) for k, v in agencies.groupby("kind")["mean_queue"].sum().items()
        },
        "engagement_mean": mean(ts_m["engagement"]) if len(ts_m) else float("nan"),
        "motivation_mean": mean(ts_m["motivation"]) if len(ts_m) else float("nan"),
        "capacity_mean": mean(ts_m["capacity"]) if len(ts_m) else float("nan"),
        "engagement_end": model.engagement,
        "motivation_end": model.motivation,
        "capacity_end": model.capacity,
        "cases_by_city": {c: int((m["city"] == c).sum()) if n else 0 for c in model.params.cities},
        "case_type_shares": {
            t: float((m["case_type"] == t).mean()) if n else float("nan")
            for t in model.params.arrivals.case_types
        },
        "services_planned": _planned(m, list(model.params.services)),
    }


def _planned(measured: pd.DataFrame, services: list[str]) -> dict[str, dict[str, float]]:
    """Per service: the share of cases whose plan has it, and its mean number per case."""
    plans = [p.split() for p in measured["plan"]] if len(measured) else []
    n = max(1, len(plans))
    return {
        svc: {
            "share": sum(svc in p for p in plans) / n,
            "per_case": sum(p.count(svc) for p in plans) / n,
        }
        for svc in services
    }
