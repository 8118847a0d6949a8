"""The Mesa model: clock, arrivals, referrals and services, data collection.

One Mesa step is one day. Inside a day, arrivals, referrals and service
completions happen at their exact continuous times, from an event queue
(a heap) kept by the model: with every barrier off and no channel latency
the model is an open queueing network.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from functools import partial
from typing import Any

import mesa
import numpy as np

from collabsim.agency import Agency, Job
from collabsim.barriers import Barriers
from collabsim.cases import Case, CaseGenerator, draw_duration
from collabsim.dynamics import CollaborationState
from collabsim.network import agency_specs, referral_network
from collabsim.scenario import BARRIER_NAMES, PROVINCE, Scenario

__all__ = ["CollaborationModel"]

_OUTCOME_PENALTY = {"late": 0.3, "misrouted": 0.4, "lost": 0.5, "hold": 0.8, "rework": 0.3}
"""How much each mishap lowers a handover's outcome (assumption, no source)."""


def _exp(mean: float, u: float) -> float:
    return -mean * math.log(1.0 - u)


class CollaborationModel(mesa.Model):
    """Agencies collaborating on cases of violence against children.

    Args:
        params: the scenario (validated data; the model reads no files).
        seed: the run's seed; the same scenario and seed give the same run.

    Attributes:
        params: the scenario.
        agencies: the agencies, by index.
        network: the referral network (networkx DiGraph over agency indices).
        state: the collaboration dynamics state.
        barriers: the barrier mechanisms and their event counters.
        cases: every case reported so far.
        now: the current time in days.
    """

    def __init__(self, params: Scenario, seed: int = 0) -> None:
        """Build agencies, network and state; schedule the first arrivals."""
        super().__init__(rng=seed)
        self.params = params
        self.seed = seed
        (arrival_ss,) = np.random.SeedSequence(seed).spawn(1)
        self.arrival_rng = random.Random(int(arrival_ss.generate_state(1, dtype=np.uint64)[0]))
        self.now = 0.0
        self._events: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._seq = 0

        specs = agency_specs(params)
        self.network = referral_network(params, specs)
        tpls = [params.agencies[s.kind] for s in specs]
        b = params.barriers
        ego = [t.sectoral_ego * b.sectoral_ego.intensity for t in tpls]
        self.state = CollaborationState(
            params, self.network, [t.sector for t in tpls], [t.readiness for t in tpls], ego
        )
        self.barriers = Barriers(b, self.state, params.shared_case_system)
        self.agencies: list[Agency] = []
        for i, (spec, t) in enumerate(zip(specs, tpls, strict=True)):
            self.agencies.append(
                Agency(
                    self,
                    index=i,
                    name=spec.name,
                    kind=spec.kind,
                    city=spec.city,
                    sector=t.sector,
                    services=frozenset(t.services),
                    staff=self.barriers.effective_staff(t.staff),
                    skill=t.skill,
                    readiness=t.readiness,
                    sectoral_ego=t.sectoral_ego,
                    reporting_discipline=t.reporting_discipline,
                    case_manager=t.case_manager,
                )
            )
        self._providers = {
            svc: np.array([a.index for a in self.agencies if svc in a.services], dtype=int)
            for svc in params.services
        }
        self._city_of = np.array([a.city for a in self.agencies])
        self._load = np.zeros(len(self.agencies))
        self._sop_link = np.zeros((len(self.agencies),) * 2)
        for i, j, sop in self.network.edges(data="sop"):
            self._sop_link[i, j] = 1.0 if sop else 0.0
        self._registers = {k for k, s in params.services.items() if s.stage == "case_management"}
        if not self._registers:
            self._registers = set(params.services)

        self.generator = CaseGenerator(params, self.arrival_rng)
        self.cases: list[Case] = []
        self.closed = 0
        self.reports_due = 0
        self.reports_made = 0
        self.follow_up_waits = 0
        self.warmup = float(params.run.warmup_days)
        self.engagement, self.motivation, self.capacity = self._indices()
        for city in params.cities:
            self._schedule(self.generator.next_gap(city), self._on_arrival, city)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "day": "steps",
                "arrived": "arrived",
                "closed": "closed",
                "backlog": "backlog",
                "waiting": "waiting",
                "engagement": "engagement",
                "motivation": "motivation",
                "capacity": "capacity",
                "mean_trust": "mean_trust",
                "cross_sector_trust": "cross_sector_trust",
                **{f"events_{k}": partial(_barrier_events, key=k) for k in BARRIER_NAMES},
            }
        )

    # ------------------------------------------------------------------ clock
    def _schedule(self, t: float, fn: Callable[[Any], None], arg: Any) -> None:
        heapq.heappush(self._events, (t, self._seq, fn, arg))
        self._seq += 1

    def step(self) -> None:
        """Advance one day: every event up to the day's end, then the daily updates."""
        end = float(self.steps)
        events = self._events
        while events and events[0][0] <= end:
            t, _, fn, arg = heapq.heappop(events)
            self.now = t
            fn(arg)
        self.now = end
        self.state.daily(self.steps, self.random)
        self.engagement, self.motivation, self.capacity = self._indices()
        self.datacollector.collect(self)

    def run_days(self, days: int) -> None:
        """Step the model ``days`` times."""
        for _ in range(days):
            self.step()

    # ---------------------------------------------------------- observables
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
    def mean_trust(self) -> float:
        """Mean trust over the network's linked pairs."""
        return self.state.mean_over_links(self.state.T)

    @property
    def cross_sector_trust(self) -> float:
        """Mean trust over linked pairs of different sectors (where sectoral ego acts)."""
        return self.state.cross_sector_trust()

    def _indices(self) -> tuple[float, float, float]:
        knowledge = self.reports_made / self.reports_due if self.reports_due else 1.0
        overloaded = sum(1 for a in self.agencies if a.queue) / max(1, len(self.agencies))
        sop = 1.0 - self.params.barriers.sop.intensity
        return self.state.indices(sop, knowledge, 1.0 - overloaded)

    # ---------------------------------------------------------- case flow
    def _on_arrival(self, city: str) -> None:
        case = self.generator.new_case(city, self.now)
        self.cases.append(case)
        self._schedule(self.now + self.generator.next_gap(city), self._on_arrival, city)
        self._next_step(case)

    def _follow_up_time(self, case: Case, t: float) -> float:
        """The referrer's next periodic follow-up of the case after time ``t``."""
        base = case.manager_since if case.manager is not None else case.reported_at
        every = self.params.run.follow_up_interval_days
        return base + max(1, math.ceil((t - base) / every)) * every

    def _next_step(self, case: Case) -> None:
        now = self.now
        case.step += 1
        case.excluded.clear()
        case.penalty = 0.0
        case.last_progress = now
        if case.step >= len(case.plan):
            case.closed_at = now
            self.closed += 1
            case.note(now, "closed", case.holder)
            return
        svc = case.plan[case.step]
        holder, manager = case.holder, case.manager
        if holder is not None and svc in self.agencies[holder].services:
            self._admit(case, holder, None)
        elif manager is not None:
            t = now
            if case.unreported_since is not None:
                # the manager learns of the unreported completion at its next follow-up
                t = max(now, self._follow_up_time(case, case.unreported_since))
                case.unreported_since = None
                if t > now:
                    self.follow_up_waits += 1
                    case.note(now, "awaiting_follow_up", manager, f"until day {t:.1f}")
            if svc in self.agencies[manager].services:
                self._schedule(t, self._admit_internal, (case, manager))
            else:
                self._schedule(t, self._refer, case)
        elif holder is not None:
            self._refer(case)
        else:
            self._admit(case, self._first_contact(case, svc), None)

    def _first_contact(self, case: Case, svc: str) -> int:
        """The agency a reporter walks into: one offering ``svc`` in the case's city."""
        cands = self._providers[svc]
        local = cands[(self._city_of[cands] == case.city) | (self._city_of[cands] == PROVINCE)]
        pool = local if local.size else cands
        return int(pool[int(case.rng.random() * pool.size)])

    def _choose(self, case: Case, i: int, svc: str, u: float, u_bypass: float) -> int:
        """The referrer's choice of provider: SOP link, trust, perceived readiness, load, city."""
        cands = self._providers[svc]
        if case.excluded:
            keep = np.array([j not in case.excluded for j in cands])
            if keep.any():
                cands = cands[keep]
        if cands.size == 1:
            return int(cands[0])
        w = self.params.choice
        city = self._city_of[cands]
        score = (
            w.sop * self._sop_link[i, cands]
            + w.trust * self.state.T[i, cands]
            + w.readiness * self.state.R[i, cands]
            - w.load * self._load[cands]
            + w.same_city * ((city == case.city) | (city == PROVINCE))
            + 0.05 * np.mod(u + 0.6180339887 * np.arange(cands.size), 1.0)
        )
        order = np.argsort(-score, kind="stable")
        best = int(cands[order[0]])
        if self.barriers.facility_bypass(i, best, u_bypass):
            case.note(self.now, "bypass", i, f"passed over {self.agencies[best].name}")
            best = int(cands[order[1]])
        return best

    def _refer(self, case: Case) -> None:
        """Send the case's next service as a referral from its referrer."""
        now = self.now
        i = case.manager if case.manager is not None else case.holder
        assert i is not None
        svc = case.plan[case.step]
        r = case.rng
        u_choice, u_bypass, u_misc, v_misc, u_delay = (r.random() for _ in range(5))
        j = self._choose(case, i, svc, u_choice, u_bypass)
        edge = self.network.get_edge_data(i, j)
        if edge is None:
            channel = self.params.default_channel
            if self.params.shared_case_system:
                channel = self.params.shared_channel
            ch = self.params.channels[channel]
            latency, rate = ch.latency_days, ch.miscommunication
        else:
            latency, rate, channel = edge["latency_days"], edge["miscommunication"], edge["channel"]
        case.note(now, "referred", j, f"{svc} from {self.agencies[i].name} by {channel}")
        mishap = self.barriers.miscommunication(i, j, rate, u_misc, v_misc)
        p = self.params.barriers.miscommunication
        if mishap is None:
            self._schedule(now + latency, self._receive, (case, i, j))
            return
        case.penalty += _OUTCOME_PENALTY[mishap]
        if mishap == "lost":
            t = self._follow_up_time(case, now)
            case.note(now, "referral_lost", j, f"found at follow-up on day {t:.1f}")
            self._schedule(t, self._refer, case)
            return
        if mishap == "late":
            delay = latency + _exp(p.late_days, u_delay)
        else:
            delay = 3.0 * latency + _exp(p.misroute_days, u_delay)
        case.note(now, f"referral_{mishap}", j, f"+{delay - latency:.1f} days")
        self._schedule(now + delay, self._receive, (case, i, j))

    def _receive(self, arg: tuple[Case, int, int]) -> None:
        """A referral reaches agency j from i: sectoral ego may hold or refuse it."""
        case, i, j = arg
        r = case.rng
        u, v, w = r.random(), r.random(), r.random()
        ai, aj = self.agencies[i], self.agencies[j]
        decision = None
        if ai.sector != aj.sector:
            decision = self.barriers.sectoral_ego(i, j, aj.sectoral_ego, u, v)
        p = self.params.barriers.sectoral_ego
        if decision == "refuse":
            case.note(self.now, "refused", j, f"referral from {ai.name}")
            self.state.handover(i, j, 0.0)
            case.excluded.add(j)
            case.penalty = 0.0
            self._schedule(self.now + p.refusal_notice_days, self._refer, case)
        elif decision == "hold":
            delay = _exp(p.hold_days, w)
            case.penalty += _OUTCOME_PENALTY["hold"]
            case.note(self.now, "held", j, f"{delay:.1f} days")
            self._schedule(self.now + delay, self._admit_referral, arg)
        else:
            self._admit(case, j, i)

    def _admit_referral(self, arg: tuple[Case, int, int]) -> None:
        case, i, j = arg
        self._admit(case, j, i)

    def _admit_internal(self, arg: tuple[Case, int]) -> None:
        case, j = arg
        self._admit(case, j, None)

    def _admit(self, case: Case, j: int, i: int | None) -> None:
        """Agency j takes the case's next service (from referrer i, if a handover)."""
        services = self.params.services
        svc = case.plan[case.step]
        r = case.rng
        u_dur, u_sop, u_sop_dur, u_dup, u_dup_dur = (r.random() for _ in range(5))
        duration = draw_duration(services[svc].duration, u_dur)
        extra = 0.0
        if i is not None:
            b = self.params.barriers
            formal = bool(self._sop_link[i, j])
            if svc != b.sop.service and self.barriers.sop_reintake(
                j not in case.seen, formal, u_sop
            ):
                x = draw_duration(services[b.sop.service].duration, u_sop_dur)
                extra += x
                case.interviews += services[b.sop.service].interviews_child
                case.note(self.now, "reintake", j, f"{x:.2f} days of staff time", x)
            assessed = case.assessed_by is not None and case.assessed_by != j
            if svc != b.task_duplication.service and self.barriers.task_duplication(
                i, j, assessed, u_dup
            ):
                x = draw_duration(services[b.task_duplication.service].duration, u_dup_dur)
                extra += x
                case.interviews += services[b.task_duplication.service].interviews_child
                case.note(self.now, "duplicated_assessment", j, f"{x:.2f} days of staff time", x)
        case.duplicated_days += extra
        case.seen.add(j)
        case.holder = j
        job = Job(case, svc, duration + extra, i, max(0.0, 1.0 - case.penalty))
        agency = self.agencies[j]
        agency.accept(job, self.now, 0 if case.risk == "high" else 1)
        self._load[j] = agency.load

    def start_job(self, agency: Agency, job: Job, now: float) -> None:
        """A staff member of ``agency`` starts ``job`` (called by the agency)."""
        case = job.case
        spec = self.params.services[job.service]
        case.note(now, "started", agency.index, job.service)
        if spec.interviews_child:
            case.interviews += 1
        if spec.stage == "care" and case.first_care_at is None:
            case.first_care_at = now
        if spec.stage == "case_management" and case.first_manager_service_at is None:
            case.first_manager_service_at = now
        if agency.case_manager and case.manager is None:
            case.manager = agency.index
            case.manager_since = now
        self._account(agency, now, job.duration)
        self._load[agency.index] = agency.load
        self._schedule(now + job.duration, self._on_done, (agency, job))

    def _requeue(self, arg: tuple[Agency, Job]) -> None:
        agency, job = arg
        agency.accept(job, self.now, 0 if job.case.risk == "high" else 1)
        self._load[agency.index] = agency.load

    def _account(self, agency: Agency, start: float, duration: float) -> None:
        """Add staff time inside the measured window to the agency's busy days."""
        lo = max(start, self.warmup)
        hi = min(start + duration, float(self.params.run.days))
        if hi > lo:
            agency.busy_days += hi - lo

    def _on_done(self, arg: tuple[Agency, Job]) -> None:
        agency, job = arg
        case, now = job.case, self.now
        case.service_days += job.duration
        r = case.rng
        u_rework, u_lag, u_report, u_record = (r.random() for _ in range(4))
        spec = self.params.services[job.service]
        agency.release(now)
        self._load[agency.index] = agency.load
        if self.barriers.rework(agency.skill, u_rework):
            # not done right: the child comes back after the usual lag and queues again
            job.outcome = max(0.0, job.outcome - _OUTCOME_PENALTY["rework"])
            job.reworks += 1
            job.duration = draw_duration(spec.duration, r.random())
            wait = draw_duration(spec.lag, u_lag)
            case.note(now, "rework", agency.index, f"{job.service} to be redone")
            self._schedule(now + wait, self._requeue, arg)
            return
        if now >= self.warmup:
            agency.served += 1
        j = agency.index
        if job.referrer is not None:
            self.state.handover(job.referrer, j, job.outcome)
        observer = case.manager if case.manager is not None else job.referrer
        if observer is not None and observer != j:
            rate = self.params.barriers.facility_distrust.learning_rate
            self.state.observe_quality(observer, j, job.reworks == 0, rate)
        case.note(now, "completed", j, job.service)
        if job.service == self.params.barriers.task_duplication.service:
            case.assessed_by = j
        if case.manager is not None and case.manager != j:
            self.reports_due += 1
            if self.barriers.missing_report(agency.reporting_discipline, u_report):
                case.unreported_since = now
                case.note(now, "unreported", j, job.service)
            else:
                self.reports_made += 1
                case.unreported_since = None  # a report brings the manager up to date
        if not case.registered and job.service in self._registers:
            case.registered = True
            case.recorded = not self.barriers.missing_report(agency.reporting_discipline, u_record)
            if not case.recorded:
                case.note(now, "unrecorded", j, "registration not reported to the case system")
        lag = draw_duration(spec.lag, u_lag)
        if lag > 0.0:
            self._schedule(now + lag, self._next_step, case)
        else:
            self._next_step(case)


def _barrier_events(model: CollaborationModel, key: str) -> int:
    """A DataCollector reporter: the running count of one barrier's events."""
    return model.barriers.events[key]
