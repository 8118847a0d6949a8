"""Cases: plain data with counters and (optionally) a trail, and the synthetic case generator.

Cases are not agents: they are many and passive, moved by agencies. Every
case is synthetic; nothing here describes a real child.

A case always keeps a count of each kind of event (what the outputs need).
With the *full* trail it also keeps every event with its time and agency
(what the case tracer and the app show); the *lean* trail keeps only the
counts, for experiments. Both give identical summaries.
"""

from __future__ import annotations

import functools
import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import accumulate
from statistics import NormalDist
from typing import Literal, NamedTuple

from collabsim.scenario import Distribution, Scenario
from collabsim.streams import Purpose, uniform

__all__ = [
    "Case",
    "CaseEvent",
    "CaseGenerator",
    "EventKind",
    "Phase",
    "Track",
    "Trail",
    "draw_duration",
    "sample",
]

Trail = Literal["full", "lean"]
"""How much of a case's history is kept: every event, or the counts only."""

_NORMAL = NormalDist()


def sample(dist: Distribution, track: Track, purpose: Purpose, occurrence: int = 0) -> float:
    """A duration for one decision of a track's step: drawn only when it can vary."""
    kind = dist.dist
    if kind == "fixed" or dist.mean == 0.0:
        return dist.mean
    u = uniform(track.case.key, purpose, track.slots[track.pos], occurrence)
    if kind == "exponential":
        return -dist.mean * math.log(1.0 - u)
    return draw_duration(dist, u)


def draw_duration(dist: Distribution, u: float) -> float:
    """Turn one uniform draw into a duration (inverse transform, for common random numbers).

    Args:
        dist: the distribution.
        u: a uniform number in [0, 1).

    Returns:
        The duration in days.
    """
    if dist.dist == "fixed" or dist.mean == 0.0:
        return dist.mean
    if dist.dist == "exponential":
        return -dist.mean * math.log(1.0 - u)
    mu, sigma = _lognormal(dist.mean, dist.cv)
    z = _NORMAL.inv_cdf(min(max(u, 1e-12), 1.0 - 1e-12))
    return math.exp(mu + sigma * z)


@functools.lru_cache(maxsize=256)
def _lognormal(mean: float, cv: float) -> tuple[float, float]:
    """The log-scale parameters (mu, sigma) of a lognormal with this mean and CV."""
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


class EventKind(IntEnum):
    """What happened to a case. ``label`` is the name used in tables and the trace."""

    REPORTED = 0
    REFERRED = 1
    REFERRAL_LATE = 2
    REFERRAL_MISROUTED = 3
    REFERRAL_LOST = 4
    HELD = 5
    REFUSED = 6
    REINTAKE = 7
    DUPLICATED_ASSESSMENT = 8
    QUEUED = 9
    STARTED = 10
    REWORK = 11
    COMPLETED = 12
    UNREPORTED = 13
    UNRECORDED = 14
    AWAITING_FOLLOW_UP = 15
    BYPASS = 16
    CLOSED = 17
    WITHDRAWN = 18
    DROPPED = 19
    TRACK_ENDED = 20
    OUT_OF_HOURS = 21
    CONFERENCE_SETTLED = 22

    @property
    def label(self) -> str:
        """The kind's name in tables and the trace, e.g. ``referral_lost``."""
        return self.name.lower()


N_KINDS = len(EventKind)


class CaseEvent(NamedTuple):
    """One entry in a case's trail.

    Attributes:
        time: when, in days.
        kind: what happened.
        agency: the agency it happened at (its index), if any.
        service: the service concerned, if any.
        days: a duration the event carries (staff time added, a delay, a
            service's drawn duration), if any.
        other: the other agency involved (the referrer, the agency passed
            over), if any.
        track: the track it belongs to (the plan index of the track's first step).
    """

    time: float
    kind: EventKind
    agency: int | None
    service: str = ""
    days: float = 0.0
    other: int | None = None
    track: int = 0


Phase = list[list[str]]
"""Tracks that run at the same time, each a list of services in order."""


@dataclass(slots=True, eq=False)
class Track:
    """One line of a case's services, run in order while other tracks of its phase run too.

    A track moves from service to service (its steps); decisions about it
    draw from the case's stream keyed by the step's place in the whole plan
    (its slot), so that they are the same in any scenario with the same plan.

    Attributes:
        case: the case.
        index: the plan index of its first step (names the track in the trail).
        services: its services, in order.
        slots: each service's place in the case's whole plan.
        pos: the current step (-1 before the first).
        holder: the agency that did its last service.
        attempt: attempts at the current step so far (reworks add one).
        sends: referrals of the current step sent so far.
        excluded: agencies that refused the current step.
        penalty: what mishaps took off the current handover's outcome.
        unreported_since: when a completion its manager was not told of happened.
        urgent: its services are urgent (the case's urgent phase).
        pending: a step held up by a barrier (a hold, a refusal, a referral
            astray, a report not made) that a case conference may bring
            forward: its time, the agencies that must attend, and the step.
    """

    case: Case
    index: int
    services: list[str]
    slots: list[int]
    pos: int = -1
    holder: int | None = None
    attempt: int = 0
    sends: int = 0
    excluded: frozenset[int] = frozenset()
    penalty: float = 0.0
    unreported_since: float | None = None
    urgent: bool = False
    pending: tuple[float, tuple[int, ...], object, tuple[object, ...]] | None = None

    @property
    def service(self) -> str:
        """The current step's service."""
        return self.services[self.pos]

    @property
    def slot(self) -> int:
        """The current step's place in the case's whole plan."""
        return self.slots[self.pos]

    def draw(self, purpose: Purpose, occurrence: int = 0) -> float:
        """The uniform number for one decision at the current step (:mod:`collabsim.streams`)."""
        return uniform(self.case.key, purpose, self.slots[self.pos], occurrence)

    def note(
        self,
        time: float,
        kind: EventKind,
        agency: int | None = None,
        days: float = 0.0,
        other: int | None = None,
    ) -> None:
        """Count an event of the current step on the case (and keep it, with the full trail)."""
        case = self.case
        case.counts[kind] += 1
        if case.log is not None:
            service = self.services[self.pos]
            case.log.append(CaseEvent(time, kind, agency, service, days, other, self.index))


@dataclass(slots=True, eq=False)
class Case:
    """A synthetic case of violence against a child and its path through the system.

    Attributes:
        id: sequence number.
        city: the city of the report.
        case_type: the violence type.
        risk: the risk level.
        channel: the entry channel.
        reported_at: report time in days.
        phases: its plan: phases in order, each of tracks that run at the
            same time, each a list of services in order.
        key: the case's 64-bit random key (see :mod:`collabsim.streams`).
        priority: its place in queues (0 first: urgent work; then the risk
            levels served first; then the rest).
        measured: reported in the measured window (the cohort the statistics follow).
        counts: how many events of each :class:`EventKind` it has had.
        log: every event, with the full trail; ``None`` with the lean one.
        phase: the current phase (-1 before the first).
        urgent_phase: the last phase whose work is urgent (-1: none).
        tracks: the current phase's tracks.
        holder: the agency that did its latest service.
        service_days: staff time of its finished service attempts (a redone
            service counts each time; re-intake and duplicated assessment
            time included; stays not).
        first_start: when each service first started.
        stay_days: the length of its first stay at the norms' stay service.
        drop_at: the slot at which the family stops coming, if it does.
        ended: the case left the system (closed, or dropped).
        unreported_since: the latest silent end of a track of the phase just over (a
            completion the manager was not told of): the next phase inherits it.
        repeat_of: the case whose child this is, reported again.
    """

    id: int
    city: str
    case_type: str
    risk: str
    channel: str
    reported_at: float
    phases: list[Phase]
    key: int
    priority: int = 2
    measured: bool = True
    counts: list[int] = field(default_factory=lambda: [0] * N_KINDS)
    log: list[CaseEvent] | None = None
    phase: int = -1
    urgent_phase: int = -1
    tracks: list[Track] = field(default_factory=list)
    open_tracks: int = 0
    holder: int | None = None
    manager: int | None = None
    manager_since: float = 0.0
    assessed_by: int | None = None
    seen: set[int] = field(default_factory=set)
    interviewed_at: set[int] = field(default_factory=set)
    registered: bool = False
    recorded: bool = False
    interviews: int = 0
    duplicated_days: float = 0.0
    service_days: float = 0.0
    first_care_at: float | None = None
    first_manager_service_at: float | None = None
    first_start: dict[str, float] = field(default_factory=dict)
    closed_at: float | None = None
    dropped_at: float | None = None
    unreported_since: float | None = None
    stay_days: float | None = None
    drop_at: int | None = None
    ended: bool = False
    repeat_of: int | None = None
    last_progress: float = 0.0

    @property
    def plan(self) -> list[str]:
        """Every service of the plan, phase by phase and track by track."""
        return [svc for phase in self.phases for track in phase for svc in track]

    def note(
        self,
        time: float,
        kind: EventKind,
        agency: int | None = None,
        service: str = "",
        days: float = 0.0,
        other: int | None = None,
        track: int = 0,
    ) -> None:
        """Count an event and, with the full trail, keep it."""
        self.counts[kind] += 1
        if self.log is not None:
            self.log.append(CaseEvent(time, kind, agency, service, days, other, track))


class _Shares:
    """Named shares, to pick one with a uniform number (the last when rounding leaves a gap)."""

    __slots__ = ("cumulative", "last", "names", "total")

    def __init__(self, shares: dict[str, float]) -> None:
        self.names = list(shares)
        self.cumulative = list(accumulate(shares.values()))
        self.total = self.cumulative[-1] if self.cumulative else 0.0
        self.last = len(self.names) - 1

    def pick(self, u: float) -> str:
        if not self.last:
            return self.names[0]
        return self.names[min(bisect_right(self.cumulative, u), self.last)]


class CaseGenerator:
    """Draws arrivals (a Poisson process per city) and each case's plan.

    The generator owns the arrival stream (times, type, risk, channel and each
    case's key), so two scenarios run with the same seed see the same cases at
    the same times (common random numbers) as long as their arrival
    parameters agree. A case's plan comes from its own key.
    """

    def __init__(self, scenario: Scenario, rng: random.Random, trail: Trail = "full") -> None:
        """Set up the generator.

        Args:
            scenario: the scenario.
            rng: the arrival stream.
            trail: ``full`` or ``lean`` (see the module's docstring).
        """
        self.scenario = scenario
        self.rng = rng
        self.trail = trail
        self.count = 0
        a = scenario.arrivals
        self._rates = {c: r / 365.0 for c, r in a.cases_per_year.items()}
        self._types = _Shares(a.case_types)
        self._risks = _Shares(a.risk)
        self._channels = _Shares({k: v.share for k, v in a.entry_channels.items()})
        self._first = set(a.priority)
        p = scenario.pathway
        self._entry = _Shares(p.entry)
        self._routing = {k: _Shares(row) for k, row in p.routing.items() if row}
        self._care = {k for k, svc in scenario.services.items() if svc.stage == "care"}

    def next_gap(self, city: str) -> float:
        """Days until the next report from ``city`` (``inf`` for a zero rate)."""
        rate = self._rates[city]
        return self.rng.expovariate(rate) if rate > 0 else math.inf

    def new_case(self, city: str, now: float, window: tuple[float, float]) -> Case:
        """Draw a new case reported now in ``city`` (``window``: the measured window)."""
        r = self.rng
        case_type = self._types.pick(r.random())
        risk = self._risks.pick(r.random())
        channel = self._channels.pick(r.random())
        self.count += 1
        return self._case(
            self.count, city, case_type, risk, channel, now, r.getrandbits(64), window
        )

    def repeat(self, case: Case, now: float, window: tuple[float, float]) -> Case:
        """The same child reported again: same city, type, risk and channel, a new key."""
        self.count += 1
        key = (case.key * 0x9E3779B97F4A7C15 + 1) & ((1 << 64) - 1)
        new = self._case(self.count, case.city, case.case_type, case.risk, case.channel, now, key,
                         window)  # fmt: skip
        new.repeat_of = case.id
        return new

    def _case(
        self,
        number: int,
        city: str,
        case_type: str,
        risk: str,
        channel: str,
        now: float,
        key: int,
        window: tuple[float, float],
    ) -> Case:
        phases, urgent = self._phases(case_type, risk, channel, key)
        case = Case(
            number,
            city,
            case_type,
            risk,
            channel,
            now,
            phases,
            key,
            priority=1 if risk in self._first else 2,
            measured=window[0] <= now < window[1],
            log=[] if self.trail == "full" else None,
            last_progress=now,
            urgent_phase=urgent,
        )
        attrition = self.scenario.attrition
        lost = attrition.lost_to_follow_up
        care = [k for k, svc in enumerate(case.plan) if svc in self._care] if lost > 0.0 else []
        if care and uniform(key, Purpose.ATTRITION, 0, 0) < lost:
            case.drop_at = care[int(uniform(key, Purpose.ATTRITION, 0, 1) * len(care))]
        case.note(now, EventKind.REPORTED)
        return case

    def _phases(self, case_type: str, risk: str, channel: str, key: int) -> tuple[list[Phase], int]:
        """The case's plan (entry, urgent services, care tracks, closure) and its urgent phase.

        Everything up to and including the urgent phase is urgent work; the
        urgent phase is -1 when the case's risk level has no urgent path.
        """
        p = self.scenario.pathway
        entry = self.scenario.arrivals.entry_channels[channel].service
        phases: list[Phase] = [[[entry]]] if entry is not None else []
        if p.kind == "routing":
            steps = [self._entry.pick(uniform(key, Purpose.PLAN, 0, 0))]
            n = 0
            while len(steps) < p.max_steps:
                row = self._routing.get(steps[-1])
                n += 1
                x = uniform(key, Purpose.PLAN, 0, n)
                if row is None or x >= row.total:
                    break
                steps.append(row.pick(x))
            return [*phases, [steps]], -1
        needed = self._needs(case_type, risk, key)
        urgent = [svc for svc in p.urgent.get(risk, []) if needed.get(svc)]
        first, rest = p.entry_steps[:1], p.entry_steps[1:]
        phases += [[first]] if first else []
        phases += [[[svc] for svc in urgent]] if urgent else []
        # a risk level with an urgent path is responded to at once, even when
        # the child needs none of its services
        urgent_phase = len(phases) - 1 if risk in p.urgent else -1
        phases += [[rest]] if rest else []
        tracks = p.tracks or [p.order]
        care = [
            [svc for svc in track for _ in range(needed.get(svc, 0)) if svc not in urgent]
            for track in tracks
        ]
        phases += [[t for t in care if t]] if any(care) else []
        phases += [[list(p.closing_steps)]] if p.closing_steps else []
        return phases, urgent_phase

    def _needs(self, case_type: str, risk: str, key: int) -> dict[str, int]:
        """How many sessions of each care service the case needs (0: not needed)."""
        p = self.scenario.pathway
        mult = p.risk_multiplier.get(risk, {})
        out = {}
        for n, (svc, item) in enumerate(p.plans[case_type].items()):
            need = uniform(key, Purpose.PLAN, 0, 2 * n)
            extra = _poisson(item.sessions - 1.0, uniform(key, Purpose.PLAN, 0, 2 * n + 1))
            out[svc] = 1 + extra if need < min(1.0, item.p * mult.get(svc, 1.0)) else 0
        return out


def _poisson(mean: float, u: float) -> int:
    """Poisson draw by inversion from one uniform (keeps the draw count fixed)."""
    if mean <= 0.0:
        return 0
    k, prob = 0, math.exp(-mean)
    cdf = prob
    while u > cdf and k < 1000:
        k += 1
        prob *= mean / k
        cdf += prob
    return k
