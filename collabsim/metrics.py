"""Outputs of one run, built from the cases' counts and the model's state.

The statistics follow the **cohort**: the cases reported in the measured
window (after the warm-up, before ``run.measure_days`` end), followed until
the run ends. Handling times are Kaplan-Meier estimates, so cases still open
at the end count for the time they are known to have taken; the share still
open is reported beside them. ``docs/outputs.md`` documents every name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from collabsim.barriers import BARRIER_EVENT_KINDS
from collabsim.calendar import OfficeHours
from collabsim.cases import Case, EventKind
from collabsim.model import CollaborationModel
from collabsim.scenario import BARRIER_NAMES, Scenario
from collabsim.survival import quantile

__all__ = ["agency_table", "case_table", "cohort", "summarize", "working_days"]

NAN = float("nan")


def working_days(t0: float, t1: float) -> float:
    """Working days (Monday to Friday; day 0 is a Monday) between two times."""

    def cumulative(t: float) -> float:
        weeks, rest = divmod(t, 7.0)
        return 5.0 * weeks + min(rest, 5.0)

    return cumulative(t1) - cumulative(t0)


def _status(case: Case, now: float, stall_days: float) -> str:
    if case.closed_at is not None:
        return "closed"
    if case.dropped_at is not None:
        return "dropped"
    return "stalled" if now - case.last_progress > stall_days else "open"


def _since(case: Case, t: float | None, scale: float = 1.0) -> float:
    return (t - case.reported_at) * scale if t is not None else NAN


def _response_hours(case: Case, p: Scenario) -> float:
    """Hours from the first contact to the start of the response service.

    The first contact is the start of the entry channel's own service (a
    counsellor at a complaint post hears the case when the post is open), or
    the report itself for a channel without one (a message, the hotline).
    """
    start = case.first_start.get(p.norms.response_service)
    if start is None:
        return NAN
    entry = p.arrivals.entry_channels[case.channel].service if case.channel else None
    contact = case.first_start.get(entry, case.reported_at) if entry else case.reported_at
    return (start - contact) * 24.0


def case_table(model: CollaborationModel, cases: Iterable[Case] | None = None) -> pd.DataFrame:
    """One row per case reported so far (``measured`` marks the cohort), or per one of ``cases``.

    With no case yet, the table has no rows but the same columns and types.
    """
    office = model.office
    count: Callable[[float, float], float] = (
        office.working_days if isinstance(office, OfficeHours) else working_days
    )
    rows = [_case_row(c, model, count) for c in (model.cases if cases is None else cases)]
    if not rows:
        blank = Case(0, "", "", "", "", 0.0, [], 0)
        return pd.DataFrame([_case_row(blank, model, count)]).iloc[:0]
    return pd.DataFrame(rows)


def cohort(model: CollaborationModel, measured: bool = True) -> dict[str, float | int]:
    """The measured cohort's statistics so far, as the summary defines them, on any day of a run.

    The cohort is the cases reported in the measured window (after the
    warm-up, before ``cohort_end``); before the warm-up ends it is empty.
    With ``measured`` false: the same statistics of every case reported so far.
    """
    cases = (c for c in model.cases if c.measured or not measured)
    return _group(case_table(model, cases), model.params)


def _case_row(
    c: Case, model: CollaborationModel, count: Callable[[float, float], float]
) -> dict[str, Any]:
    """One case's row of :func:`case_table`."""
    p: Scenario = model.params
    kinds = c.counts
    k = EventKind
    norms = p.norms
    stay = c.first_start.get(norms.stay_service)
    ended = c.closed_at if c.closed_at is not None else c.dropped_at
    known = (ended if ended is not None else model.now) - c.reported_at
    return {
        "case_id": c.id,
        "city": c.city,
        "case_type": c.case_type,
        "risk": c.risk,
        "channel": c.channel,
        "repeat_of": c.repeat_of if c.repeat_of is not None else np.nan,
        "reported_day": c.reported_at,
        "closed_day": c.closed_at if c.closed_at is not None else np.nan,
        "dropped_day": c.dropped_at if c.dropped_at is not None else np.nan,
        "status": _status(c, model.now, p.run.stall_days),
        "measured": c.measured,
        "handling_days": _since(c, c.closed_at),
        "known_days": known,
        "first_service_days": _since(c, c.first_care_at),
        "response_hours": _response_hours(c, p),
        "follow_up_working_days": (
            count(c.reported_at, c.first_manager_service_at)
            if c.first_manager_service_at is not None
            else np.nan
        ),
        "days_to_stay": _since(c, stay),
        "days_to_exam": _since(c, c.first_start.get(norms.exam_service)),
        "stay_days": c.stay_days if c.stay_days is not None else np.nan,
        "steps_planned": len(c.plan),
        "steps_done": kinds[k.COMPLETED],
        "plan": " ".join(c.plan),
        "tracks": max((len(phase) for phase in c.phases), default=0),
        "referrals": kinds[k.REFERRED],
        "interviews": c.interviews,
        "service_days": c.service_days,
        "staff_hours": c.service_days * p.run.hours_per_staff_day,
        "duplicated_staff_hours": c.duplicated_days * p.run.hours_per_staff_day,
        "registered": c.registered,
        "recorded": c.recorded,
        "withdrawn": kinds[k.WITHDRAWN],
        **{f"events_{b}": sum(kinds[x] for x in v) for b, v in BARRIER_EVENT_KINDS.items()},
        "referrals_lost": kinds[k.REFERRAL_LOST],
        "referrals_misrouted": kinds[k.REFERRAL_MISROUTED],
        "referrals_late": kinds[k.REFERRAL_LATE],
        "referrals_held": kinds[k.HELD],
        "referrals_refused": kinds[k.REFUSED],
        "follow_up_waits": kinds[k.AWAITING_FOLLOW_UP],
        "conference_settled": kinds[k.CONFERENCE_SETTLED],
    }


def agency_table(model: CollaborationModel) -> pd.DataFrame:
    """One row per agency: staff, beds, work done and utilisation in the measured window.

    The window here is the whole measured period (warm-up end to run end),
    whatever its cases; ``staff_hours`` includes background work.
    """
    run, now = model.params.run, model.now
    span = max(1e-9, min(now, run.days) - run.warmup_days)
    hours = run.hours_per_staff_day
    costs = {kind: t.staff_cost_per_year for kind, t in model.params.agencies.items()}
    rows = []
    for a in model.agencies:
        waiting = present = 0.0
        for pool in a.pools:
            w, q = pool.integrals(now)
            waiting, present = waiting + w, present + q
        staff, on_call, beds = a.pools
        rows.append(
            {
                "agency": a.name,
                "kind": a.kind,
                "city": a.city,
                "sector": a.sector,
                "staff": staff.servers,
                "staff_cost_per_year": staff.servers * costs[a.kind],
                "on_call": on_call.servers,
                "beds": beds.servers,
                "served": a.served,
                "utilisation": _share(staff.work, staff.capacity(now)),
                "on_call_utilisation": _share(on_call.work, on_call.capacity(now)),
                "bed_occupancy": _share(beds.work, beds.capacity(now)),
                "staff_hours": (staff.work + on_call.work) * hours,
                "mean_queue": waiting / span,
                "mean_in_system": present / span,
                "queue_end": sum(len(pool.queue) for pool in a.pools),
            }
        )
    return pd.DataFrame(rows)


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else NAN


def _q(values: pd.Series, q: float) -> float:
    v = values.dropna()
    return float(np.quantile(v, q)) if len(v) else NAN


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else NAN


def _handling(group: pd.DataFrame, q: float) -> float:
    """Kaplan-Meier quantile of handling time: open and dropped cases count as censored."""
    if not len(group):
        return NAN
    return quantile(group["known_days"], group["status"] == "closed", q)


def _response_met(group: pd.DataFrame, norms: dict[str, float]) -> float:
    """Share of the cases under a response norm that were responded to within it."""
    under = group[group["risk"].isin(norms)]
    if not len(under):
        return NAN
    limit = under["risk"].map(norms)
    return float((under["response_hours"] <= limit).mean())


def _group(g: pd.DataFrame, p: Scenario) -> dict[str, float | int]:
    """The statistics every breakdown (by type, risk, city, channel) reports."""
    follow = g["follow_up_working_days"].dropna()
    stays = g["stay_days"].dropna()
    return {
        "n": len(g),
        "closed": int((g["status"] == "closed").sum()),
        "open_share": float(g["status"].isin(["open", "stalled"]).mean()) if len(g) else NAN,
        "handling_days_median": _handling(g, 0.5),
        "handling_days_p90": _handling(g, 0.9),
        "first_service_days_median": _q(g["first_service_days"], 0.5),
        "response_within_norm_share": _response_met(g, p.norms.first_response_hours),
        "follow_up_within_norm_share": (
            float((follow <= p.run.follow_up_norm_working_days).mean()) if len(follow) else NAN
        ),
        "stay_within_norm_share": (
            float((stays <= p.norms.stay_days).mean()) if len(stays) else NAN
        ),
        "days_to_stay_median": _q(g["days_to_stay"], 0.5),
        "days_to_exam_median": _q(g["days_to_exam"], 0.5),
        "interviews_per_child": _mean(g["interviews"]),
        "staff_hours_per_case": _mean(g["staff_hours"]),
    }


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
    p = model.params
    run = p.run
    table = case_table(model) if cases is None else cases
    m = table[table["measured"]] if len(table) else table
    n = len(m)
    status = Counter(m["status"]) if n else Counter()
    closed = m[m["status"] == "closed"] if n else m
    ts = model.timeseries() if timeseries is None else timeseries
    ts_m = ts[ts["day"] > run.warmup_days] if len(ts) else ts
    agencies = agency_table(model) if agencies is None else agencies
    overall = _group(m, p)

    def by(column: str) -> dict[str, dict[str, float | int]]:
        return {str(key): _group(g, p) for key, g in m.groupby(column)} if n else {}

    def total(column: str) -> int:
        return int(m[column].sum()) if n else 0

    registered = total("registered")
    staff_cost = float(agencies["staff_cost_per_year"].sum()) if len(agencies) else 0.0
    extra_cost = p.costs.yearly + p.costs.one_off / p.costs.years
    return {
        "scenario": p.name,
        "seed": model.seed,
        "days": run.days,
        "warmup_days": run.warmup_days,
        "cohort_end_day": run.cohort_end,
        "cases_arrived": n,
        "cases_closed": status["closed"],
        "cases_open": status["open"],
        "cases_stalled": status["stalled"],
        "cases_dropped": status["dropped"],
        "cases_withdrawn": int((m["withdrawn"] > 0).sum()) if n else 0,
        "repeat_reports": int(m["repeat_of"].notna().sum()) if n else 0,
        "open_share": overall["open_share"],
        "handling_days_median": overall["handling_days_median"],
        "handling_days_p90": overall["handling_days_p90"],
        "handling_days_mean_closed": _mean(closed["handling_days"]) if n else NAN,
        "first_service_days_median": overall["first_service_days_median"],
        "response_within_norm_share": {
            risk: _response_met(m[m["risk"] == risk], p.norms.first_response_hours) if n else NAN
            for risk in p.norms.first_response_hours
        },
        "follow_up_within_norm_share": overall["follow_up_within_norm_share"],
        "stay_within_norm_share": overall["stay_within_norm_share"],
        "days_to_stay_median": overall["days_to_stay_median"],
        "days_to_exam_median": overall["days_to_exam_median"],
        "staff_hours_per_case": overall["staff_hours_per_case"],
        "by_type": by("case_type"),
        "by_risk": by("risk"),
        "by_city": by("city"),
        "by_channel": by("channel"),
        "referrals": total("referrals"),
        "referrals_lost": total("referrals_lost"),
        "referrals_misrouted": total("referrals_misrouted"),
        "referrals_late": total("referrals_late"),
        "referrals_held": total("referrals_held"),
        "referrals_refused": total("referrals_refused"),
        "duplicated_staff_hours": float(m["duplicated_staff_hours"].sum()) if n else 0.0,
        "interviews_per_child": overall["interviews_per_child"],
        "bypasses": total("events_facility_distrust"),
        "reworks": total("events_resources"),
        "follow_up_waits": total("follow_up_waits"),
        "conference_settled": total("conference_settled"),
        "cases_registered": registered,
        "cases_recorded": total("recorded"),
        "recorded_share": total("recorded") / registered if registered else NAN,
        "backlog_mean": _mean(ts_m["backlog"]) if len(ts_m) else NAN,
        "backlog_end": int(ts["backlog"].iloc[-1]) if len(ts) else 0,
        "barrier_events": {b: total(f"events_{b}") for b in BARRIER_NAMES},
        "vacant_posts": model.barriers.resources.vacant_posts,
        "utilisation_by_kind": _by_kind(agencies, "utilisation", "mean"),
        "utilisation_max": float(agencies["utilisation"].max()) if len(agencies) else 0.0,
        "bed_occupancy_by_kind": {
            k: v for k, v in _by_kind(agencies, "bed_occupancy", "mean").items() if v == v
        },
        "staff_hours_by_kind": _by_kind(agencies, "staff_hours", "sum"),
        "staff_cost_per_year": staff_cost,
        "intervention_cost_per_year": extra_cost,
        "cost_per_year": staff_cost + extra_cost,
        "waiting_by_kind": _by_kind(agencies, "mean_queue", "sum"),
        "engagement_mean": _mean(ts_m["engagement"]) if len(ts_m) else NAN,
        "motivation_mean": _mean(ts_m["motivation"]) if len(ts_m) else NAN,
        "capacity_mean": _mean(ts_m["capacity"]) if len(ts_m) else NAN,
        "engagement_end": model.engagement,
        "motivation_end": model.motivation,
        "capacity_end": model.capacity,
        "indicators_end": dict(model.indicators._asdict()),
        "cases_by_city": {c: int((m["city"] == c).sum()) if n else 0 for c in p.cities},
        "case_type_shares": {
            t: float((m["case_type"] == t).mean()) if n else NAN for t in p.arrivals.case_types
        },
        "services_planned": _planned(m, list(p.services)),
    }


def _by_kind(agencies: pd.DataFrame, column: str, how: str) -> dict[str, float]:
    if not len(agencies):
        return {}
    grouped = agencies.groupby("kind")[column]
    values = grouped.mean() if how == "mean" else grouped.sum()
    return {str(k): float(v) for k, v in values.items()}


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
