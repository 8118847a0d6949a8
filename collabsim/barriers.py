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

from collabsim.cases import Case, EventKind, Track, draw_duration, sample
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
        self.automatic: frozenset[int] = frozenset()  # agencies on a shared case system

    @property
    def integration(self) -> float:
        """How far SOPs are joint: procedural arrangements now (1 with the SOP barrier off)."""
        return self.state.procedural

    def _count(
        self,
        track: Track,
        kind: EventKind,
        agency: int | None,
        days: float = 0.0,
        other: int | None = None,
    ) -> None:
        """Count one event of this barrier and leave it on the track's case."""
        self.events.add(self.name, track.case)
        track.note(self.clock.now, kind, agency, days, other)


class Miscommunication(_Barrier):
    """Barrier 1, miscommunication between actors.

    Finding: referrals go astray between agencies. Assumption: the chance is
    ``intensity * channel_rate * (1 - U[i, j])`` (a poorer channel and less
    mutual understanding make it likelier); the referral is then late (it
    arrives after an extra exponential ``late_days``), misrouted (sent to the
    wrong agency and bounced back: ``misroute_latency_factor`` times the
    channel's latency plus an exponential ``misroute_days``) or lost (found at
    the referrer's next follow-up and sent again), in the scenario's shares;
    each lowers the handover's outcome by its penalty. Integrated SOPs (a
    joint referral form and procedure) lower the chance by
    ``sop.miscommunication_effect`` at full integration.
    """

    name = "miscommunication"

    def referral(self, track: Track, i: int, j: int, latency: float, rate: float) -> Mishap | None:
        """What happens to a referral from i to j over a channel of ``latency`` and ``rate``."""
        p = self.p
        if not self.on or rate <= 0.0:
            return None
        chance = p.intensity * rate * (1.0 - self.state.understanding(i, j))
        chance *= 1.0 - self.integration * self.scenario.barriers.sop.miscommunication_effect
        if track.draw(Purpose.MISCOMMUNICATION, track.sends) >= chance:
            return None
        v = track.draw(Purpose.MISHAP, track.sends)
        u = track.draw(Purpose.DELAY, track.sends)
        if v < p.late_share:
            mishap = Mishap(EventKind.REFERRAL_LATE, latency + _exponential(p.late_days, u),
                            p.late_penalty)  # fmt: skip
        elif v < p.late_share + p.misrouted_share:
            delay = p.misroute_latency_factor * latency + _exponential(p.misroute_days, u)
            mishap = Mishap(EventKind.REFERRAL_MISROUTED, delay, p.misrouted_penalty)
        else:
            mishap = Mishap(EventKind.REFERRAL_LOST, 0.0, p.lost_penalty)
        self._count(track, mishap.kind, j, max(0.0, mishap.delay - latency), i)
        return mishap


class TaskDuplication(_Barrier):
    """Barrier 2, duplication of tasks.

    Finding: a receiving agency may repeat work already done. Assumption: an
    agency receiving a case another agency has assessed repeats the assessment
    (its staff time, and the child interviewed again) with chance
    ``intensity * (1 - T[j, i]) * discretion_j``: it redoes what it does not
    trust (``discretion_j``: :meth:`CollaborationState.discretion`, j's
    commitment against the commitment as found). Integrated
    SOPs (a shared assessment) lower the chance by ``sop.duplication_effect`` at
    full integration.
    """

    name = "task_duplication"

    def duplicate(self, track: Track, i: int, j: int, service: str) -> Extra | None:
        """Whether j, taking ``service`` of the case over from i, repeats the assessment."""
        p = self.p
        if not self.on or service == p.service or track.case.assessed_by in (None, j):
            return None
        chance = p.intensity * (1.0 - self.state.trust(j, i)) * self.state.discretion(j)
        chance *= 1.0 - self.integration * self.scenario.barriers.sop.duplication_effect
        if track.draw(Purpose.DUPLICATION) >= chance:
            return None
        spec: Service = self.scenario.services[p.service]
        days = draw_duration(spec.duration, track.draw(Purpose.DUPLICATION_DURATION))
        self._count(track, EventKind.DUPLICATED_ASSESSMENT, j, days, i)
        return Extra(days, int(spec.interviews_child))


class MissingReports(_Barrier):
    """Barrier 3, no routine reporting.

    Finding: agencies do not report case status routinely. Assumption: a
    completed service goes unreported with chance
    ``intensity * (1 - reporting_discipline) * discretion_j``, never with a shared case
    information system at an agency that uses it (reports are automatic;
    ``shared_adoption`` of the agencies use it); the case manager then learns
    of it only at the next periodic follow-up, and a case whose registration
    goes unreported is missing from the recorded statistics.
    """

    name = "missing_reports"

    def _missing(self, track: Track, j: int, discipline: float, purpose: Purpose) -> bool:
        if not self.on or j in self.automatic:
            return False
        chance = self.p.intensity * (1.0 - discipline) * self.state.discretion(j)
        if track.draw(purpose, track.attempt) >= chance:
            return False
        kind = EventKind.UNREPORTED if purpose is Purpose.REPORT else EventKind.UNRECORDED
        self._count(track, kind, j)
        return True

    def unreported(self, track: Track, j: int, discipline: float) -> bool:
        """Whether a service j completed goes unreported to the case manager."""
        return self._missing(track, j, discipline, Purpose.REPORT)

    def unrecorded(self, track: Track, j: int, discipline: float) -> bool:
        """Whether the case's registration by j goes unreported to the case system."""
        return self._missing(track, j, discipline, Purpose.RECORD)


class SectoralEgo(_Barrier):
    """Barrier 4, sectoral ego.

    Finding: agencies put their own sector first. Assumption: a referral from
    another sector is held or refused with chance
    ``intensity * ego_j * (1 - T[j, i]) * discretion_j`` (``ego_j`` times a
    shock's factor during a shock, at most 1), refused in ``refuse_share``. A hold
    lasts an exponential ``hold_days`` and lowers the handover's outcome by
    ``hold_penalty``; a refusal is known to the referrer after
    ``refusal_notice_days``, counts as a failed handover (outcome 0) for trust,
    and the referrer looks for another provider.
    """

    name = "sectoral_ego"

    def receive(self, track: Track, i: int, j: int, ego: float) -> EgoDecision | None:
        """Whether j holds or refuses a referral from i (of another sector)."""
        p = self.p
        if not self.on or ego <= 0.0:
            return None
        state = self.state
        chance = p.intensity * state.sectoral_ego(j, ego) * (1.0 - state.trust(j, i))
        chance *= state.discretion(j)
        if track.draw(Purpose.EGO, track.sends) >= chance:
            return None
        if track.draw(Purpose.EGO_OUTCOME, track.sends) < p.refuse_share:
            self._count(track, EventKind.REFUSED, j, p.refusal_notice_days, i)
            self.state.handover(i, j, 0.0)
            return EgoDecision(True, p.refusal_notice_days, 0.0)
        delay = _exponential(p.hold_days, track.draw(Purpose.HOLD, track.sends))
        self._count(track, EventKind.HELD, j, delay, i)
        return EgoDecision(False, delay, p.hold_penalty)


class SopFragmentation(_Barrier):
    """Barrier 5, collaboration SOPs that are not integrated.

    Finding: each agency runs its own procedure. Assumption: an agency taking
    over a case for the first time runs its own intake (its staff time, and the
    child retells the story) with chance one minus the procedural arrangements
    (joint SOPs; they start at SOP integration, ``1 - intensity``, and then
    move with the collaboration dynamics), times ``formal_link_factor`` on a
    link under a formal SOP (in proportion, on a link partly so).
    """

    name = "sop"

    def reintake(self, track: Track, j: int, formality: float) -> Extra | None:
        """Whether j runs its own intake on the case's next service (``formality``: of the link)."""
        p = self.p
        if not self.on or track.service == p.service:
            return None
        link = (1.0 - formality) + formality * p.formal_link_factor
        chance = (1.0 - self.state.procedural) * link
        if track.draw(Purpose.REINTAKE) >= chance:
            return None
        spec = self.scenario.services[p.service]
        days = draw_duration(spec.duration, track.draw(Purpose.REINTAKE_DURATION))
        self._count(track, EventKind.REINTAKE, j, days)
        return Extra(days, int(spec.interviews_child))


class FacilityDistrust(_Barrier):
    """Barrier 6, doubt that other actors' facilities are ready.

    Finding: some actors are not convinced other actors' facilities are
    ready. Assumption: referrer i passes over its best provider j with chance
    ``intensity * (1 - R[i, j])``, where ``R`` is i's belief in j's
    readiness, learnt from the services it sees; the work goes to the next best.
    """

    name = "facility_distrust"

    def bypass(self, track: Track, i: int, j: int) -> bool:
        """Whether i passes over j."""
        if not self.on:
            return False
        chance = self.p.intensity * (1.0 - self.state.readiness(i, j))
        if track.draw(Purpose.BYPASS, track.sends) >= chance:
            return False
        self._count(track, EventKind.BYPASS, i, other=j)
        return True


class Resources(_Barrier):
    """Barrier 7, resources short in quantity (vacant posts) and quality (rework).

    Assumption, quantity: ``vacancy_rate * intensity`` of each agency's posts
    are unfilled (at least one person stays on duty; an agency kind may set its
    own rate). Beds are not posts. Assumption, quality: a service must be redone
    with chance ``intensity * rework_scale * (1 - skill)``: the child comes back
    after ``redo_wait`` (by default the service's usual lag) and queues again,
    and the handover's outcome drops by ``rework_penalty`` (Campello et al.:
    raising the chance a case is completed cuts waits more than working faster).
    """

    name = "resources"

    def __init__(
        self, scenario: Scenario, state: CollaborationState, events: BarrierEvents, clock: Clock
    ) -> None:
        """Bind the parameters; no post is vacant yet."""
        super().__init__(scenario, state, events, clock)
        self.vacant_posts = 0

    def staff_on_duty(self, staff: int, vacancy_rate: float | None = None) -> int:
        """Staff on duty of an agency with ``staff`` posts (its kind's own rate, if it has one)."""
        p = self.p
        rate = p.vacancy_rate if vacancy_rate is None else vacancy_rate
        filled = max(1, int(staff * (1.0 - p.intensity * rate) + 0.5))
        self.vacant_posts += staff - filled
        return filled

    def rework(self, track: Track, j: int, skill: float, spec: Timing) -> Rework | None:
        """Whether the service j just finished must be redone, and how."""
        if not self.on:
            return None
        p = self.p
        if track.draw(Purpose.REWORK, track.attempt) >= p.intensity * p.rework_scale * (1 - skill):
            return None
        nxt = track.attempt + 1  # the redo's own draws
        duration = sample(spec.duration, track, Purpose.DURATION, nxt)
        wait = sample(p.redo_wait or spec.lag, track, Purpose.LAG, track.attempt)
        self._count(track, EventKind.REWORK, j, wait)
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
