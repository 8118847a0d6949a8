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

from collabsim.agency import BACKGROUND, URGENT, Agency, Job, Pool
from collabsim.barriers import Barriers
from collabsim.calendar import working_time
from collabsim.cases import Case, CaseGenerator, EventKind, Track, Trail, draw_duration, sample
from collabsim.conference import agenda_item, settles
from collabsim.dynamics import CollaborationState
from collabsim.events import EventQueue
from collabsim.network import Geography, agency_specs, referral_network
from collabsim.scenario import (
    BARRIER_NAMES,
    SURVEY_INDICATORS,
    Background,
    Distribution,
    Scenario,
    Shock,
)
from collabsim.streams import Purpose, uniform

__all__ = ["SERIES", "CollaborationModel"]


class _ServiceInfo(NamedTuple):
    """What the case flow needs of a service, looked up once."""

    duration: Distribution
    lag: Distribution
    interviews: int
    care: bool
    managing: bool
    registers: bool
    stay: bool


SERIES = (
    "day", "arrived", "closed", "backlog", "waiting", "engagement", "motivation", "capacity",
    *SURVEY_INDICATORS, "cross_sector_trust", "formal_links", "conference_settled",
)  # fmt: skip
"""The daily series' columns before each barrier's event counts (``trust`` is the mean
over linked pairs; the twelve indicators are those of :class:`Indicators`)."""


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
        arrival_ss, background_ss = np.random.SeedSequence(seed).spawn(2)
        arrivals = random.Random(int(arrival_ss.generate_state(1, dtype=np.uint64)[0]))
        self._key = int(background_ss.generate_state(1, dtype=np.uint64)[0])
        self.clock = EventQueue()
        run = params.run
        self.warmup = float(run.warmup_days)
        self.window = (self.warmup, run.cohort_end)
        specs = agency_specs(params)
        adoption = params.shared_adoption
        self.adopters = frozenset(
            i for i in range(len(specs)) if uniform(self._key, Purpose.ADOPTION, i) < adoption
        )
        self.network = referral_network(params, specs, self.adopters)
        self.geography = Geography(params)
        templates = [params.agencies[s.kind] for s in specs]
        ego_intensity = params.barriers.sectoral_ego.intensity
        sop = params.barriers.sop
        self.state = CollaborationState(
            params.dynamics,
            self.network,
            [t.sector for t in templates],
            [t.readiness for t in templates],
            [t.sectoral_ego * ego_intensity for t in templates],
            self.clock,
            params.survey,
            1.0 - sop.intensity if sop.intensity > 0.0 else None,  # off: full, kept so
            self._key,
        )
        self.barriers = Barriers(params, self.state, self.clock)
        if params.shared_case_system:
            self.barriers.missing_reports.automatic = self.adopters
        measured = (self.warmup, float(run.days))
        resources = self.barriers.resources
        hours = {h: working_time(params.calendar, h, run.days) for h in ("office", "24h")}
        self.office = hours["office"]
        self.agencies = [
            Agency(
                self, i, spec, t, resources.staff_on_duty(t.staff, t.vacancy_rate),
                hours[t.hours], measured,
            )
            for i, (spec, t) in enumerate(zip(specs, templates, strict=True))
        ]  # fmt: skip
        self._providers: dict[str, list[Agency]] = {svc: [] for svc in params.services}
        for a in self.agencies:
            for svc in a.services:
                self._providers[svc].append(a)
        self._channels = {
            (i, j): (d["latency_days"], d["miscommunication"])
            for i, j, d in self.network.edges(data=True)
        }
        default = params.channels[params.default_channel]
        shared = params.channels[params.shared_channel] if params.shared_case_system else default
        self._unlinked = (default.latency_days, default.miscommunication)
        self._unlinked_shared = (shared.latency_days, shared.miscommunication)
        attrition = params.attrition
        self._withdrawal = attrition.withdrawal
        self._withdrawal_service = attrition.withdrawal_service if self._withdrawal > 0 else None
        self._assessment = params.barriers.task_duplication.service
        self._reach: dict[tuple[int, str], list[Agency]] = {}  # (referrer, service)
        self._walk_in: dict[tuple[str, str], list[Agency]] = {}  # (city, service)
        managing = {k for k, s in params.services.items() if s.stage == "case_management"}
        self._services = {
            name: _ServiceInfo(
                s.duration, s.lag, int(s.interviews_child), s.stage == "care",
                s.stage == "case_management", name in (managing or params.services),
                s.kind == "stay",
            )
            for name, s in params.services.items()
        }  # fmt: skip
        self.generator = CaseGenerator(params, arrivals, trail)
        self.cases: list[Case] = []
        self.closed = 0
        self.ended = 0
        self.conference_settled = 0
        self._blocked: dict[Track, None] = {}  # tracks waiting on a barrier's consequence
        self._order = 0  # arrival order at the queues, to break ties
        self._queues = [p.queue for a in self.agencies for p in a.pools]
        self._observe()
        for city in params.cities:
            self.clock.schedule(self.generator.next_gap(city), self._arrive, city)
        for a, t in zip(self.agencies, templates, strict=True):
            if t.background is not None and t.background.jobs_per_year > 0:
                stream = random.Random(uniform(self._key, Purpose.BACKGROUND, a.index))
                self.clock.schedule(0.0, self._background, a, stream, t.background)
        self._on_duty = [a.staff.servers for a in self.agencies]
        for shock in params.shocks:
            self.clock.schedule(float(shock.start_day), self._shock, shock, shock.factor)
            self.clock.schedule(float(shock.start_day + shock.days), self._shock, shock, 1.0)
        self._series: list[tuple[float, ...]] = []

    # ------------------------------------------------------------ clock
    @property
    def now(self) -> float:
        """The current time in days."""
        return self.clock.now

    def step(self) -> None:
        """Advance one day: every event up to the day's end, then the daily updates.

        With the dynamics off the collaboration state never moves, so its
        indicators are those of the start.
        """
        self.clock.run_until(float(self.steps))
        state = self.state
        if state.enabled:
            state.daily(self._resources())
            if state.conference_due(self.steps):
                self._conference()
            self._observe()
        self._record()

    def _observe(self) -> None:
        """Read the collaboration state's indicators and indices as they are now."""
        state = self.state
        self.indicators = state.indicators()
        self.indices = self.indicators.indices()
        self._observed: tuple[float, ...] = (
            *self.indices,
            *self.indicators,
            state.cross_sector_trust(),
            state.formal_share(),
        )

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
        """Cases reported and still in the system (not closed, not dropped)."""
        return len(self.cases) - self.ended

    @property
    def waiting(self) -> int:
        """Jobs waiting in agency queues (for staff, on-call staff or a bed)."""
        return sum(map(len, self._queues))

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
        events = self.barriers.events
        self._series.append(
            (
                self.steps, len(self.cases), self.closed, len(self.cases) - self.ended,
                self.waiting, *self._observed, self.conference_settled,
                *events.all.values(),
                *events.measured.values(),
            )
        )  # fmt: skip

    def timeseries(self) -> pd.DataFrame:
        """One row per day: counts, indices, indicators and each barrier's events.

        The columns: counts, the three indices and their twelve indicators,
        cross-sector trust, the share of links under a formal SOP or MoU,
        blocked cases settled at conferences so far, and each barrier's events.

        ``events_<barrier>`` counts every case's events so far (warm-up
        included), ``events_<barrier>_measured`` those of measured cases, as
        the summary does.
        """
        columns = [*SERIES, *(f"events_{b}" for b in BARRIER_NAMES)]
        columns += [f"events_{b}_measured" for b in BARRIER_NAMES]
        return pd.DataFrame(self._series, columns=columns)

    def _resources(self) -> float:
        """The resources indicator today.

        The share of posts filled, times the share of agencies with no one
        waiting for their staff.
        """
        posts = sum(a.posts for a in self.agencies)
        filled = sum(a.staff.servers for a in self.agencies)
        overloaded = sum(1 for a in self.agencies if a.staff.queue) / max(1, len(self.agencies))
        return filled / max(1, posts) * (1.0 - overloaded)

    def _shock(self, shock: Shock, factor: float) -> None:
        """A shock begins (``factor``) or ends (1)."""
        if shock.what == "sectoral_ego":
            self.state.ego_factor = factor
            return
        now = self.clock.now
        for agency, on_duty in zip(self.agencies, self._on_duty, strict=True):
            pool = agency.staff
            for job in pool.resize(max(1, int(on_duty * factor + 0.5)), now):
                self._start(agency, pool, job)

    # ----------------------------------------------------- conferences
    def _defer(self, track: Track, time: float, parties: tuple[int, ...], handler: object,
               *args: object) -> None:  # fmt: skip
        """Schedule a step of a track held up by a barrier; a conference may bring it forward.

        Args:
            track: the track.
            time: when the step happens unless a conference settles it first.
            parties: the agencies that must attend a conference to settle it.
            handler: the model's method to run, with ``args``.
            args: its arguments.
        """
        track.pending = (time, parties, handler, args)
        self._blocked[track] = None
        self.clock.schedule(time, self._resume, track, track.pending)

    def _resume(self, track: Track, pending: tuple[object, ...]) -> None:
        """Run a deferred step, unless a conference has run it already."""
        if track.pending is pending:
            self._run_pending(track)

    def _run_pending(self, track: Track) -> None:
        """Run the track's deferred step now."""
        assert track.pending is not None
        _, _, handler, args = track.pending
        track.pending = None
        self._blocked.pop(track, None)
        handler(*args)  # type: ignore[operator]

    def _conference(self) -> None:
        """A joint case conference: it reviews held-up and long-queued cases and acts on some."""
        state, now = self.state, self.clock.now
        attends = state.attend()
        p = self.params.dynamics
        held = [t for t in self._blocked if not t.case.ended and agenda_item(t, now)]
        queued = self._long_queued(now)
        agenda = len(held) + len(queued)

        def acts(track: Track, parties: tuple[int, ...]) -> bool:
            return settles(
                track, parties, attends, state.leadership, p.conference_action, state.conferences
            )

        settle = [t for t in held if t.pending is not None and acts(t, t.pending[1])]
        reroute = [q for q in queued if acts(q[0], q[3])]
        state.meet(attends, agenda, len(settle) + len(reroute))
        for track in settle:
            if track.pending is None:  # run already (by an earlier act on its case)
                continue
            track.note(now, EventKind.CONFERENCE_SETTLED, None, track.pending[0] - now)
            self.conference_settled += 1
            self._run_pending(track)
        for track, agency, entry, _ in reroute:
            agency.staff.withdraw(entry, now)
            track.note(now, EventKind.CONFERENCE_SETTLED, agency.index, now - entry[1])
            self.conference_settled += 1
            track.excluded |= {agency.index}
            self._refer(track)

    def _long_queued(
        self, now: float
    ) -> list[tuple[Track, Agency, tuple[int, float, int, Job], tuple[int, int]]]:
        """Tracks queued for staff for ``conference_queue_days`` or more, that could go elsewhere.

        Each comes with the agency, its queue entry and the parties (the case
        manager and the agency), when the manager reaches another provider.
        """
        limit = self.params.dynamics.conference_queue_days
        found = []
        for agency in self.agencies:
            for entry in agency.staff.queue:
                track = entry[3].track
                if track is None or now - entry[1] < limit or track.case.ended:
                    continue
                manager = track.case.manager
                if manager is None or manager == agency.index or entry[3].reworks:
                    continue
                others = [
                    a for a in self._candidates(manager, track.service)
                    if a is not agency and a.index not in track.excluded
                ]  # fmt: skip
                if others:
                    found.append((track, agency, entry, (manager, agency.index)))
        return found

    # ------------------------------------------------------- case flow
    def _arrive(self, city: str) -> None:
        now = self.clock.now
        self.clock.schedule(now + self.generator.next_gap(city), self._arrive, city)
        self._report(self.generator.new_case(city, now, self.window))

    def _report(self, case: Case) -> None:
        self.cases.append(case)
        self._next_phase(case)

    def _next_phase(self, case: Case) -> None:
        """The case's phase is over: start every track of the next one, or close the case."""
        case.phase += 1
        if case.phase >= len(case.phases):
            self._close(case)
            return
        start = case.tracks[-1].slots[-1] + 1 if case.tracks else 0  # slots run on across phases
        urgent = case.phase <= case.urgent_phase
        case.tracks = []
        for services in case.phases[case.phase]:
            slots = list(range(start, start + len(services)))
            track = Track(case, start, services, slots, holder=case.holder, urgent=urgent)
            track.unreported_since = case.unreported_since  # the last phase's silent ends
            case.tracks.append(track)
            start += len(services)
        case.open_tracks = len(case.tracks)
        case.unreported_since = None
        for track in case.tracks:
            self._next_step(track)

    def _close(self, case: Case) -> None:
        now = self.clock.now
        case.closed_at = now
        case.ended = True
        self.closed += 1
        self.ended += 1
        case.note(now, EventKind.CLOSED, case.holder)
        attrition = self.params.attrition
        if (
            attrition.repeat_report > 0.0
            and uniform(case.key, Purpose.REPEAT) < attrition.repeat_report
        ):
            key = uniform(case.key, Purpose.REPEAT_AFTER)
            later = now + draw_duration(attrition.repeat_after, key)
            self.clock.schedule(later, self._report_again, case)

    def _report_again(self, case: Case) -> None:
        self._report(self.generator.repeat(case, self.clock.now, self.window))

    def _drop(self, track: Track) -> None:
        """The family stops coming: the case leaves the system unfinished."""
        case, now = track.case, self.clock.now
        case.ended = True
        case.dropped_at = now
        self.ended += 1
        track.note(now, EventKind.DROPPED, track.holder)

    def _knowledge_effect(self) -> float:
        """The share of the wait for a missing report that shared knowledge saves now."""
        return self.params.dynamics.knowledge_effect * self.state.knowledge

    def _follow_up_time(self, case: Case, t: float) -> float:
        """The referrer's next periodic follow-up of the case after time ``t``."""
        base = case.manager_since if case.manager is not None else case.reported_at
        every = self.params.run.follow_up_interval_days
        return base + max(1, math.ceil((t - base) / every)) * every

    def _next_step(self, track: Track) -> None:
        """The track's previous step is done: move it to its next service, or end it."""
        case = track.case
        if case.ended:
            return
        now = self.clock.now
        pos = track.pos = track.pos + 1
        track.attempt = track.sends = 0
        if track.excluded:
            track.excluded = frozenset()
        track.penalty = 0.0
        case.last_progress = now
        if pos >= len(track.services):
            case.note(now, EventKind.TRACK_ENDED, None, "", 0.0, None, track.index)
            if track.unreported_since is not None:  # the manager has not heard it ended
                case.unreported_since = max(case.unreported_since or 0.0, track.unreported_since)
            case.open_tracks -= 1
            if not case.open_tracks:
                self._next_phase(case)
            return
        if case.drop_at is not None and track.slots[pos] == case.drop_at:
            self._drop(track)
            return
        svc = track.services[pos]
        if svc == self._withdrawal_service and track.draw(Purpose.WITHDRAWAL) < self._withdrawal:
            # cabut laporan
            track.note(now, EventKind.WITHDRAWN, track.holder)
            self._next_step(track)
            return
        holder, manager = track.holder, case.manager
        local = holder is not None and svc in self.agencies[holder].services
        if manager is not None and (not local or holder == manager):
            t = now
            if track.unreported_since is not None:
                # the manager learns of the unreported completion at its next follow-up,
                # sooner as far as shared knowledge tells it
                follow_up = self._follow_up_time(case, track.unreported_since)
                t = max(now, now + (follow_up - now) * (1.0 - self._knowledge_effect()))
                track.unreported_since = None
                if t > now:
                    track.note(now, EventKind.AWAITING_FOLLOW_UP, manager, days=t - now)
            if t > now:
                mine = svc in self.agencies[manager].services
                args = (self.agencies[manager], None) if mine else ()
                self._defer(track, t, (manager,), self._admit if mine else self._refer,
                            track, *args)  # fmt: skip
            elif svc in self.agencies[manager].services:
                self._admit(track, self.agencies[manager], None)
            else:
                self._refer(track)
        elif local:
            assert holder is not None
            self._admit(track, self.agencies[holder], None)
        elif holder is not None:
            self._refer(track)
        else:
            self._admit(track, self._first_contact(case.city, svc, track), None)

    def _first_contact(self, city: str, svc: str, track: Track) -> Agency:
        """The agency a reporter walks into: one offering ``svc`` in the case's city."""
        key = (city, svc)
        local = self._walk_in.get(key)
        if local is None:
            here = self.geography.local(city)
            providers = self._providers[svc]
            local = self._walk_in[key] = [a for a in providers if a.city in here] or providers
        if len(local) == 1:
            return local[0]
        return local[int(track.draw(Purpose.FIRST_CONTACT) * len(local))]

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

    def _refer(self, track: Track) -> None:
        """Send the track's next service as a referral from the case's manager (or holder)."""
        case = track.case
        if case.ended:
            return
        now = self.clock.now
        i = case.manager if case.manager is not None else track.holder
        assert i is not None
        referrer = self.agencies[i]
        candidates = self._candidates(i, track.service)
        if len(candidates) == 1:
            target = candidates[0]
        else:
            target = referrer.choose_provider(
                track,
                candidates,
                self.state,
                self.params.choice,
                self.geography.local(case.city),
                self.barriers.facility_distrust,
            )
        j = target.index
        latency, rate = self._channels.get((i, j)) or self._unlinked_channel(i, j)
        track.note(now, EventKind.REFERRED, j, other=i)
        astray = self.barriers.miscommunication
        mishap = astray.referral(track, i, j, latency, rate) if astray.on else None
        if self.state.enabled:
            self.state.referred(mishap is not None)
        track.sends += 1
        if mishap is None:
            if latency > 0.0:
                self.clock.schedule(now + latency, self._deliver, track, referrer, target)
            else:
                self._deliver(track, referrer, target)
            return
        track.penalty += mishap.penalty
        if mishap.kind is EventKind.REFERRAL_LOST:  # found at the next follow-up, sent again
            self._defer(track, self._follow_up_time(case, now), (i,), self._refer, track)
        elif mishap.kind is EventKind.REFERRAL_MISROUTED:
            self._defer(track, now + mishap.delay, (i, j), self._deliver, track, referrer, target)
        else:
            self.clock.schedule(now + mishap.delay, self._deliver, track, referrer, target)

    def _unlinked_channel(self, i: int, j: int) -> tuple[float, float]:
        """Latency and miscommunication rate of a referral between agencies with no link."""
        if i in self.adopters and j in self.adopters:
            return self._unlinked_shared
        return self._unlinked

    def _deliver(self, track: Track, referrer: Agency, target: Agency) -> None:
        """A referral reaches its target, which may hold or refuse it (sectoral ego)."""
        if track.case.ended:
            return
        now = self.clock.now
        ego = self.barriers.sectoral_ego
        decision = target.consider_referral(track, referrer, ego) if ego.on else None
        if decision is None:
            self._admit(track, target, referrer)
        elif decision.refused:
            track.excluded |= {target.index}
            track.penalty = 0.0
            self._defer(track, now + decision.delay, (referrer.index,), self._refer, track)
        else:
            track.penalty += decision.penalty
            parties = (referrer.index, target.index)
            self._defer(track, now + decision.delay, parties, self._admit, track, target, referrer)

    def _admit(self, track: Track, agency: Agency, referrer: Agency | None) -> None:
        """``agency`` takes the track's next service (from ``referrer``, if a handover)."""
        case = track.case
        if case.ended:
            return
        svc = track.service
        info = self._services[svc]
        duration = sample(info.duration, track, Purpose.DURATION)
        extra = 0.0
        j = agency.index
        b = self.barriers
        if referrer is not None and not info.stay and (b.sop.on or b.task_duplication.on):
            i = referrer.index
            for work in (
                agency.own_intake(track, b.sop, self.state.formality(i, j)),
                b.task_duplication.duplicate(track, i, j, svc),
            ):
                if work is not None:
                    extra += work.days
                    case.interviews += work.interviews
        case.duplicated_days += extra
        case.seen.add(j)
        track.holder = case.holder = j
        job = Job(
            track,
            svc,
            duration + extra,
            None if referrer is None else referrer.index,
            max(0.0, 1.0 - track.penalty),
            duration,
            URGENT if track.urgent else case.priority,
            info.stay,
        )
        self._queue(agency, job)

    def _queue(self, agency: Agency, job: Job) -> None:
        pool = agency.pool(job)
        self._order += 1
        if pool.accept(job, self.clock.now, self._order):
            self._start(agency, pool, job)
        elif job.track is not None:
            job.track.note(self.clock.now, EventKind.QUEUED, agency.index)

    def _start(self, agency: Agency, pool: Pool, job: Job) -> None:
        """A server of ``agency``'s ``pool`` starts ``job``."""
        now = self.clock.now
        track = job.track
        if track is not None and track.case.ended:  # a dropped case's queued work
            nxt = pool.release(now)
            if nxt is not None:
                self._start(agency, pool, nxt)
            return
        clockwork = pool.clockwork
        begin = now if clockwork.always_open else clockwork.opens(now)
        if begin > now:  # taken out of hours: it begins when the office opens
            if track is not None and not track.case.ended:
                track.note(now, EventKind.OUT_OF_HOURS, agency.index)
            self.clock.schedule(begin, self._start, agency, pool, job)
            return
        end = clockwork.finish(now, job.duration)
        job.started = now
        pool.account(now, end)
        self.clock.schedule(end, self._finish, agency, pool, job)
        if track is None:
            return
        case = track.case
        info = self._services[job.service]
        track.note(now, EventKind.STARTED, agency.index, job.drawn)
        if info.interviews:
            if not agency.joint_interview or agency.index not in case.interviewed_at:
                case.interviews += 1
            case.interviewed_at.add(agency.index)
        case.first_start.setdefault(job.service, now)
        if info.care and case.first_care_at is None:
            case.first_care_at = now
        if info.managing and case.first_manager_service_at is None:
            case.first_manager_service_at = now
        if agency.case_manager and case.manager is None:
            case.manager = agency.index
            case.manager_since = now
        if info.stay and track.urgent and not job.placed:
            # the child is safe once placed: the case goes on while the stay runs
            job.placed = True
            self.clock.schedule(now, self._next_step, track)

    def _finish(self, agency: Agency, pool: Pool, job: Job) -> None:
        """A server of ``agency`` finishes ``job``; the next queued job starts."""
        now = self.clock.now
        nxt = pool.release(now)
        if nxt is not None:
            self._start(agency, pool, nxt)
        track = job.track
        if track is None or track.case.ended:
            return
        case = track.case
        info = self._services[job.service]
        if not info.stay:
            case.service_days += job.duration
        elif job.service == self.params.norms.stay_service and case.stay_days is None:
            case.stay_days = job.duration
        if job.placed:  # the track has moved on: note the stay's end on the case
            case.note(
                now, EventKind.COMPLETED, agency.index, job.service, job.duration, None, track.index
            )
            return
        resources = self.barriers.resources
        if resources.on and not info.stay:
            rework = resources.rework(track, agency.index, agency.skill, info)
            if rework is not None:
                # not done right: the child comes back later and queues again
                job.outcome = max(0.0, job.outcome - rework.penalty)
                job.reworks += 1
                job.duration = job.drawn = rework.duration
                track.attempt += 1
                self.clock.schedule(now + rework.wait, self._queue, agency, job)
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
        track.note(now, EventKind.COMPLETED, j, job.duration if info.stay else 0.0)
        if job.service == self._assessment:
            case.assessed_by = j
        missing = self.barriers.missing_reports
        discipline = agency.reporting_discipline
        if case.manager is not None and case.manager != j:
            silent = missing.unreported(track, j, discipline)
            self.state.reported(not silent)
            if silent:
                track.unreported_since = now
            else:
                track.unreported_since = None  # a report brings the manager up to date
        if not case.registered and info.registers:
            case.registered = True
            case.recorded = not missing.unrecorded(track, j, discipline)
        lag = sample(info.lag, track, Purpose.LAG, track.attempt) if info.lag.mean else 0.0
        if lag > 0.0 and not track.urgent:  # an urgent result is awaited alongside the case
            self.clock.schedule(now + lag, self._next_step, track)
        else:
            self._next_step(track)

    def _background(self, agency: Agency, stream: random.Random, load: Background) -> None:
        """Work of the agency that is not a traced child case; the next one is scheduled."""
        now = self.clock.now
        rate = load.jobs_per_year / 365.0
        self.clock.schedule(now + stream.expovariate(rate), self._background, agency, stream, load)
        work = draw_duration(load.work, stream.random())
        self._queue(agency, Job(None, "background", work, None, 1.0, work, BACKGROUND))
