"""The Agency agent: a government or community body that serves cases and refers them on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from heapq import heappop, heappush

import mesa

from collabsim.barriers import EgoDecision, Extra, FacilityDistrust, SectoralEgo, SopFragmentation
from collabsim.cases import Case
from collabsim.dynamics import CollaborationState
from collabsim.network import AgencySpec
from collabsim.scenario import AgencyTemplate, Choice
from collabsim.streams import Purpose

__all__ = ["Agency", "Job"]

_GOLDEN = 0.6180339887  # spreads the tie-break noise of candidates drawn from one number


@dataclass(slots=True, eq=False)
class Job:
    """A piece of work for an agency's staff: one service for one case.

    Attributes:
        case: the case.
        service: the service.
        duration: staff time, including work a better-run system would not
            need (a fresh intake, a repeated assessment).
        referrer: the agency that handed the case over, if any.
        outcome: the handover's outcome so far (1 = on time and right).
        drawn: the service's own duration, as drawn (without the extra work).
        reworks: times it was done again.
    """

    case: Case
    service: str
    duration: float
    referrer: int | None
    outcome: float
    drawn: float = 0.0
    reworks: int = 0


class Agency(mesa.Agent):
    """An agency: staff who serve cases one at a time (parallel servers), and its decisions.

    Args:
        model: the Mesa model.
        index: position in the model's agency list.
        spec: its name, kind and city.
        template: its kind's parameters.
        staff: staff on duty (after vacancies).
        window: the measured window (warm-up end, run end), for its statistics.

    Attributes:
        index: position in the model's agency list.
        name: e.g. ``"puskesmas/Jakarta Timur/3"``.
        kind: the agency kind (the scenario's table name).
        city: its city, or ``"province"``.
        sector: e.g. health, police, social, pppa.
        services: what it offers.
        staff: staff on duty (servers), after vacancies.
        skill: chance a service is done right the first time.
        sectoral_ego: inclination to hold referrals from other sectors.
        reporting_discipline: chance it reports a completed service.
        case_manager: whether it manages cases (the hub).
        busy: staff serving now.
        queue: jobs waiting, by priority and arrival.
        busy_days, served: staff time and services done in the measured window.
    """

    def __init__(
        self,
        model: mesa.Model,
        index: int,
        spec: AgencySpec,
        template: AgencyTemplate,
        staff: int,
        window: tuple[float, float],
    ) -> None:
        """Create an agency; see the class attributes."""
        super().__init__(model)
        self.index = index
        self.name = spec.name
        self.kind = spec.kind
        self.city = spec.city
        self.sector = template.sector
        self.services = frozenset(template.services)
        self.staff = staff
        self.skill = template.skill
        self.sectoral_ego = template.sectoral_ego
        self.reporting_discipline = template.reporting_discipline
        self.case_manager = template.case_manager
        self.busy = 0
        self.queue: list[tuple[int, float, int, Job]] = []
        self.busy_days = 0.0
        self.served = 0
        self._window = window
        self._areas = [0.0, 0.0]  # time-integrals of jobs waiting and of jobs present
        self._tallied = 0.0

    # ---------------------------------------------------------- servers
    @property
    def load(self) -> float:
        """Cases in service or waiting, per staff member."""
        return (self.busy + len(self.queue)) / self.staff

    def _tally(self, now: float) -> None:
        lo, hi = self._window
        if self._tallied > lo:
            lo = self._tallied
        if now < hi:
            hi = now
        if hi > lo:
            waiting = len(self.queue)
            self._areas[0] += waiting * (hi - lo)
            self._areas[1] += (waiting + self.busy) * (hi - lo)
        self._tallied = now

    def accept(self, job: Job, now: float) -> bool:
        """Take a job: start it if a staff member is free (True), else queue it (False)."""
        self._tally(now)
        if self.busy < self.staff:
            self.busy += 1
            return True
        heappush(self.queue, (job.case.priority, now, job.case.id, job))
        return False

    def release(self, now: float) -> Job | None:
        """A staff member is free: the next queued job for them to start, if any."""
        self._tally(now)
        if self.queue:
            return heappop(self.queue)[3]
        self.busy -= 1
        return None

    def account(self, start: float, duration: float) -> None:
        """Add the staff time of a job started at ``start`` that falls in the measured window."""
        lo, hi = self._window
        end = start + duration
        if start > lo:
            lo = start
        if end < hi:
            hi = end
        if hi > lo:
            self.busy_days += hi - lo

    def queue_integrals(self, now: float) -> tuple[float, float]:
        """Time-integrals, over the measured window up to ``now``, of jobs waiting and present."""
        lo, hi = max(self._tallied, self._window[0]), min(now, self._window[1])
        span = max(0.0, hi - lo)
        waiting = len(self.queue)
        return self._areas[0] + waiting * span, self._areas[1] + (waiting + self.busy) * span

    # -------------------------------------------------------- decisions
    def choose_provider(
        self,
        case: Case,
        candidates: Sequence[Agency],
        state: CollaborationState,
        weights: Choice,
        local: frozenset[str],
        sop_links: set[tuple[int, int]],
        distrust: FacilityDistrust,
    ) -> Agency:
        """Whom to refer the case's next service to.

        The referrer scores each provider it can reach by a formal SOP link,
        its trust in it, its belief in its readiness, its load and whether it
        serves the case's city (``local``: its city, region or the province;
        with a little noise to break ties), and takes
        the best, unless it doubts the best one's facilities (barrier 6) and
        takes the second.
        """
        pool = [c for c in candidates if c.index not in case.excluded] or list(candidates)
        if len(pool) == 1:
            return pool[0]
        u = case.draw(Purpose.CHOICE, case.sends)
        i = self.index
        scored = []
        for k, c in enumerate(pool):
            j = c.index
            score = (
                weights.sop * ((i, j) in sop_links)
                + weights.trust * state.trust(i, j)
                + weights.readiness * state.readiness(i, j)
                - weights.load * c.load
                + weights.same_city * (c.city in local)
                + weights.noise * ((u + _GOLDEN * k) % 1.0)
            )
            scored.append((-score, k, c))
        scored.sort(key=lambda x: (x[0], x[1]))
        best = scored[0][2]
        if distrust.bypass(case, i, best.index):
            return scored[1][2]
        return best

    def consider_referral(self, case: Case, sender: Agency, ego: SectoralEgo) -> EgoDecision | None:
        """Whether to hold or refuse a referral: sectoral ego acts only across sectors."""
        if sender.sector == self.sector:
            return None
        return ego.receive(case, sender.index, self.index, self.sectoral_ego)

    def own_intake(self, case: Case, sop: SopFragmentation, formal_link: bool) -> Extra | None:
        """Whether to run an own intake on a case taken over for the first time (barrier 5)."""
        if self.index in case.seen:
            return None
        return sop.reintake(case, self.index, formal_link)
