"""Cases: plain data with counters and (optionally) a trail, and the synthetic case generator.

Cases are not agents: they are many and passive, moved by agencies. Every
case is synthetic; nothing here describes a real child.

A case always keeps a count of each kind of event (what the outputs need).
With the *full* trail it also keeps every event with its time and agency
(what the case tracer and the app show); the *lean* trail keeps only the
counts, for experiments. Both give identical summaries.
"""

from __future__ import annotations

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

__all__ = ["Case", "CaseEvent", "CaseGenerator", "EventKind", "Trail", "draw_duration", "sample"]

Trail = Literal["full", "lean"]
"""How much of a case's history is kept: every event, or the counts only."""

_NORMAL = NormalDist()


def sample(dist: Distribution, case: Case, purpose: Purpose, occurrence: int = 0) -> float:
    """A duration for one decision of a case: drawn from its stream only when it can vary."""
    kind = dist.dist
    if kind == "fixed" or dist.mean == 0.0:
        return dist.mean
    u = uniform(case.key, purpose, case.step, occurrence)
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
    sigma2 = math.log1p(dist.cv * dist.cv)
    mu = math.log(dist.mean) - sigma2 / 2.0
    z = _NORMAL.inv_cdf(min(max(u, 1e-12), 1.0 - 1e-12))
    return math.exp(mu + math.sqrt(sigma2) * z)


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
    """

    time: float
    kind: EventKind
    agency: int | None
    service: str = ""
    days: float = 0.0
    other: int | None = None


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
        plan: the services the case needs, in order.
        key: the case's 64-bit random key (see :mod:`collabsim.streams`).
        priority: its place in queues (0 first).
        measured: reported after the warm-up (counts in the statistics).
        counts: how many events of each :class:`EventKind` it has had.
        log: every event, with the full trail; ``None`` with the lean one.
        attempt: attempts at the current step so far (reworks add one).
        sends: referrals of the current step sent so far.
        service_days: staff time of its finished service attempts (a redone
            service counts each time; re-intake and duplicated assessment
            time included).
    """

    id: int
    city: str
    case_type: str
    risk: str
    channel: str
    reported_at: float
    plan: list[str]
    key: int
    priority: int = 1
    measured: bool = True
    counts: list[int] = field(default_factory=lambda: [0] * N_KINDS)
    log: list[CaseEvent] | None = None
    step: int = -1
    attempt: int = 0
    sends: int = 0
    holder: int | None = None
    manager: int | None = None
    manager_since: float = 0.0
    assessed_by: int | None = None
    seen: set[int] = field(default_factory=set)
    excluded: set[int] = field(default_factory=set)
    unreported_since: float | None = None
    registered: bool = False
    recorded: bool = False
    penalty: float = 0.0
    interviews: int = 0
    duplicated_days: float = 0.0
    service_days: float = 0.0
    first_care_at: float | None = None
    first_manager_service_at: float | None = None
    closed_at: float | None = None
    last_progress: float = 0.0

    def note(
        self,
        time: float,
        kind: EventKind,
        agency: int | None = None,
        service: str = "",
        days: float = 0.0,
        other: int | None = None,
    ) -> None:
        """Count an event and, with the full trail, keep it."""
        self.counts[kind] += 1
        if self.log is not None:
            self.log.append(CaseEvent(time, kind, agency, service, days, other))

    def draw(self, purpose: Purpose, occurrence: int = 0) -> float:
        """The uniform number for one decision at the current step (:mod:`collabsim.streams`)."""
        return uniform(self.key, purpose, self.step, occurrence)


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

    def next_gap(self, city: str) -> float:
        """Days until the next report from ``city`` (``inf`` for a zero rate)."""
        rate = self._rates[city]
        return self.rng.expovariate(rate) if rate > 0 else math.inf

    def new_case(self, city: str, now: float, warmup: float) -> Case:
        """Draw a new case reported now in ``city``."""
        a = self.scenario.arrivals
        r = self.rng
        case_type = self._types.pick(r.random())
        risk = self._risks.pick(r.random())
        channel = self._channels.pick(r.random())
        key = r.getrandbits(64)
        plan = self._plan(case_type, risk, key)
        entry = a.entry_channels[channel].service
        if entry is not None:
            plan.insert(0, entry)
        self.count += 1
        case = Case(
            self.count,
            city,
            case_type,
            risk,
            channel,
            now,
            plan,
            key,
            priority=0 if risk in self._first else 1,
            measured=now >= warmup,
            log=[] if self.trail == "full" else None,
            last_progress=now,
        )
        case.note(now, EventKind.REPORTED)
        return case

    def _plan(self, case_type: str, risk: str, key: int) -> list[str]:
        p = self.scenario.pathway
        n = 0
        if p.kind == "routing":
            steps = [self._entry.pick(uniform(key, Purpose.PLAN, 0, 0))]
            while len(steps) < p.max_steps:
                row = self._routing.get(steps[-1])
                n += 1
                x = uniform(key, Purpose.PLAN, 0, n)
                if row is None or x >= row.total:
                    break
                steps.append(row.pick(x))
            return steps
        mult = p.risk_multiplier.get(risk, {})
        plan = list(p.entry_steps)
        needs = p.plans[case_type]
        for svc in p.order:
            item = needs.get(svc)
            if item is None:
                continue
            need = uniform(key, Purpose.PLAN, 0, n)
            extra = _poisson(item.sessions - 1.0, uniform(key, Purpose.PLAN, 0, n + 1))
            n += 2
            if need < min(1.0, item.p * mult.get(svc, 1.0)):
                plan.extend([svc] * (1 + extra))
        plan.extend(p.closing_steps)
        return plan


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
