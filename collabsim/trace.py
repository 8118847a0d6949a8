"""A case's trail as a timeline, and where its days were lost."""

from __future__ import annotations

import pandas as pd

from collabsim.cases import Case, CaseEvent, EventKind

__all__ = ["LOSSES", "days_lost", "describe", "timeline"]

K = EventKind
_PHASE = {
    K.REPORTED: "entry",
    K.REFERRED: "referral in transit",
    K.REFERRAL_LATE: "miscommunication",
    K.REFERRAL_MISROUTED: "miscommunication",
    K.REFERRAL_LOST: "miscommunication",
    K.HELD: "sectoral ego",
    K.REFUSED: "sectoral ego",
    K.QUEUED: "waiting for staff",
    K.STARTED: "in service",
    K.REWORK: "rework",
    K.COMPLETED: "between services",
    K.UNREPORTED: "between services",
    K.AWAITING_FOLLOW_UP: "unreported completion",
    K.OUT_OF_HOURS: "out of hours",
}
"""The phase a case is in after each kind of trail event."""

_EXTRA = {K.REINTAKE: "fresh intake (SOP)", K.DUPLICATED_ASSESSMENT: "duplicated assessment"}

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


def describe(event: CaseEvent, names: list[str]) -> str:
    """A short text for one trail event, e.g. ``referred psychology by hub``."""
    k = event.kind

    def name(i: int | None) -> str:
        return names[i] if i is not None else ""

    texts = {
        K.REFERRED: f"{event.service} from {name(event.other)}",
        K.REFERRAL_LATE: f"+{event.days:.1f} days",
        K.REFERRAL_MISROUTED: f"+{event.days:.1f} days",
        K.REFERRAL_LOST: "sent again at the next follow-up",
        K.HELD: f"{event.days:.1f} days",
        K.REFUSED: f"referral from {name(event.other)}",
        K.REINTAKE: f"{event.days:.2f} days of staff time",
        K.DUPLICATED_ASSESSMENT: f"{event.days:.2f} days of staff time",
        K.REWORK: f"{event.service} to be redone",
        K.AWAITING_FOLLOW_UP: f"{event.days:.1f} days until the follow-up",
        K.BYPASS: f"passed over {name(event.other)}",
        K.UNRECORDED: "registration not reported to the case system",
        K.CONFERENCE_SETTLED: (
            f"re-routed after {event.days:.1f} days in the queue"
            if event.agency is not None
            else f"brought forward {event.days:.1f} days by the case conference"
        ),
    }
    return texts.get(k, event.service)


def timeline(case: Case, agency_names: list[str], now: float) -> pd.DataFrame:
    """The case's trail as consecutive phases, track by track.

    Tracks that run side by side overlap in time; in each phase of the plan
    the track that ended last is ``critical``: the critical rows follow each
    other without gap or overlap from the report to the case's end, so they
    say where the case's days went. Staff time spent on a duplicated
    assessment or a fresh intake is carved out of the service it preceded.

    Args:
        case: the case (run with the full trail).
        agency_names: names by agency index.
        now: the current time (the end of an open case's last phase).

    Returns:
        One row per phase: ``start``, ``end``, ``days``, ``phase``, ``agency``,
        ``event``, ``track`` and ``critical``.

    Raises:
        ValueError: if the case was run with the lean trail.
    """
    log = case.log
    if log is None:
        raise ValueError("the case kept no trail: run the model with trail='full'")
    finish = next((e.time for e in log if e.kind in (K.CLOSED, K.DROPPED)), now)
    phase_of: dict[int, int] = {}  # track (its first plan index) -> plan phase
    slot = 0
    for p, phase in enumerate(case.phases):
        for services in phase:
            phase_of[slot] = p
            slot += len(services)
    by_track: dict[int, list[CaseEvent]] = {}
    for event in log:
        by_track.setdefault(event.track, []).append(event)
    starts = {
        p: min(events[0].time for t, events in by_track.items() if phase_of.get(t) == p)
        for p in set(phase_of.get(t, 0) for t in by_track)
    }
    rows: list[dict[str, object]] = []
    ends: dict[int, float] = {}
    for track, events in by_track.items():
        p = phase_of.get(track, 0)
        end = next((e.time for e in events if e.kind is K.TRACK_ENDED), None)
        if end is None:  # not ended: it runs until the next phase begins, or the case ends
            end = min([t for q, t in starts.items() if q > p] + [finish])
        ends[track] = end
        rows += _track_rows([e for e in events if e.time <= end], agency_names, end, track)
    critical = {
        p: max((t for t in ends if phase_of.get(t, 0) == p), key=lambda t: (ends[t], -t))
        for p in starts
    }
    table = pd.DataFrame(rows, columns=[*_COLUMNS, "track"])
    table["critical"] = table["track"].map(lambda t: critical[phase_of.get(t, 0)] == t)
    return table.sort_values(["start", "track"], kind="stable").reset_index(drop=True)


_COLUMNS = ("start", "end", "days", "phase", "agency", "event")


def _track_rows(
    log: list[CaseEvent], agency_names: list[str], last: float, track: int
) -> list[dict[str, object]]:
    """The phases of one track's events, the last one ending at ``last``."""
    rows = []
    pending: list[tuple[str, float]] = []
    for k, event in enumerate(log):
        if event.kind in _EXTRA:
            pending.append((_EXTRA[event.kind], event.days))
            continue
        phase = _PHASE.get(event.kind)
        if phase is None:
            continue
        end = next((e.time for e in log[k + 1 :] if e.kind in _PHASE), last)
        agency = agency_names[event.agency] if event.agency is not None else ""
        detail = describe(event, agency_names)
        start = event.time
        if event.kind is K.STARTED and pending:
            for label, days in pending:  # staff time: at most the service's own span
                piece = min(start + days, end)
                rows.append({**_row(start, piece, label, agency, detail), "track": track})
                start = piece
            pending = []
        if end > start:
            rows.append({**_row(start, end, phase, agency, detail), "track": track})
    return rows


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
    """Days per loss phase on the case's critical path (every phase of :data:`LOSSES`)."""
    if len(table) and "critical" in table:
        table = table[table["critical"]]
    sums = table.groupby("phase")["days"].sum() if len(table) else pd.Series(dtype=float)
    return {phase: float(sums.get(phase, 0.0)) for phase in LOSSES}
