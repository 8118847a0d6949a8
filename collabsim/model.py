"""The Mesa model: agencies, cases and referrals on one clock, and the daily data collection.

One Mesa step is one day. Inside a day, arrivals, referrals and service
completions happen at their exact continuous times, from the model's event
queue (:mod:`collabsim.events`): with every barrier off and no channel
latency the model is an open queueing network. The model wires the case
flow; agencies make the decisions (:mod:`collabsim.agency`) and the barriers
their consequences (:mod:`collabsim.barriers`).
"""

from __future__ import annotations

import gc
import math
import random
from typing import NamedTuple

import mesa
import numpy as np
import pandas as pd

from collabsim.agency import Agency, Job
from collabsim.barriers import Barriers
from collabsim.cases import Case, CaseGenerator, EventKind, Trail, sample
from collabsim.dynamics import CollaborationState, Indices
from collabsim.events import EventQueue
from collabsim.network import Geography, agency_specs, referral_network
from collabsim.scenario import BARRIER_NAMES, Distribution, Scenario
from collabsim.streams import Purpose

__all__ = ["SERIES", "CollaborationModel"]


class _ServiceInfo(NamedTuple):
    """What the case flow needs of a service, looked up once."""

    duration: Distribution
    lag: Distribution
    interviews: int
    care: bool
    managing: bool
    registers: bool


SERIES = (
    "day", "arrived", "closed", "backlog", "waiting", "engagement", "motivation", "capacity",
    "mean_trust", "cross_sector_trust",
)  # fmt: skip
"""The daily series' columns before each barrier's event counts."""


class CollaborationModel(mesa.Model):
    """Agencies collaborating on cases of violence against children.

    Args:
        params: the scenario (validated data; the model reads no files).
        seed: the run's seed; the same scenario and seed give the same run.
        trail: ``full`` keeps every case's events (the case tracer needs
            them), ``lean`` only their counts (experiments); both give the
            same outputs.

    Attributes:
        params: the scenario.
        agencies: the agencies, by index.
        network: the referral network (networkx DiGraph over agency indices).
        state: the collaboration dynamics state.
        barriers: the barrier mechanisms and their event counts.
        cases: every case reported so far.
        clock: the event queue; ``clock.now`` is the time in days.
    """

    def __init__(self, params: Scenario, seed: int = 0, trail: Trail = "full") -> None:
        """Build agencies, network and state; schedule the first arrivals."""
        super().__init__(rng=seed)
        self.params = params
        self.seed = seed
        (arrival_ss,) = np.random.SeedSequence(seed).spawn(1)
        arrivals = random.Random(int(arrival_ss.generate_state(1, dtype=np.uint64)[0]))
        self.clock = EventQueue()
        run = params.run
        self.warmup = float(run.warmup_days)
        specs = agency_specs(params)
        self.network = referral_network(params, specs)
        self.geography = Geography(params)
        templates = [params.agencies[s.kind] for s in specs]
        ego_intensity = params.barriers.sectoral_ego.intensity
        self.state = CollaborationState(
            params.dynamics,
            self.network,
            [t.sector for t in templates],
            [t.readiness for t in templates],
            [t.sectoral_ego * ego_intensity for t in templates],
            self.clock,
        )
        self.barriers = Barriers(params, self.state, self.clock)
        window = (self.warmup, float(run.days))
        resources = self.barriers.resources
        self.agencies = [
            Agency(self, i, spec, t, resources.staff_on_duty(t.staff), window)
            for i, (spec, t) in enumerate(zip(specs, templates, strict=True))
        ]
        self._providers: dict[str, list[Agency]] = {svc: [] for svc in params.services}
        for a in self.agencies:
            for svc in a.services:
                self._providers[svc].append(a)
        self._sop_links = {(i, j) for i, j, sop in self.network.edges(data="sop") if sop}
        self._channels = {
            (i, j): (d["latency_days"], d["miscommunication"])
            for i, j, d in self.network.edges(data=True)
        }
        unlinked = params.channels[
            params.shared_channel if params.shared_case_system else params.default_channel
        ]
        self._unlinked = (unlinked.latency_days, unlinked.miscommunication)
        self._reach: dict[tuple[int, str], list[Agency]] = {}  # (referrer, service)
        self._walk_in: dict[tuple[str, str], list[Agency]] = {}  # (city, service)
        managing = {k for k, s in params.services.items() if s.stage == "case_management"}
        self._services = {
            name: _ServiceInfo(
                s.duration, s.lag, int(s.interviews_child), s.stage == "care",
                s.stage == "case_management", name in (managing or params.services),
            )
            for name, s in params.services.items()
        }  # fmt: skip
        self.generator = CaseGenerator(params, arrivals, trail)
        self.cases: list[Case] = []
        self.closed = 0
        self.reports_due = 0
        self.reports_made = 0
        self.indices = self._indices()
        for city in params.cities:
            self.clock.schedule(self.generator.next_gap(city), self._arrive, city)
        self._series: list[tuple[float, ...]] = []

    # ------------------------------------------------------------ clock
    @property
    def now(self) -> float:
        """The current time in days."""
        return self.clock.now

    def step(self) -> None:
        """Advance one day: every event up to the day's end, then the daily updates."""
        self.clock.run_until(float(self.steps))
        self.state.daily(self.steps, self.random)
        self.indices = self._indices()
        self._record()

    def run_days(self, days: int) -> None:
        """Step the model ``days`` times.

        Python's cyclic garbage collector is paused meanwhile: the run makes
        many objects (cases, jobs, events) and no reference cycles, and the
        collector's passes over them would cost a fifth of the time.
        """
        paused = gc.isenabled()
        gc.disable()
        try:
            for _ in range(days):
                self.step()
        finally:
            if paused:
                gc.enable()

    # ------------------------------------------------------ observables
    @property
    def arrived(self) -> int:
        """Cases reported so far."""
        return len(self.cases)

    @property
    def backlog(self) -> int:
        """Cases reported and not closed."""
        return len(self.cases) - self.closed

    @property
    def waiting(self) -> int:
        """Jobs waiting in agency queues."""
        return sum(len(a.queue) for a in self.agencies)

    @property
    def engagement(self) -> float:
        """Principled engagement, as of the last step."""
        return self.indices.engagement

    @property
    def motivation(self) -> float:
        """Shared motivation, as of the last step."""
        return self.indices.motivation

    @property
    def capacity(self) -> float:
        """Capacity for joint action, as of the last step."""
        return self.indices.capacity

    @property
    def mean_trust(self) -> float:
        """Mean trust over the network's linked pairs."""
        return self.state.mean_trust()

    @property
    def cross_sector_trust(self) -> float:
        """Mean trust over linked pairs of different sectors (where sectoral ego acts)."""
        return self.state.cross_sector_trust()

    def _record(self) -> None:
        """Keep the day's row of the daily series (see :meth:`timeseries`)."""
        i, events = self.indices, self.barriers.events
        self._series.append(
            (
                self.steps, len(self.cases), self.closed, len(self.cases) - self.closed,
                self.waiting, i.engagement, i.motivation, i.capacity, self.mean_trust,
                self.cross_sector_trust, *events.all.values(), *events.measured.values(),
            )
        )  # fmt: skip

    def timeseries(self) -> pd.DataFrame:
        """One row per day: counts, the three indices, trust, and each barrier's events.

        ``events_<barrier>`` counts every case's events so far (warm-up
        included), ``events_<barrier>_measured`` those of measured cases, as
        the summary does.
        """
        columns = [*SERIES, *(f"events_{b}" for b in BARRIER_NAMES)]
        columns += [f"events_{b}_measured" for b in BARRIER_NAMES]
        return pd.DataFrame(self._series, columns=columns)

    def _indices(self) -> Indices:
        knowledge = self.reports_made / self.reports_due if self.reports_due else 1.0
        overloaded = sum(1 for a in self.agencies if a.queue) / max(1, len(self.agencies))
        sop = 1.0 - self.params.barriers.sop.intensity
        return self.state.indices(sop, knowledge, 1.0 - overloaded)

    # ------------------------------------------------------- case flow
    def _arrive(self, city: str) -> None:
        now = self.clock.now
        case = self.generator.new_case(city, now, self.warmup)
        self.cases.append(case)
        self.clock.schedule(now + self.generator.next_gap(city), self._arrive, city)
        self._next_step(case)

    def _follow_up_time(self, case: Case, t: float) -> float:
        """The referrer's next periodic follow-up of the case after time ``t``."""
        base = case.manager_since if case.manager is not None else case.reported_at
        every = self.params.run.follow_up_interval_days
        return base + max(1, math.ceil((t - base) / every)) * every

    def _next_step(self, case: Case) -> None:
        """The case's previous step is done: move it to its next service, or close it."""
        now = self.clock.now
        case.step += 1
        case.attempt = case.sends = 0
        case.excluded.clear()
        case.penalty = 0.0
        case.last_progress = now
        if case.step >= len(case.plan):
            case.closed_at = now
            self.closed += 1
            case.note(now, EventKind.CLOSED, case.holder)
            return
        svc = case.plan[case.step]
        holder, manager = case.holder, case.manager
        if holder is not None and svc in self.agencies[holder].services:
            self._admit(case, self.agencies[holder], None)
        elif manager is not None:
            t = now
            if case.unreported_since is not None:
                # the manager learns of the unreported completion at its next follow-up
                t = max(now, self._follow_up_time(case, case.unreported_since))
                case.unreported_since = None
                if t > now:
                    case.note(now, EventKind.AWAITING_FOLLOW_UP, manager, days=t - now)
            if svc in self.agencies[manager].services:
                self.clock.schedule(t, self._admit, case, self.agencies[manager], None)
            else:
                self.clock.schedule(t, self._refer, case)
        elif holder is not None:
            self._refer(case)
        else:
            self._admit(case, self._first_contact(case, svc), None)

    def _first_contact(self, case: Case, svc: str) -> Agency:
        """The agency a reporter walks into: one offering ``svc`` in the case's city."""
        key = (case.city, svc)
        local = self._walk_in.get(key)
        if local is None:
            here = self.geography.local(case.city)
            providers = self._providers[svc]
            local = self._walk_in[key] = [a for a in providers if a.city in here] or providers
        return local[int(case.draw(Purpose.FIRST_CONTACT) * len(local))]

    def _candidates(self, i: int, svc: str) -> list[Agency]:
        """The providers of ``svc`` agency i can reach: its links, and its place's near places."""
        key = (i, svc)
        found = self._reach.get(key)
        if found is None:
            near = self.geography.near(self.agencies[i].city)
            linked = set(self.network.successors(i))
            found = [
                a for a in self._providers[svc] if a.index in linked or a.city in near
            ] or self._providers[svc]
            self._reach[key] = found
        return found

    def _refer(self, case: Case) -> None:
        """Send the case's next service as a referral from its manager (or holder)."""
        now = self.clock.now
        i = case.manager if case.manager is not None else case.holder
        assert i is not None
        referrer = self.agencies[i]
        svc = case.plan[case.step]
        candidates = self._candidates(i, svc)
        if len(candidates) == 1:
            target = candidates[0]
        else:
            target = referrer.choose_provider(
                case,
                candidates,
                self.state,
                self.params.choice,
                self.geography.local(case.city),
                self._sop_links,
                self.barriers.facility_distrust,
            )
        j = target.index
        latency, rate = self._channels.get((i, j), self._unlinked)
        case.note(now, EventKind.REFERRED, j, svc, other=i)
        mishap = self.barriers.miscommunication.referral(case, i, j, latency, rate)
        case.sends += 1
        if mishap is None:
            if latency > 0.0:
                self.clock.schedule(now + latency, self._deliver, case, referrer, target)
            else:
                self._deliver(case, referrer, target)
            return
        case.penalty += mishap.penalty
        if mishap.kind is EventKind.REFERRAL_LOST:  # found at the next follow-up, sent again
            self.clock.schedule(self._follow_up_time(case, now), self._refer, case)
            return
        self.clock.schedule(now + mishap.delay, self._deliver, case, referrer, target)

    def _deliver(self, case: Case, referrer: Agency, target: Agency) -> None:
        """A referral reaches its target, which may hold or refuse it (sectoral ego)."""
        now = self.clock.now
        decision = target.consider_referral(case, referrer, self.barriers.sectoral_ego)
        if decision is None:
            self._admit(case, target, referrer)
        elif decision.refused:
            case.excluded.add(target.index)
            case.penalty = 0.0
            self.clock.schedule(now + decision.delay, self._refer, case)
        else:
            case.penalty += decision.penalty
            self.clock.schedule(now + decision.delay, self._admit, case, target, referrer)

    def _admit(self, case: Case, agency: Agency, referrer: Agency | None) -> None:
        """``agency`` takes the case's next service (from ``referrer``, if a handover)."""
        now = self.clock.now
        svc = case.plan[case.step]
        duration = sample(self._services[svc].duration, case, Purpose.DURATION)
        extra = 0.0
        j = agency.index
        b = self.barriers
        if referrer is not None and (b.sop.on or b.task_duplication.on):
            i = referrer.index
            for work in (
                agency.own_intake(case, b.sop, (i, j) in self._sop_links),
                b.task_duplication.duplicate(case, i, j, svc),
            ):
                if work is not None:
                    extra += work.days
                    case.interviews += work.interviews
        case.duplicated_days += extra
        case.seen.add(j)
        case.holder = j
        job = Job(
            case,
            svc,
            duration + extra,
            None if referrer is None else referrer.index,
            max(0.0, 1.0 - case.penalty),
            duration,
        )
        if agency.accept(job, now):
            self._start(agency, job)
        else:
            case.note(now, EventKind.QUEUED, j, svc)

    def _start(self, agency: Agency, job: Job) -> None:
        """A staff member of ``agency`` starts ``job``."""
        now = self.clock.now
        case = job.case
        info = self._services[job.service]
        case.note(now, EventKind.STARTED, agency.index, job.service, job.drawn)
        case.interviews += info.interviews
        if info.care and case.first_care_at is None:
            case.first_care_at = now
        if info.managing and case.first_manager_service_at is None:
            case.first_manager_service_at = now
        if agency.case_manager and case.manager is None:
            case.manager = agency.index
            case.manager_since = now
        agency.account(now, job.duration)
        self.clock.schedule(now + job.duration, self._finish, agency, job)

    def _finish(self, agency: Agency, job: Job) -> None:
        """A staff member of ``agency`` finishes ``job``; the next queued job starts."""
        now = self.clock.now
        case = job.case
        info = self._services[job.service]
        case.service_days += job.duration
        nxt = agency.release(now)
        if nxt is not None:
            self._start(agency, nxt)
        resources = self.barriers.resources
        rework = resources.rework(case, agency.index, agency.skill, info) if resources.on else None
        if rework is not None:
            # not done right: the child comes back after the usual lag and queues again
            job.outcome = max(0.0, job.outcome - rework.penalty)
            job.reworks += 1
            job.duration = job.drawn = rework.duration
            case.attempt += 1
            self.clock.schedule(now + rework.wait, self._again, agency, job)
            return
        j = agency.index
        if now >= self.warmup:
            agency.served += 1
        state = self.state
        if state.enabled:
            if job.referrer is not None:
                state.handover(job.referrer, j, job.outcome)
            observer = case.manager if case.manager is not None else job.referrer
            if observer is not None and observer != j:
                rate = self.params.barriers.facility_distrust.learning_rate
                state.observe_quality(observer, j, job.reworks == 0, rate)
        case.note(now, EventKind.COMPLETED, j, job.service)
        if job.service == self.params.barriers.task_duplication.service:
            case.assessed_by = j
        missing = self.barriers.missing_reports
        discipline = agency.reporting_discipline
        if case.manager is not None and case.manager != j:
            self.reports_due += 1
            if missing.unreported(case, j, discipline):
                case.unreported_since = now
            else:
                self.reports_made += 1
                case.unreported_since = None  # a report brings the manager up to date
        if not case.registered and info.registers:
            case.registered = True
            case.recorded = not missing.unrecorded(case, j, discipline)
        lag = sample(info.lag, case, Purpose.LAG, case.attempt)
        if lag > 0.0:
            self.clock.schedule(now + lag, self._next_step, case)
        else:
            self._next_step(case)

    def _again(self, agency: Agency, job: Job) -> None:
        """A service to be redone comes back to the agency's queue."""
        if agency.accept(job, self.clock.now):
            self._start(agency, job)
        else:
            job.case.note(self.clock.now, EventKind.QUEUED, agency.index, job.service)
