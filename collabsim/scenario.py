"""Scenario schema: the parameters of a simulation, as validated data.

A scenario is plain data. It is loaded from TOML by :mod:`collabsim.loading`
and handed to the model; the model never reads files. Every field is
documented once, in ``docs/scenario-reference.md``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BARRIER_NAMES",
    "MAX_CASES_PER_YEAR",
    "MAX_COUNT",
    "MAX_DAYS",
    "MAX_FACTOR",
    "PROVINCE",
    "SURVEY_INDICATORS",
    "AgencyTemplate",
    "Arrivals",
    "Assumption",
    "Attrition",
    "Background",
    "Barriers",
    "Calendar",
    "Channel",
    "Choice",
    "Costs",
    "Distribution",
    "Dynamics",
    "EntryChannel",
    "Link",
    "Norms",
    "Pathway",
    "PlanItem",
    "Run",
    "Scenario",
    "Service",
    "Shock",
    "Survey",
    "matches",
    "parameters",
]

PROVINCE = "province"
"""City name of an agency that serves every city."""

# The documented domain of every number (docs/scenario-reference.md). Upper
# bounds are generous: they catch typos and values no run could finish with.
MAX_DAYS = 36_500
"""The longest run, and the longest duration, in days (100 years)."""
MAX_CASES_PER_YEAR = 1_000_000
"""The most reports per city and year."""
MAX_COUNT = 10_000
"""The most agencies of one kind in one city, and the most staff of one agency."""
MAX_FACTOR = 100.0
"""The largest risk multiplier, choice weight or mean number of sessions."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Rupiah = Annotated[float, Field(ge=0.0, le=1e15)]
"""A chance or a share, in [0, 1]."""
Intensity = Annotated[float, Field(ge=0.0, le=1.0)]
"""How strongly a barrier acts: 0 = off, 1 = as found."""
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
"""A fraction of a gap closed per event or per day, in [0, 1]."""
Days = Annotated[float, Field(ge=0.0, le=MAX_DAYS)]
"""A duration in days, in [0, MAX_DAYS]."""
PositiveDays = Annotated[float, Field(gt=0.0, le=MAX_DAYS)]
"""A duration in days, in (0, MAX_DAYS]."""
Factor = Annotated[float, Field(ge=0.0, le=MAX_FACTOR)]
"""A non-negative multiplier or weight, in [0, MAX_FACTOR]."""
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
"""A whole number of agencies, in [0, MAX_COUNT]."""


class _Strict(BaseModel):
    # strict: no true for a number, no "60" for 60; every float finite
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Distribution(_Strict):
    """A non-negative duration in days.

    ``exponential`` uses only ``mean``; ``lognormal`` uses ``mean`` and the
    coefficient of variation ``cv``; ``fixed`` is always ``mean``.
    """

    dist: Literal["exponential", "lognormal", "fixed"] = "exponential"
    mean: Days
    cv: float = Field(default=1.0, gt=0.0, le=10.0)


class Service(_Strict):
    """One kind of service a case may need.

    A ``work`` service takes staff time (``duration`` in staff-days of eight
    working hours, done in the agency's working time); a ``stay`` takes a bed
    for ``duration`` calendar days (a safe house, a shelter).
    """

    stage: Literal["entry", "case_management", "care"] = "care"
    kind: Literal["work", "stay"] = "work"
    duration: Distribution
    lag: Distribution = Distribution(dist="fixed", mean=0.0)
    interviews_child: bool = False


class Background(_Strict):
    """Work an agency does that is not a traced child case (e.g. adult victims)."""

    jobs_per_year: Annotated[float, Field(ge=0.0, le=MAX_CASES_PER_YEAR)]
    work: Distribution


class AgencyTemplate(_Strict):
    """Agencies of one kind (the table's key), instantiated per city."""

    sector: str
    services: list[str]
    per_city: dict[str, Count]
    staff: int = Field(ge=1, le=MAX_COUNT)
    skill: Probability = 0.9
    readiness: Probability = 0.8
    sectoral_ego: Probability = 0.0
    reporting_discipline: Probability = 1.0
    case_manager: bool = False
    hours: Literal["office", "24h"] = "office"
    on_call: int = Field(default=0, ge=0, le=MAX_COUNT)
    beds: int = Field(default=0, ge=0, le=MAX_COUNT)
    vacancy_rate: float | None = Field(default=None, ge=0.0, lt=1.0)
    joint_interview: bool = False
    background: Background | None = None
    staff_cost_per_year: Rupiah = 0.0


class Channel(_Strict):
    """A way of sending a referral."""

    latency_days: Days
    miscommunication: Probability


class Link(_Strict):
    """Referral edges from every agency of one kind to every agency of another."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    channel: str
    sop: bool = False
    same_city: bool = True


class EntryChannel(_Strict):
    """How a report reaches the system.

    ``service`` is the first-contact service at an agency of the case's city
    (e.g. a complaint post's counselling); without it the case starts
    directly with the pathway's first step.
    """

    share: Probability
    service: str | None = None


class Arrivals(_Strict):
    """Case arrivals: a Poisson process per city and the mix of cases."""

    cases_per_year: dict[str, Annotated[float, Field(ge=0.0, le=MAX_CASES_PER_YEAR)]]
    case_types: dict[str, Probability]
    risk: dict[str, Probability] = {"medium": 1.0}
    priority: list[str] = []
    entry_channels: dict[str, EntryChannel] = {"direct": EntryChannel(share=1.0)}


class PlanItem(_Strict):
    """Whether a case of one type needs a service, and how many sessions."""

    p: Probability
    sessions: float = Field(default=1.0, ge=1.0, le=MAX_FACTOR)


class Pathway(_Strict):
    """The steps a case goes through.

    ``kind = "plan"``: entry steps, then the care services of the case's plan
    (drawn by type and risk), then the closing steps. The care services run
    in ``tracks`` that go on at the same time (each track in its own order),
    or, without tracks, one after another in ``order``. For a risk level in
    ``urgent``, those of its services the case needs come first, at once and
    at the same time, right after the intake.
    ``kind = "routing"``: a Markov routing between services (an open
    queueing network); a case leaves when the routing row sums below one.
    """

    kind: Literal["plan", "routing"] = "plan"
    entry_steps: list[str] = []
    closing_steps: list[str] = []
    order: list[str] = []
    tracks: list[list[str]] = []
    urgent: dict[str, list[str]] = {}
    plans: dict[str, dict[str, PlanItem]] = {}
    risk_multiplier: dict[str, dict[str, Factor]] = {}
    entry: dict[str, Probability] = {}
    routing: dict[str, dict[str, Probability]] = {}
    max_steps: int = Field(default=200, ge=1, le=MAX_COUNT)


class Miscommunication(_Strict):
    """Barrier 1 parameters."""

    intensity: Intensity = 1.0
    late_share: Probability = 0.5
    misrouted_share: Probability = 0.3
    late_days: Days = 3.0
    misroute_days: Days = 2.0
    misroute_latency_factor: Factor = 3.0
    late_penalty: Probability = 0.3
    misrouted_penalty: Probability = 0.4
    lost_penalty: Probability = 0.5


class TaskDuplication(_Strict):
    """Barrier 2 parameters."""

    intensity: Intensity = 1.0
    service: str = "assessment"


class MissingReports(_Strict):
    """Barrier 3 parameters."""

    intensity: Intensity = 1.0


class SectoralEgo(_Strict):
    """Barrier 4 parameters."""

    intensity: Intensity = 1.0
    refuse_share: Probability = 0.3
    hold_days: Days = 5.0
    refusal_notice_days: Days = 3.0
    hold_penalty: Probability = 0.8


class SopFragmentation(_Strict):
    """Barrier 5 parameters: ``intensity`` is one minus SOP integration."""

    intensity: Intensity = 1.0
    service: str = "intake"
    formal_link_factor: Probability = 0.5
    duplication_effect: Probability = 0.0
    miscommunication_effect: Probability = 0.0


class FacilityDistrust(_Strict):
    """Barrier 6 parameters."""

    intensity: Intensity = 1.0
    learning_rate: Rate = 0.1


class Resources(_Strict):
    """Barrier 7 parameters."""

    intensity: Intensity = 1.0
    vacancy_rate: float = Field(default=0.0, ge=0.0, lt=1.0)
    rework_penalty: Probability = 0.3
    rework_scale: Factor = 1.0
    redo_wait: Distribution | None = None


class Barriers(_Strict):
    """The seven barriers of the study; each is off at ``intensity = 0``."""

    miscommunication: Miscommunication = Miscommunication()
    task_duplication: TaskDuplication = TaskDuplication()
    missing_reports: MissingReports = MissingReports()
    sectoral_ego: SectoralEgo = SectoralEgo()
    sop: SopFragmentation = SopFragmentation()
    facility_distrust: FacilityDistrust = FacilityDistrust()
    resources: Resources = Resources()


BARRIER_NAMES: tuple[str, ...] = tuple(Barriers.model_fields)


class Dynamics(_Strict):
    """Collaboration dynamics (Emerson & Nabatchi): the evolving state and its rates.

    Starting values (``initial_*``, ``hub_leadership``) are where a run
    begins; a ``[survey]`` table, when given, overrides them. Resting
    (``neutral_*``) values are where pair trust and understanding relax to
    when nothing happens. Build and erosion rates are per day.
    """

    enabled: bool = True
    initial_trust: Probability = 0.5
    same_sector_trust: Probability = 0.7
    initial_understanding: Probability = 0.4
    neutral_trust: Probability = 0.5
    neutral_understanding: Probability = 0.4
    trust_gain: Rate = 0.05
    trust_loss: Rate = 0.15
    understanding_gain: Rate = 0.01
    decay_per_day: Rate = 0.002
    initial_legitimacy: Probability = 0.6
    legitimacy_rate: Rate = 0.05
    initial_commitment: Probability = 0.6
    commitment_rate: Rate = 0.05
    conference_gain: Rate = 0.1
    conference_interval_days: PositiveDays = 30.0
    conference_quality: Probability = 0.7
    conference_action: Probability = 0.8
    conference_queue_days: PositiveDays = 14.0
    conference_norm_days: PositiveDays = 30.0
    hub_leadership: Probability = 0.6
    initial_knowledge: Probability = 0.5
    initial_determination: Probability = 0.5
    procedural_build: Rate = 0.0
    procedural_erosion: Rate = 0.0
    leadership_build: Rate = 0.0
    leadership_erosion: Rate = 0.0
    knowledge_build: Rate = 0.0
    knowledge_erosion: Rate = 0.0
    knowledge_effect: Probability = 0.0
    link_formalise: Probability = 0.0
    link_lapse: Rate = 0.0
    indicator_smoothing: Rate = 0.05


SURVEY_INDICATORS = (
    "discovery", "definition", "deliberation", "determination",
    "trust", "understanding", "legitimacy", "commitment",
    "procedural", "leadership", "knowledge", "resources",
)  # fmt: skip
"""The twelve indicators of the three components, in order (engagement, motivation, capacity)."""

Likert = Annotated[float, Field(ge=1.0, le=5.0)]
"""A mean answer on a 1-5 agreement scale."""


class Survey(_Strict):
    """Where the collaboration starts, from interviews: a 1-5 Likert mean per indicator.

    Each given indicator's starting value becomes ``(mean - 1) / 4``; the
    ones not given keep the ``[dynamics]`` defaults (see docs/model.md).
    """

    discovery: Likert | None = None
    definition: Likert | None = None
    deliberation: Likert | None = None
    determination: Likert | None = None
    trust: Likert | None = None
    understanding: Likert | None = None
    legitimacy: Likert | None = None
    commitment: Likert | None = None
    procedural: Likert | None = None
    leadership: Likert | None = None
    knowledge: Likert | None = None
    resources: Likert | None = None

    def start(self, indicator: str) -> float | None:
        """The indicator's starting value in [0, 1] (``None``: the survey does not give it)."""
        value: float | None = getattr(self, indicator)
        return None if value is None else (value - 1.0) / 4.0


class Shock(_Strict):
    """A spell in which something is worse than usual, then back as it was.

    ``sectoral_ego`` multiplies every agency's sectoral ego (a chance, capped
    at 1); ``staffing`` multiplies every agency's staff on duty (at least one
    stays).
    """

    what: Literal["sectoral_ego", "staffing"]
    start_day: int = Field(ge=0, le=MAX_DAYS)
    days: int = Field(ge=1, le=MAX_DAYS)
    factor: Factor


class Choice(_Strict):
    """Weights of a referrer's choice of provider (the case manager's, or the holder's before)."""

    sop: Factor = 1.0
    trust: Factor = 1.0
    readiness: Factor = 0.5
    load: Factor = 0.5
    same_city: Factor = 1.0
    noise: Factor = 0.05


class Run(_Strict):
    """Length of a run and what counts in its statistics.

    The measured cohort is the cases reported from ``warmup_days`` for
    ``measure_days`` (to the end of the run if not given, or if the run ends
    sooner), followed until the run ends.
    """

    days: int = Field(default=365, ge=1, le=MAX_DAYS)
    warmup_days: int = Field(default=0, ge=0, le=MAX_DAYS)
    measure_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    stall_days: PositiveDays = 60.0
    hours_per_staff_day: float = Field(default=8.0, gt=0.0, le=24.0)
    follow_up_interval_days: PositiveDays = 14.0
    follow_up_norm_working_days: int = Field(default=3, ge=0, le=MAX_DAYS)

    @property
    def cohort_end(self) -> float:
        """The end of the window whose reports are measured (the cohort)."""
        if self.measure_days is None:
            return float(self.days)
        return float(min(self.days, self.warmup_days + self.measure_days))


class Calendar(_Strict):
    """Working time: office hours, the working week, holidays and leave.

    Off (the default), every hour is working time and a staff-day of work
    takes one day: the queueing-network reading.
    """

    enabled: bool = False
    office_hours: Annotated[list[float], Field(min_length=2, max_length=2)] = [8.0, 16.0]
    week: int = Field(default=5, ge=1, le=7)
    holidays: list[Annotated[int, Field(ge=0, le=364)]] = []
    leave_days_per_year: float = Field(default=0.0, ge=0.0, le=365.0)


class Attrition(_Strict):
    """Cases that do not run their course, and children reported again."""

    withdrawal: Probability = 0.0
    withdrawal_service: str = "police"
    lost_to_follow_up: Probability = 0.0
    repeat_report: Probability = 0.0
    repeat_after: Distribution = Distribution(dist="exponential", mean=180.0)


class Norms(_Strict):
    """Service norms the outputs measure compliance with."""

    first_response_hours: dict[str, Annotated[float, Field(gt=0.0, le=MAX_DAYS * 24.0)]] = {}
    response_service: str = "intake"
    stay_service: str = "safe_house"
    stay_days: PositiveDays = 7.0
    exam_service: str = "health"


class Costs(_Strict):
    """What a scenario's intervention costs beyond its staff (rupiah): see ``[costs]``."""

    one_off: Rupiah = 0.0
    yearly: Rupiah = 0.0
    years: float = Field(default=5.0, gt=0.0, le=100.0)


class Assumption(_Strict):
    """A plausible range for a value no source gives, and why (``ranges`` in a scenario).

    The key it is given under names one parameter (``services.police.lag.mean``)
    or, with ``*`` for one part of the name, every parameter that matches
    (``services.*.duration.cv``): they then move together, as one uncertainty.
    With ``relative``, ``low`` and ``high`` multiply each parameter's value.
    """

    low: float
    high: float
    reason: str = ""
    relative: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Assumption:
        if self.high < self.low:
            raise ValueError("high must not be below low")
        return self


class Scenario(_Strict):
    """A whole scenario. See ``docs/scenario-reference.md``."""

    name: str = "unnamed"
    description: str = ""
    run: Run = Run()
    arrivals: Arrivals
    services: dict[str, Service]
    agencies: dict[str, AgencyTemplate]
    regions: dict[str, list[str]] = {}
    channels: dict[str, Channel] = {"direct": Channel(latency_days=0.0, miscommunication=0.0)}
    default_channel: str = "direct"
    links: list[Link] = []
    pathway: Pathway
    barriers: Barriers = Barriers()
    dynamics: Dynamics = Dynamics()
    choice: Choice = Choice()
    shared_case_system: bool = False
    shared_channel: str = "system"
    shared_adoption: Probability = 1.0
    calendar: Calendar = Calendar()
    attrition: Attrition = Attrition()
    norms: Norms = Norms()
    survey: Survey = Survey()
    shocks: list[Shock] = []
    costs: Costs = Costs()
    ranges: dict[str, Assumption] = {}
    sources: dict[str, str] = {}

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        """Check the references between sections; raise naming the field."""
        errors = _cross_field_errors(self)
        if errors:
            raise ValueError("\n".join(errors))  # each named field on a line of its own
        return self

    @property
    def cities(self) -> list[str]:
        """The cities with case arrivals, in scenario order."""
        return list(self.arrivals.cases_per_year)


def _shares_error(field: str, shares: dict[str, float]) -> str | None:
    total = sum(shares.values())
    if not shares or not math.isclose(total, 1.0, abs_tol=1e-6):
        return f"{field}: shares must sum to 1 (they sum to {total:g})"
    return None


def _cross_field_errors(s: Scenario) -> list[str]:
    errs: list[str] = []
    services = set(s.services)
    kinds = set(s.agencies)
    cities = set(s.cities) | set(s.regions) | {PROVINCE}
    member: dict[str, str] = {}
    for region, members in s.regions.items():
        if region in s.cities or region == PROVINCE:
            errs.append(f"regions.{region}: a region cannot be named like a city or {PROVINCE!r}")
        for city in members:
            if city not in s.cities:
                errs.append(f"regions.{region}: unknown city {city!r}")
            elif city in member:
                errs.append(f"regions.{region}: {city!r} is already in region {member[city]!r}")
            member[city] = region
    offered: set[str] = set()
    if s.run.warmup_days >= s.run.days:
        errs.append(
            f"run.warmup_days: must be less than run.days ({s.run.warmup_days} >= {s.run.days})"
        )
    for kind, tpl in s.agencies.items():
        if sum(tpl.per_city.values()) > 0:  # a kind with no agency offers nothing
            offered |= set(tpl.services)
        for svc in tpl.services:
            if svc not in services:
                errs.append(f"agencies.{kind}.services: unknown service {svc!r}")
        for city in tpl.per_city:
            if city not in cities:
                errs.append(
                    f"agencies.{kind}.per_city: unknown city or region {city!r} "
                    f"(expected one of {sorted(cities)[:12]}{', ...' if len(cities) > 12 else ''})"
                )
    for i, link in enumerate(s.links):
        for end, kind in (("from", link.source), ("to", link.target)):
            if kind not in kinds:
                errs.append(f"links[{i}].{end}: unknown agency kind {kind!r}")
        if link.channel not in s.channels:
            errs.append(f"links[{i}].channel: unknown channel {link.channel!r}")
    if s.default_channel not in s.channels:
        errs.append(f"default_channel: unknown channel {s.default_channel!r}")
    if s.shared_case_system and s.shared_channel not in s.channels:
        errs.append(f"shared_channel: unknown channel {s.shared_channel!r}")
    a = s.arrivals
    for level in a.priority:
        if level not in a.risk:
            errs.append(f"arrivals.priority: unknown risk level {level!r}")
    for name, shares in (
        ("arrivals.case_types", a.case_types),
        ("arrivals.risk", a.risk),
        ("arrivals.entry_channels", {k: v.share for k, v in a.entry_channels.items()}),
    ):
        if (e := _shares_error(name, shares)) is not None:
            errs.append(e)
    used: list[tuple[str, str]] = [
        (f"arrivals.entry_channels.{name}.service", ch.service)
        for name, ch in a.entry_channels.items()
        if ch.service is not None
    ]
    p = s.pathway
    used += [("pathway.entry_steps", x) for x in p.entry_steps]
    used += [("pathway.closing_steps", x) for x in p.closing_steps]
    used += [("pathway.order", x) for x in p.order]
    if p.kind == "plan":
        for ctype in a.case_types:
            if ctype not in p.plans:
                errs.append(f"pathway.plans: no plan for case type {ctype!r}")
        in_tracks = [x for track in p.tracks for x in track]
        placed, where = (in_tracks, "pathway.tracks") if p.tracks else (p.order, "pathway.order")
        for x in {x for x in in_tracks if in_tracks.count(x) > 1}:
            errs.append(f"pathway.tracks: {x!r} is in more than one track")
        used += [("pathway.tracks", x) for x in in_tracks]
        for ctype, plan in p.plans.items():
            for svc in plan:
                used.append((f"pathway.plans.{ctype}", svc))
                if svc not in placed:
                    errs.append(f"pathway.plans.{ctype}.{svc}: not listed in {where}")
        for risk, urgent in p.urgent.items():
            if risk not in a.risk:
                errs.append(f"pathway.urgent.{risk}: unknown risk level")
            used += [(f"pathway.urgent.{risk}", x) for x in urgent]
        for risk, mult in p.risk_multiplier.items():
            if risk not in a.risk:
                errs.append(f"pathway.risk_multiplier.{risk}: unknown risk level")
            used += [(f"pathway.risk_multiplier.{risk}", x) for x in mult]
    else:
        if (e := _shares_error("pathway.entry", p.entry)) is not None:
            errs.append(e)
        used += [("pathway.entry", x) for x in p.entry]
        for src, row in p.routing.items():
            used.append(("pathway.routing", src))
            used += [(f"pathway.routing.{src}", x) for x in row]
            if sum(row.values()) > 1.0 + 1e-9:
                errs.append(f"pathway.routing.{src}: probabilities sum above 1")
    b = s.barriers
    if b.miscommunication.late_share + b.miscommunication.misrouted_share > 1.0 + 1e-9:
        errs.append("barriers.miscommunication: late_share + misrouted_share must be <= 1")
    if b.task_duplication.intensity > 0:
        used.append(("barriers.task_duplication.service", b.task_duplication.service))
    if b.sop.intensity > 0:
        used.append(("barriers.sop.service", b.sop.service))
    if s.attrition.withdrawal > 0:
        used.append(("attrition.withdrawal_service", s.attrition.withdrawal_service))
    for risk in s.norms.first_response_hours:
        if risk not in a.risk:
            errs.append(f"norms.first_response_hours.{risk}: unknown risk level")
    for field, svc in used:
        if svc not in services:
            errs.append(f"{field}: unknown service {svc!r}")
        elif svc not in offered and not field.startswith("barriers"):
            errs.append(f"{field}: no agency offers service {svc!r}")
    for kind, tpl in s.agencies.items():
        stays = [x for x in tpl.services if x in services and s.services[x].kind == "stay"]
        if stays and tpl.beds == 0 and sum(tpl.per_city.values()) > 0:
            errs.append(f"agencies.{kind}.beds: offers the stay {stays[0]!r} but has no beds")
    opens, closes = s.calendar.office_hours
    if not 0.0 <= opens < closes <= 24.0:
        errs.append("calendar.office_hours: expected [open, close] with 0 <= open < close <= 24")
    numbers = parameters(s)
    for table, keys in (("ranges", s.ranges), ("sources", s.sources)):
        errs += [f"{table}.{key}: {e}" for key in keys if (e := _key_error(s, numbers, key))]
    for key, r in s.ranges.items():
        if r.relative and r.low < 0.0:
            errs.append(f"ranges.{key}: a relative range's factors must not be negative")
    return errs


def _key_error(s: Scenario, numbers: dict[str, float], key: str) -> str | None:
    """Why ``key`` (a name, or a pattern with ``*``) names no number of the scenario, if so.

    A value outside its range is allowed: sweeps and what-ifs go there.
    """
    if "*" in key:
        return None if any(matches(key, k) for k in numbers) else "matches no number"
    node: object = s
    for part in key.split("."):
        if isinstance(node, BaseModel) and part in type(node).model_fields:
            node = getattr(node, part)
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return "no such parameter"
    return None if key in numbers else "not a number"


def parameters(s: BaseModel) -> dict[str, float]:
    """Every number of a scenario by its dotted name, e.g. ``services.police.lag.mean``.

    Lists (links, shocks, holidays) and the ``ranges`` and ``sources`` tables
    are left out; a flag (true or false) is not a number.
    """
    out: dict[str, float] = {}

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, BaseModel):
            items = [(k, getattr(node, k)) for k in type(node).model_fields]
        elif isinstance(node, dict):
            items = list(node.items())
        else:
            if isinstance(node, int | float) and not isinstance(node, bool):
                out[prefix] = node
            return
        for k, v in items:
            if not prefix and k in ("ranges", "sources"):
                continue
            walk(v, f"{prefix}.{k}" if prefix else str(k))

    walk(s, "")
    return out


def matches(pattern: str, key: str) -> bool:
    """Whether a dotted name matches a pattern (``*`` stands for one whole part)."""
    want, have = pattern.split("."), key.split(".")
    return len(want) == len(have) and all(w in ("*", h) for w, h in zip(want, have, strict=True))
