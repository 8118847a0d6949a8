"""A case's referral trail as a timeline, and where its days were lost."""

from __future__ import annotations

import pandas as pd

from collabsim.cases import Case

__all__ = ["LOSSES", "days_lost", "timeline"]

_PHASE = {
    "reported": "entry",
    "referred": "referral in transit",
    "referral_late": "miscommunication",
    "referral_misrouted": "miscommunication",
    "referral_lost": "miscommunication",
    "held": "sectoral ego",
    "refused": "sectoral ego",
    "queued": "waiting for staff",
    "started": "in service",
    "rework": "rework",
    "completed": "between services",
    "unreported": "between services",
    "awaiting_follow_up": "unreported completion",
}
"""The phase a case is in after each kind of trail event."""

LOSSES: tuple[str, ...] = (
    "miscommunication",
    "sectoral ego",
    "waiting for staff",
    "duplicated assessment",
    "fresh intake (SOP)",
    "rework",
    "unreported completion",
)
"""Phases that a better-run system would not have: the days lost."""


def timeline(case: Case, agency_names: list[str], now: float) -> pd.DataFrame:
    """The case's trail as consecutive phases.

    Staff time spent on a duplicated assessment or a fresh intake is carved
    out of the service it preceded.

    Args:
        case: the case.
        agency_names: names by agency index.
        now: the current time (the end of an open case's last phase).

    Returns:
        One row per phase: ``start``, ``end``, ``days``, ``phase``, ``agency``, ``event``.
    """
    rows = []
    pending_extra: list[tuple[str, float]] = []
    log = case.log
    for k, event in enumerate(log):
        if event.kind in ("reintake", "duplicated_assessment"):
            label = "fresh intake (SOP)" if event.kind == "reintake" else "duplicated assessment"
            pending_extra.append((label, event.days))
            continue
        phase = _PHASE.get(event.kind)
        if phase is None:
            continue
        end = next((e.time for e in log[k + 1 :] if e.kind in _PHASE or e.kind == "closed"), now)
        agency = agency_names[event.agency] if event.agency is not None else ""
        start = event.time
        if event.kind == "started" and pending_extra:
            for label, days in pending_extra:
                rows.append(_row(start, start + days, label, agency, event.detail))
                start += days
            pending_extra = []
        if end > start:
            rows.append(_row(start, end, phase, agency, event.detail))
    return pd.DataFrame(rows, columns=["start", "end", "days", "phase", "agency", "event"])


def _row(start: float, end: float, phase: str, agency: str, event: str) -> dict[str, object]:
    return {
        "start": start,
        "end": end,
        "days": end - start,
        "phase": phase,
        "agency": agency,
        "event": event,
    }


def days_lost(table: pd.DataFrame) -> dict[str, float]:
    """Days per loss phase (every phase of :data:`LOSSES`, zero where none)."""
    sums = table.groupby("phase")["days"].sum() if len(table) else pd.Series(dtype=float)
    return {phase: float(sums.get(phase, 0.0)) for phase in LOSSES}
