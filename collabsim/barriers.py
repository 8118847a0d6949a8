"""The seven barriers the study found, each a named, switchable mechanism in one place.

Each barrier's class holds its decision (a chance that reads the
collaboration state), its consequence (a delay, a penalty on the handover's
outcome, extra staff work, a re-queue) and the event it leaves on the case and
in :class:`BarrierEvents`, the one count that the summary, the daily series
and the app all read. Each draws its uniform numbers from the case's own
stream, keyed by the decision (:mod:`collabsim.streams`), and is off, drawing
nothing, at ``intensity = 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from collabsim.cases import Case, EventKind, draw_duration, sample
from collabsim.dynamics import Clock, CollaborationState
from collabsim.scenario import BARRIER_NAMES, Distribution, Scenario, Service
from collabsim.streams import Purpose

__all__ = [
    "BARRIER_EVENT_KINDS",
    "BarrierEvents",
    "Barriers",
    "EgoDecision",
    "Extra",
    "FacilityDistrust",
    "Miscommunication",
    "Mishap",
    "MissingReports",
    "Resources",
    "Rework",
    "SectoralEgo",
    "SopFragmentation",
    "TaskDuplication",
]

BARRIER_EVENT_KINDS: dict[str, tuple[EventKind, ...]] = {
    "miscommunication": (
        EventKind.REFERRAL_LATE, EventKind.REFERRAL_MISROUTED, EventKind.REFERRAL_LOST,
    ),
    "task_duplication": (EventKind.DUPLICATED_ASSESSMENT,),
    "missing_reports": (EventKind.UNREPORTED, EventKind.UNRECORDED),
    "sectoral_ego": (EventKind.HELD, EventKind.REFUSED),
    "sop": (EventKind.REINTAKE,),
    "facility_distrust": (EventKind.BYPASS,),
    "resources": (EventKind.REWORK,),
}  # fmt: skip
"""Which case events each barrier leaves (one per counted barrier event)."""


def _exponential(mean: float, u: float) -> float:
    return -mean * math.log(1.0 - u)


class BarrierEvents:
    """How often each barrier acted: over all cases, and over the measured ones.

    Attributes:
        all: per barrier, events of every case (warm-up included).
        measured: per barrier, events of cases reported after the warm-up;
            the summary's ``barrier_events``.
    """

    def __init__(self) -> None:
        """Every count at zero."""
        self.all = dict.fromkeys(BARRIER_NAMES, 0)
        self.measured = dict.fromkeys(BARRIER_NAMES, 0)

    def add(self, barrier: str, case: Case) -> None:
        """Count one event of ``barrier`` on ``case``."""
        self.all[barrier] += 1
        if case.measured:
            self.measured[barrier] += 1


@dataclass(frozen=True, slots=True)
class Mishap:
    """What miscommunication did to a referral.

    Attributes:
        kind: late, misrouted or lost.
        delay: days until it arrives (late, misrouted); 0 when lost.
        penalty: what it takes off the handover's outcome.
    """

    kind: EventKind
    delay: float
    penalty: float


@dataclass(frozen=True, slots=True)
class EgoDecision:
    """A referral held or refused out of sectoral ego.

    Attributes:
        refused: refused (the referrer must find another provider) or held.
        delay: days held, or until the referrer learns of the refusal.
        penalty: what a hold takes off the handover's outcome.
    """

    refused: bool
    delay: float
    penalty: float


@dataclass(frozen=True, slots=True)
class Extra:
    """Work a better-run system would not need: staff days, and interviews of the child."""

    days: float
    interviews: int


@dataclass(frozen=True, slots=True)
class Rework:
    """A service not done right: redone after ``wait`` days, taking ``duration`` again."""

    duration: float
    wait: float
    penalty: float


class Timing(Protocol):
    """A service's duration and lag."""

    @property
    def duration(self) -> Distribution: ...

    @property
    def lag(self) -> Distribution: ...


class _Barrier:
    name = ""

    def __init__(
        self, scenario: Scenario, state: CollaborationState, events: BarrierEvents, clock: Clock
    ) -> None:
        self.scenario = scenario
        self.state = state
        self.events = events
        self.clock = clock
        self.p = getattr(scenario.barriers, self.name)
        self.on = self.p.intensity > 0.0

    def _count(
        self,
        case: Case,
        kind: EventKind,
        agency: int | None,
        days: float = 0.0,
        other: int | None = None,
    ) -> None:
        """Count one event of this barrier and leave it on the case."""
        self.events.add(self.name, case)
        case.note(self.clock.now, kind, agency, case.plan[case.step], days, other)


class Miscommunication(_Barrier):
    """Barrier 1, miscommunication between actors.

    Finding: referrals go astray between agencies. Assumption: the chance is
    ``intensity * channel_rate * (1 - U[i, j])`` (a poorer channel and less
    mutual understanding make it likelier); the referral is then late (it
    arrives after an extra exponential ``late_days``), misrouted (sent to the
    wrong agency and bounced back: ``misroute_latency_factor`` times the
    channel's latency plus an exponential ``misroute_days``) or lost (found at
    the referrer's next follow-up and sent again), in the scenario's shares;
    each lowers the handover's outcome by its penalty.
    """

    name = "miscommunication"

    def referral(self, case: Case, i: int, j: int, latency: float, rate: float) -> Mishap | None:
        """What happens to a referral from i to j over a channel of ``latency`` and ``rate``."""
        p = self.p
        if not self.on or rate <= 0.0:
            return None
        chance = p.intensity * rate * (1.0 - self.state.understanding(i, j))
        if case.draw(Purpose.MISCOMMUNICATION, case.sends) >= chance:
            return None
        v = case.draw(Purpose.MISHAP, case.sends)
        u = case.draw(Purpose.DELAY, case.sends)
        if v < p.late_share:
            mishap = Mishap(EventKind.REFERRAL_LATE, latency + _exponential(p.late_days, u),
                            p.late_penalty)  # fmt: skip
        elif v < p.late_share + p.misrouted_share:
            delay = p.misroute_latency_factor * latency + _exponential(p.misroute_days, u)
            mishap = Mishap(EventKind.REFERRAL_MISROUTED, delay, p.misrouted_penalty)
        else:
            mishap = Mishap(EventKind.REFERRAL_LOST, 0.0, p.lost_penalty)
        self._count(case, mishap.kind, j, max(0.0, mishap.delay - latency), i)
        return mishap


class TaskDuplication(_Barrier):
    """Barrier 2, duplication of tasks.

    Finding: a receiving agency may repeat work already done. Assumption: an
    agency receiving a case another agency has assessed repeats the assessment
    (its staff time, and the child interviewed again) with chance
    ``intensity * (1 - T[j, i])``: it redoes what it does not trust.
    """

    name = "task_duplication"

    def duplicate(self, case: Case, i: int, j: int, service: str) -> Extra | None:
        """Whether j, taking ``service`` of the case over from i, repeats the assessment."""
        p = self.p
        if not self.on or service == p.service or case.assessed_by in (None, j):
            return None
        if case.draw(Purpose.DUPLICATION) >= p.intensity * (1.0 - self.state.trust(j, i)):
            return None
        spec: Service = self.scenario.services[p.service]
        days = draw_duration(spec.duration, case.draw(Purpose.DUPLICATION_DURATION))
        self._count(case, EventKind.DUPLICATED_ASSESSMENT, j, days, i)
        return Extra(days, int(spec.interviews_child))


class MissingReports(_Barrier):
    """Barrier 3, no routine reporting.

    Finding: agencies do not report case status routinely. Assumption: a
    completed service goes unreported with chance
    ``intensity * (1 - reporting_discipline)``, never with a shared case
    information system (reports are automatic); the case manager then learns
    of it only at the next periodic follow-up, and a case whose registration
    goes unreported is missing from the recorded statistics.
    """

    name = "missing_reports"

    def _missing(self, case: Case, j: int, discipline: float, purpose: Purpose) -> bool:
        if not self.on or self.scenario.shared_case_system:
            return False
        chance = self.p.intensity * (1.0 - discipline)
        if case.draw(purpose, case.attempt) >= chance:
            return False
        kind = EventKind.UNREPORTED if purpose is Purpose.REPORT else EventKind.UNRECORDED
        self._count(case, kind, j)
        return True

    def unreported(self, case: Case, j: int, discipline: float) -> bool:
        """Whether a service j completed goes unreported to the case manager."""
        return self._missing(case, j, discipline, Purpose.REPORT)

    def unrecorded(self, case: Case, j: int, discipline: float) -> bool:
        """Whether the case's registration by j goes unreported to the case system."""
        return self._missing(case, j, discipline, Purpose.RECORD)


class SectoralEgo(_Barrier):
    """Barrier 4, sectoral ego.

    Finding: agencies put their own sector first. Assumption: a referral from
    another sector is held or refused with chance
    ``intensity * ego_j * (1 - T[j, i])``, refused in ``refuse_share``. A hold
    lasts an exponential ``hold_days`` and lowers the handover's outcome by
    ``hold_penalty``; a refusal is known to the referrer after
    ``refusal_notice_days``, counts as a failed handover (outcome 0) for trust,
    and the referrer looks for another provider.
    """

    name = "sectoral_ego"

    def receive(self, case: Case, i: int, j: int, ego: float) -> EgoDecision | None:
        """Whether j holds or refuses a referral from i (of another sector)."""
        p = self.p
        if not self.on or ego <= 0.0:
            return None
        chance = p.intensity * ego * (1.0 - self.state.trust(j, i))
        if case.draw(Purpose.EGO, case.sends) >= chance:
            return None
        if case.draw(Purpose.EGO_OUTCOME, case.sends) < p.refuse_share:
            self._count(case, EventKind.REFUSED, j, p.refusal_notice_days, i)
            self.state.handover(i, j, 0.0)
            return EgoDecision(True, p.refusal_notice_days, 0.0)
        delay = _exponential(p.hold_days, case.draw(Purpose.HOLD, case.sends))
        self._count(case, EventKind.HELD, j, delay, i)
        return EgoDecision(False, delay, p.hold_penalty)


class SopFragmentation(_Barrier):
    """Barrier 5, collaboration SOPs that are not integrated.

    Finding: each agency runs its own procedure. Assumption: an agency taking
    over a case for the first time runs its own intake (its staff time, and the
    child retells the story) with chance ``intensity`` (one minus SOP
    integration), times ``formal_link_factor`` on a link with a formal SOP.
    """

    name = "sop"

    def reintake(self, case: Case, j: int, formal_link: bool) -> Extra | None:
        """Whether j runs its own intake on the case's next service."""
        p = self.p
        if not self.on or case.plan[case.step] == p.service:
            return None
        chance = p.intensity * (p.formal_link_factor if formal_link else 1.0)
        if case.draw(Purpose.REINTAKE) >= chance:
            return None
        spec = self.scenario.services[p.service]
        days = draw_duration(spec.duration, case.draw(Purpose.REINTAKE_DURATION))
        self._count(case, EventKind.REINTAKE, j, days)
        return Extra(days, int(spec.interviews_child))


class FacilityDistrust(_Barrier):
    """Barrier 6, doubt that other actors' facilities are ready.

    Finding: some actors are not convinced other actors' facilities are
    ready. Assumption: referrer i passes over its best provider j with chance
    ``intensity * (1 - R[i, j])``, where ``R`` is i's belief in j's
    readiness, learnt from the services it sees; the work goes to the next best.
    """

    name = "facility_distrust"

    def bypass(self, case: Case, i: int, j: int) -> bool:
        """Whether i passes over j."""
        if not self.on:
            return False
        chance = self.p.intensity * (1.0 - self.state.readiness(i, j))
        if case.draw(Purpose.BYPASS, case.sends) >= chance:
            return False
        self._count(case, EventKind.BYPASS, i, other=j)
        return True


class Resources(_Barrier):
    """Barrier 7, resources short in quantity (vacant posts) and quality (rework).

    Assumption, quantity: ``vacancy_rate * intensity`` of each agency's posts
    are unfilled (at least one person stays on duty). Assumption, quality: a
    service must be redone with chance ``intensity * (1 - skill)``: the child
    comes back after the service's usual lag and queues again, and the
    handover's outcome drops by ``rework_penalty`` (Campello et al.: raising
    the chance a case is completed cuts waits more than working faster).
    """

    name = "resources"

    def __init__(
        self, scenario: Scenario, state: CollaborationState, events: BarrierEvents, clock: Clock
    ) -> None:
        """Bind the parameters; no post is vacant yet."""
        super().__init__(scenario, state, events, clock)
        self.vacant_posts = 0

    def staff_on_duty(self, staff: int) -> int:
        """Staff on duty of an agency with ``staff`` posts."""
        p = self.p
        filled = max(1, int(staff * (1.0 - p.intensity * p.vacancy_rate) + 0.5))
        self.vacant_posts += staff - filled
        return filled

    def rework(self, case: Case, j: int, skill: float, spec: Timing) -> Rework | None:
        """Whether the service j just finished must be redone, and how."""
        if not self.on:
            return None
        if case.draw(Purpose.REWORK, case.attempt) >= self.p.intensity * (1.0 - skill):
            return None
        nxt = case.attempt + 1  # the redo's own draws
        duration = sample(spec.duration, case, Purpose.DURATION, nxt)
        wait = sample(spec.lag, case, Purpose.LAG, case.attempt)
        self._count(case, EventKind.REWORK, j, wait)
        return Rework(duration, wait, self.p.rework_penalty)


class Barriers:
    """The seven mechanisms of one run and their one event count.

    Attributes:
        events: how often each acted (all cases, and measured cases).
    """

    def __init__(self, scenario: Scenario, state: CollaborationState, clock: Clock) -> None:
        """Bind every mechanism to the scenario, the collaboration state and the clock."""
        self.events = BarrierEvents()
        args = (scenario, state, self.events, clock)
        self.miscommunication = Miscommunication(*args)
        self.task_duplication = TaskDuplication(*args)
        self.missing_reports = MissingReports(*args)
        self.sectoral_ego = SectoralEgo(*args)
        self.sop = SopFragmentation(*args)
        self.facility_distrust = FacilityDistrust(*args)
        self.resources = Resources(*args)


def _check() -> None:  # the barrier classes and the scenario's sections name the same seven
    names = {c.name for c in _Barrier.__subclasses__()}
    if names != set(BARRIER_NAMES) or set(BARRIER_EVENT_KINDS) != set(BARRIER_NAMES):
        raise RuntimeError(f"barrier classes {sorted(names)} do not match {BARRIER_NAMES}")


_check()
