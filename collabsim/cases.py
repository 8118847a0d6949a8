"""Cases: plain data with a referral trail, and the synthetic case generator.

Cases are not agents: they are many and passive, moved by agencies. Every
case is synthetic; nothing here describes a real child.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import NamedTuple

from collabsim.scenario import Distribution, Scenario

__all__ = ["Case", "CaseEvent", "CaseGenerator", "draw_duration"]

_NORMAL = NormalDist()


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


class CaseEvent(NamedTuple):
    """One entry in a case's referral trail."""

    time: float
    kind: str
    agency: int | None
    detail: str = ""
    days: float = 0.0


@dataclass(slots=True, eq=False)
class Case:
    """A synthetic case of violence against a child and its trail through the system.

    Attributes:
        id: sequence number.
        city: the city of the report.
        case_type: the violence type.
        risk: the risk level (``high`` is served first in queues).
        channel: the entry channel.
        reported_at: report time in days.
        plan: the services the case needs, in order.
        rng: the case's own random stream (common random numbers across scenarios).
        service_days: staff time of the case's finished service attempts (a
            redone service counts each time; re-intake and duplicated
            assessment time included).
    """

    id: int
    city: str
    case_type: str
    risk: str
    channel: str
    reported_at: float
    plan: list[str]
    rng: random.Random
    step: int = -1
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
    log: list[CaseEvent] = field(default_factory=list)

    def note(
        self, time: float, kind: str, agency: int | None = None, detail: str = "", days: float = 0.0
    ) -> None:
        """Append an event to the trail (``days``: staff time it adds, where it adds some)."""
        self.log.append(CaseEvent(time, kind, agency, detail, days))


def _pick(shares: dict[str, float], u: float) -> str:
    acc = 0.0
    last = ""
    for key, share in shares.items():
        acc += share
        last = key
        if u < acc:
            return key
    return last


class CaseGenerator:
    """Draws arrivals (a Poisson process per city) and each case's plan.

    The generator owns its random stream, so two scenarios run with the same
    seed see the same cases at the same times (common random numbers) as long
    as their arrival parameters agree.
    """

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        """Set up the generator.

        Args:
            scenario: the scenario.
            rng: the arrival stream.
        """
        self.scenario = scenario
        self.rng = rng
        self.count = 0
        self._rates = {c: r / 365.0 for c, r in scenario.arrivals.cases_per_year.items()}

    def next_gap(self, city: str) -> float:
        """Days until the next report from ``city`` (``inf`` for a zero rate)."""
        rate = self._rates[city]
        return self.rng.expovariate(rate) if rate > 0 else math.inf

    def new_case(self, city: str, now: float) -> Case:
        """Draw a new case reported now in ``city``."""
        a = self.scenario.arrivals
        r = self.rng
        case_type = _pick(a.case_types, r.random())
        risk = _pick(a.risk, r.random())
        channel = _pick({k: v.share for k, v in a.entry_channels.items()}, r.random())
        case_rng = random.Random(r.getrandbits(64))
        plan = self._plan(case_type, risk, case_rng)
        entry = a.entry_channels[channel].service
        if entry is not None:
            plan.insert(0, entry)
        self.count += 1
        case = Case(self.count, city, case_type, risk, channel, now, plan, case_rng)
        case.last_progress = now
        case.note(now, "reported", None, f"{case_type}, {risk} risk, via {channel}")
        return case

    def _plan(self, case_type: str, risk: str, rng: random.Random) -> list[str]:
        p = self.scenario.pathway
        if p.kind == "routing":
            steps = [_pick(p.entry, rng.random())]
            while len(steps) < p.max_steps:
                row = p.routing.get(steps[-1], {})
                u = rng.random()
                if u >= sum(row.values()):
                    break
                steps.append(_pick(row, u))
            return steps
        mult = p.risk_multiplier.get(risk, {})
        plan = list(p.entry_steps)
        needs = p.plans[case_type]
        for svc in p.order:
            item = needs.get(svc)
            if item is None:
                continue
            u = rng.random()
            extra = _poisson(item.sessions - 1.0, rng.random())
            if u < min(1.0, item.p * mult.get(svc, 1.0)):
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
