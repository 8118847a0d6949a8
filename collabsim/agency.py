"""The Agency agent: a government or community body that serves cases and refers them on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from heapq import heapify, heappop, heappush

import mesa

from collabsim.barriers import EgoDecision, Extra, FacilityDistrust, SectoralEgo, SopFragmentation
from collabsim.calendar import Clockwork, Continuous, round_the_clock
from collabsim.cases import Track
from collabsim.dynamics import CollaborationState
from collabsim.network import AgencySpec
from collabsim.scenario import AgencyTemplate, Choice
from collabsim.streams import Purpose

__all__ = ["BACKGROUND", "URGENT", "Agency", "Job", "Pool"]

_GOLDEN = 0.6180339887  # spreads the tie-break noise of candidates drawn from one number
URGENT = 0
"""Queue priority of urgent work (then the case's priority: 1 for its risk level served first)."""
BACKGROUND = 2
"""Queue priority of background work: with every case not served first, in arrival order."""


@dataclass(slots=True, eq=False)
class Job:
    """A piece of work for an agency: one service for one track of a case, or background work.

    Attributes:
        track: the case's track, or ``None`` for background work (not a traced case).
        service: the service.
        duration: staff time in staff-days (a stay: days in a bed), including
            work a better-run system would not need (a fresh intake, a
            repeated assessment).
        referrer: the agency that handed the case over, if any.
        outcome: the handover's outcome so far (1 = on time and right).
        drawn: the service's own duration, as drawn (without the extra work).
        priority: its place in the queue (0 first).
        stay: a bed, not staff.
        reworks: times it was done again.
        started: when it last started.
        placed: an urgent stay whose case went on as soon as the child was placed
            (the bed stays taken until the stay ends).
    """

    track: Track | None
    service: str
    duration: float
    referrer: int | None
    outcome: float
    drawn: float = 0.0
    priority: int = 2
    stay: bool = False
    reworks: int = 0
    started: float = 0.0
    placed: bool = False


class Pool:
    """Parallel servers (staff on duty, on-call staff, or beds) with one queue.

    Args:
        servers: how many.
        clockwork: how their work turns into time (working hours, or round the clock).
        window: the measured window, for the pool's statistics.
    """

    __slots__ = (
        "_areas", "_earlier", "_tallied", "_window", "busy", "clockwork", "queue", "servers",
        "since", "work",
    )  # fmt: skip

    def __init__(self, servers: int, clockwork: Clockwork, window: tuple[float, float]) -> None:
        """An idle pool."""
        self.servers = servers
        self.clockwork = clockwork
        self.busy = 0
        self.queue: list[tuple[int, float, int, Job]] = []
        self.work = 0.0  # staff-days (bed-days) served in the measured window
        self._window = window
        self._areas = [0.0, 0.0]  # time-integrals of jobs waiting and of jobs present
        self._tallied = 0.0
        self._earlier = 0.0  # capacity in the window before the last resize
        self.since = 0.0  # the last resize

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

    def accept(self, job: Job, now: float, order: int) -> bool:
        """Take a job: start it if a server is free (True), else queue it (False)."""
        if now > self._tallied:
            self._tally(now)
        if self.busy < self.servers:
            self.busy += 1
            return True
        heappush(self.queue, (job.priority, now, order, job))
        return False

    def release(self, now: float) -> Job | None:
        """A server is free: the next queued job for it to start, if any."""
        if now > self._tallied:
            self._tally(now)
        if self.queue and self.busy <= self.servers:
            return heappop(self.queue)[3]
        self.busy -= 1
        return None

    def withdraw(self, entry: tuple[int, float, int, Job], now: float) -> None:
        """Take a queued job out of the queue (its case goes elsewhere)."""
        self._tally(now)
        self.queue.remove(entry)
        heapify(self.queue)

    def account(self, start: float, end: float) -> None:
        """Add the work of a job from ``start`` to ``end`` that falls in the measured window."""
        lo, hi = self._window
        if start > lo:
            lo = start
        if end < hi:
            hi = end
        if hi > lo:
            self.work += self.clockwork.worked(lo, hi)

    def capacity(self, now: float) -> float:
        """Staff-days (bed-days) the servers could have worked in the measured window up to now."""
        lo, hi = self._window
        lo, hi = max(lo, self.since), min(now, hi)
        return self._earlier + (self.servers * self.clockwork.worked(lo, hi) if hi > lo else 0.0)

    def resize(self, servers: int, now: float) -> list[Job]:
        """Change the number of servers; the queued jobs that new servers start at once.

        With fewer servers, busy ones finish their jobs and are not replaced.
        """
        self._earlier = self.capacity(now)
        self.since = now
        self.servers = servers
        start = []
        while self.queue and self.busy < servers:
            self._tally(now)
            self.busy += 1
            start.append(heappop(self.queue)[3])
        return start

    def integrals(self, now: float) -> tuple[float, float]:
        """Time-integrals, over the measured window up to ``now``, of jobs waiting and present."""
        lo, hi = max(self._tallied, self._window[0]), min(now, self._window[1])
        span = max(0.0, hi - lo)
        waiting = len(self.queue)
        return self._areas[0] + waiting * span, self._areas[1] + (waiting + self.busy) * span


class Agency(mesa.Agent):
    """An agency: staff who serve cases (parallel servers), maybe beds, and its decisions.

    Args:
        model: the Mesa model.
        index: position in the model's agency list.
        spec: its name, kind and city.
        template: its kind's parameters.
        staff: staff on duty (after vacancies).
        clockwork: how its staff's work turns into time (its working hours).
        window: the measured window (warm-up end, run end), for its statistics.

    Attributes:
        index: position in the model's agency list.
        name: e.g. ``"puskesmas/Jakarta Timur/3"``.
        kind: the agency kind (the scenario's table name).
        city: its place: a city, a region or ``"province"``.
        sector: e.g. health, police, social, pppa.
        services: what it offers.
        skill: chance a service is done right the first time.
        sectoral_ego: inclination to hold referrals from other sectors.
        reporting_discipline: chance it reports a completed service.
        case_manager: whether it manages cases (the hub).
        joint_interview: the child is interviewed once here, whatever the services.
        posts: its staff posts (filled or not).
        staff: the staff on duty; ``on_call`` the staff who take urgent work out of
            hours; ``beds`` the beds; each a :class:`Pool`, ``on_call`` and
            ``beds`` possibly of size 0.
        served: services done in the measured window.
    """

    def __init__(
        self,
        model: mesa.Model,
        index: int,
        spec: AgencySpec,
        template: AgencyTemplate,
        staff: int,
        clockwork: Clockwork,
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
        self.skill = template.skill
        self.sectoral_ego = template.sectoral_ego
        self.reporting_discipline = template.reporting_discipline
        self.case_manager = template.case_manager
        self.joint_interview = template.joint_interview
        self.posts = template.staff
        self.staff = Pool(staff, clockwork, window)
        self.on_call = Pool(template.on_call, round_the_clock(clockwork), window)
        self.beds = Pool(template.beds, Continuous(), window)
        self.served = 0

    @property
    def load(self) -> float:
        """Cases in service or waiting, per staff member."""
        s = self.staff
        return (s.busy + len(s.queue)) / s.servers

    def pool(self, job: Job) -> Pool:
        """Where a job goes: a bed, the on-call staff (urgent work), or the staff on duty."""
        if job.stay:
            return self.beds
        if job.priority == URGENT and self.on_call.servers:
            return self.on_call
        return self.staff

    @property
    def pools(self) -> tuple[Pool, Pool, Pool]:
        """Staff, on-call staff and beds."""
        return self.staff, self.on_call, self.beds

    # -------------------------------------------------------- decisions
    def choose_provider(
        self,
        track: Track,
        candidates: Sequence[Agency],
        state: CollaborationState,
        weights: Choice,
        local: frozenset[str],
        distrust: FacilityDistrust,
    ) -> Agency:
        """Whom to refer a track's next service to.

        The referrer scores each provider it can reach by a formal SOP link,
        its trust in it, its belief in its readiness, its load and whether it
        serves the case's city (``local``: its city, region or the province;
        with a little noise to break ties), and takes the best, unless it
        doubts the best one's facilities (barrier 6) and takes the second.
        """
        excluded = track.excluded
        pool = (excluded and [c for c in candidates if c.index not in excluded]) or candidates
        if len(pool) == 1:
            return pool[0]
        u = track.draw(Purpose.CHOICE, track.sends)
        i = self.index
        w_sop, w_trust, w_ready = weights.sop, weights.trust, weights.readiness
        w_load, w_city, w_noise = weights.load, weights.same_city, weights.noise
        standing = state.standing(i, [c.index for c in pool])
        scored = []
        for k, (c, (formal, trust, ready)) in enumerate(zip(pool, standing, strict=True)):
            s = c.staff
            score = (
                w_sop * formal
                + w_trust * trust
                + w_ready * ready
                - w_load * ((s.busy + len(s.queue)) / s.servers)
                + w_city * (c.city in local)
                + w_noise * ((u + _GOLDEN * k) % 1.0)
            )
            scored.append((-score, k, c))
        scored.sort()  # by score, then place (unique: agencies are never compared)
        best = scored[0][2]
        if distrust.bypass(track, i, best.index):
            return scored[1][2]
        return best

    def consider_referral(
        self, track: Track, sender: Agency, ego: SectoralEgo
    ) -> EgoDecision | None:
        """Whether to hold or refuse a referral: sectoral ego acts only across sectors."""
        if sender.sector == self.sector:
            return None
        return ego.receive(track, sender.index, self.index, self.sectoral_ego)

    def own_intake(self, track: Track, sop: SopFragmentation, formality: float) -> Extra | None:
        """Whether to run an own intake on a case taken over for the first time (barrier 5)."""
        if self.index in track.case.seen:
            return None
        return sop.reintake(track, self.index, formality)
