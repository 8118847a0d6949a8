"""The Agency agent: a government or community body that serves cases."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa

from collabsim.cases import Case

if TYPE_CHECKING:
    from collabsim.model import CollaborationModel

__all__ = ["Agency", "Job"]


@dataclass(slots=True, eq=False)
class Job:
    """A piece of work for an agency's staff: one service for one case.

    ``duration`` includes staff time on work a better-run system would not
    need (a fresh intake, a repeated assessment); ``outcome`` is the
    handover's outcome so far (1 = on time and right).
    """

    case: Case
    service: str
    duration: float
    referrer: int | None
    outcome: float
    reworks: int = 0


class Agency(mesa.Agent):
    """An agency: staff who serve cases one at a time (parallel servers).

    Attributes:
        index: position in the model's agency list and in the trust matrices.
        name: e.g. ``"puskesmas/Jakarta Timur/3"``.
        kind: the agency kind (the scenario's table name).
        city: its city, or ``"province"``.
        sector: e.g. health, police, social, pppa.
        services: what it offers.
        staff: staff on duty (servers), after vacancies.
        skill: chance a service is done right the first time.
        readiness: facility readiness (what others should believe of it).
        sectoral_ego: inclination to hold referrals from other sectors.
        reporting_discipline: chance it reports a completed service.
        case_manager: whether it manages cases (the hub).
    """

    model: CollaborationModel

    def __init__(
        self,
        model: CollaborationModel,
        *,
        index: int,
        name: str,
        kind: str,
        city: str,
        sector: str,
        services: frozenset[str],
        staff: int,
        skill: float,
        readiness: float,
        sectoral_ego: float,
        reporting_discipline: float,
        case_manager: bool,
    ) -> None:
        """Create an agency; see the class attributes."""
        super().__init__(model)
        self.index = index
        self.name = name
        self.kind = kind
        self.city = city
        self.sector = sector
        self.services = services
        self.staff = staff
        self.skill = skill
        self.readiness = readiness
        self.sectoral_ego = sectoral_ego
        self.reporting_discipline = reporting_discipline
        self.case_manager = case_manager
        self.busy = 0
        self.queue: list[tuple[int, float, int, Job]] = []
        self.busy_days = 0.0
        self.served = 0
        self.queue_area = 0.0
        self.system_area = 0.0
        self._tallied = 0.0

    def tally(self, now: float) -> None:
        """Add the time since the last change to the queue-length integrals.

        Only the measured window (after the warm-up, before the run's end) counts.
        """
        lo = max(self._tallied, self.model.warmup)
        hi = min(now, float(self.model.params.run.days))
        if hi > lo:
            waiting = len(self.queue)
            self.queue_area += waiting * (hi - lo)
            self.system_area += (waiting + self.busy) * (hi - lo)
        self._tallied = now

    @property
    def load(self) -> float:
        """Cases in service or waiting, per staff member."""
        return (self.busy + len(self.queue)) / self.staff

    def accept(self, job: Job, now: float, priority: int) -> None:
        """Start the job at once if a staff member is free, else queue it.

        Args:
            job: the work.
            now: current time.
            priority: lower is served first (high risk before medium).
        """
        self.tally(now)
        if self.busy < self.staff:
            self.busy += 1
            self.model.start_job(self, job, now)
        else:
            heapq.heappush(self.queue, (priority, now, job.case.id, job))
            job.case.note(now, "queued", self.index, job.service)

    def release(self, now: float) -> None:
        """A staff member is free: take the next queued job, if any."""
        self.tally(now)
        if self.queue:
            job = heapq.heappop(self.queue)[3]
            self.model.start_job(self, job, now)
        else:
            self.busy -= 1
