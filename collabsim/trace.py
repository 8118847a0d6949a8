"""A case's trail as a timeline, and where its days were lost.

The phases (``in service``, ``waiting for staff``, the :data:`LOSSES`) are
kept in the tables as their English names, which are data; :func:`phase_label`
gives a phase's label in the language in use, for people. The ``event`` texts
(:func:`describe`) are written in the language in use.
"""

from __future__ import annotations

import pandas as pd

from collabsim.cases import Case, CaseEvent, EventKind
from collabsim.i18n import N_, _, marked, translator
from collabsim.terms import term

__all__ = ["LOSSES", "PHASES", "days_lost", "describe", "phase_label", "timeline"]

K = EventKind
# the phases' names are data (the tables' ``phase`` column) and English message ids
_PHASE = {
    K.REPORTED: N_("entry"),
    K.REFERRED: N_("referral in transit"),
    K.REFERRAL_LATE: N_("miscommunication"),
    K.REFERRAL_MISROUTED: N_("miscommunication"),
    K.REFERRAL_LOST: N_("miscommunication"),
    K.HELD: N_("sectoral ego"),
    K.REFUSED: N_("sectoral ego"),
    K.QUEUED: N_("waiting for staff"),
    K.STARTED: N_("in service"),
    K.REWORK: N_("rework"),
    K.COMPLETED: N_("between services"),
    K.UNREPORTED: N_("between services"),
    K.AWAITING_FOLLOW_UP: N_("unreported completion"),
    K.OUT_OF_HOURS: N_("out of hours"),
}
"""The phase a case is in after each kind of trail event."""

_EXTRA = {
    K.REINTAKE: N_("fresh intake (SOP)"),
    K.DUPLICATED_ASSESSMENT: N_("duplicated assessment"),
}

LOSSES: tuple[str, ...] = (
    N_("miscommunication"),
    N_("sectoral ego"),
    N_("waiting for staff"),
    N_("duplicated assessment"),
    N_("fresh intake (SOP)"),
    N_("rework"),
    N_("unreported completion"),
)
"""Phases that a better-run system would not have: the days lost."""

PHASES: tuple[str, ...] = tuple(dict.fromkeys([*_PHASE.values(), *_EXTRA.values()]))
"""Every phase a timeline can have (its ``phase`` column's values)."""


def phase_label(phase: str) -> str:
    """A phase's label for people, in the language in use (``menunggu petugas``).

    The tables keep the English name (``waiting for staff``): it is data, and
    the key of :data:`LOSSES` and :func:`days_lost`.
    """
    return marked(phase)


def describe(event: CaseEvent, names: list[str]) -> str:
    """A short text for one trail event in the language in use, e.g. ``psychology from hub``."""
    k = event.kind
    t = translator()
    other = names[event.other] if event.other is not None else ""
    service = term(event.service, t)
    days = t.number(event.days, 1)
    staff_time = _("{days} days of staff time").format(days=t.number(event.days, 2))
    if k is K.REFERRED:
        return _("{service} from {agency}").format(service=service, agency=other)
    if k in (K.REFERRAL_LATE, K.REFERRAL_MISROUTED):
        return _("+{days} days").format(days=days)
    if k is K.REFERRAL_LOST:
        return _("sent again at the next follow-up")
    if k is K.HELD:
        return _("{days} days").format(days=days)
    if k is K.REFUSED:
        return _("referral from {agency}").format(agency=other)
    if k in (K.REINTAKE, K.DUPLICATED_ASSESSMENT):
        return staff_time
    if k is K.REWORK:
        return _("{service} to be redone").format(service=service)
    if k is K.AWAITING_FOLLOW_UP:
        return _("{days} days until the follow-up").format(days=days)
    if k is K.BYPASS:
        return _("passed over {agency}").format(agency=other)
    if k is K.UNRECORDED:
        return _("registration not reported to the case system")
    if k is K.CONFERENCE_SETTLED:
        if event.agency is not None:
            return _("re-routed after {days} days in the queue").format(days=days)
        return _("brought forward {days} days by the case conference").format(days=days)
    return service


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
        raise ValueError(_("the case kept no trail: run the model with trail='full'"))
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
