"""Assumptions: the parameters no source gives, their plausible ranges, and futures drawn over them.

Which parameters are assumptions is a property of the model, not of one
scenario: no study measures a rework rate, a hold's length or how fast trust
grows. :data:`ASSUMED` lists them as patterns over the parameters' dotted
names (``*`` stands for one part: any service, agency kind or case type). A
scenario may still cite a source for one of them (its ``[sources]`` table,
e.g. a service norm or a calibration), which takes it off the list.

A scenario's ``[ranges]`` table gives each assumption a plausible range and
a reason. An entry names one parameter, or a pattern whose parameters move
together as one uncertainty; an entry for a single parameter overrides a
pattern that also covers it. :func:`lacking` lists the assumptions still
without a range (``collabsim validate`` reports them). :func:`uncertainties`
turns the ranges into the dimensions a sweep or ``collabsim explore``
samples, and :func:`future` turns a point in them into scenario overrides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from collabsim.scenario import Scenario, matches, parameters

__all__ = [
    "ASSUMED", "SHARES", "Uncertainty", "assumed", "carried", "future", "lacking", "uncertainties",
]  # fmt: skip

ASSUMED: tuple[str, ...] = (
    # time and working conditions (ODD 8.1)
    "run.stall_days",
    "run.follow_up_interval_days",
    "calendar.leave_days_per_year",
    # case mix and families (8.2, 8.3)
    "arrivals.risk.*",
    "arrivals.entry_channels.*.share",
    "pathway.plans.*.*.p",
    "pathway.plans.*.*.sessions",
    "pathway.risk_multiplier.*.*",
    "attrition.withdrawal",
    "attrition.lost_to_follow_up",
    "attrition.repeat_report",
    "attrition.repeat_after.mean",
    # durations (8.4)
    "services.*.duration.mean",
    "services.*.duration.cv",
    "services.*.lag.mean",
    "services.*.lag.cv",
    # agencies (8.5, 8.12)
    "agencies.*.staff",
    "agencies.*.on_call",
    "agencies.*.beds",
    "agencies.*.skill",
    "agencies.*.readiness",
    "agencies.*.sectoral_ego",
    "agencies.*.reporting_discipline",
    "agencies.*.vacancy_rate",
    "agencies.*.background.jobs_per_year",
    "agencies.*.background.work.mean",
    "agencies.*.background.work.cv",
    # network and referral rules (8.6)
    "channels.*.latency_days",
    "channels.*.miscommunication",
    "choice.*",
    "shared_adoption",
    # barriers (8.7): every parameter but the intensities (levers) and the services named
    "barriers.miscommunication.late_share",
    "barriers.miscommunication.misrouted_share",
    "barriers.miscommunication.late_days",
    "barriers.miscommunication.misroute_days",
    "barriers.miscommunication.misroute_latency_factor",
    "barriers.miscommunication.late_penalty",
    "barriers.miscommunication.misrouted_penalty",
    "barriers.miscommunication.lost_penalty",
    "barriers.sectoral_ego.refuse_share",
    "barriers.sectoral_ego.hold_days",
    "barriers.sectoral_ego.refusal_notice_days",
    "barriers.sectoral_ego.hold_penalty",
    "barriers.sop.formal_link_factor",
    "barriers.sop.duplication_effect",
    "barriers.sop.miscommunication_effect",
    "barriers.facility_distrust.learning_rate",
    "barriers.resources.vacancy_rate",
    "barriers.resources.rework_penalty",
    "barriers.resources.rework_scale",
    "barriers.resources.redo_wait.mean",
    "barriers.resources.redo_wait.cv",
    # collaboration dynamics (8.8): every rate, starting level and effect
    "dynamics.*",
    # costs, in rupiah (8.13)
    "agencies.*.staff_cost_per_year",
    "costs.one_off",
    "costs.yearly",
    "costs.years",
)
"""Patterns of the parameters no source gives (``docs/ODD.md`` section 8)."""

SHARES: tuple[str, ...] = (
    "arrivals.case_types.*",
    "arrivals.risk.*",
    "arrivals.entry_channels.*.share",
    "pathway.entry.*",
)
"""Shares that sum to 1: when a future moves some, the others move in proportion."""


def assumed(scenario: Scenario) -> list[str]:
    """The scenario's assumptions: parameters in :data:`ASSUMED` it uses and cites no source for.

    Unused are the dynamics' parameters when the dynamics are off, the
    parameters of miscommunication, sectoral ego and facility distrust when
    that barrier is off, the ``cv`` of a duration that is not lognormal, and
    costs of 0 (nothing priced; ``costs.years`` with no one-off cost).
    """
    b = scenario.barriers
    off = [
        name
        for name, barrier in (("miscommunication", b.miscommunication),
                              ("sectoral_ego", b.sectoral_ego),
                              ("facility_distrust", b.facility_distrust))
        if not barrier.intensity
    ]  # fmt: skip
    skip = [*scenario.sources, *(f"barriers.{name}.*" for name in off)]
    skip += [] if scenario.dynamics.enabled else ["dynamics.*"]
    skip += [] if scenario.costs.one_off else ["costs.years"]
    return [
        key
        for key in parameters(scenario)
        if any(matches(p, key) for p in ASSUMED)
        and not any(matches(c, key) for c in skip)
        and not (key.endswith(".cv") and _at(scenario, key.removesuffix(".cv")).dist != "lognormal")
        and not (_COST.search(key) and not _at(scenario, key))
    ]


_COST = re.compile(r"(^costs\.|\.staff_cost_per_year$)")


def _at(scenario: Scenario, key: str) -> Any:
    """The part of the scenario at a dotted name."""
    node: Any = scenario
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


@dataclass(frozen=True)
class Uncertainty:
    """One entry of a scenario's ``[ranges]``: the parameters it moves and how.

    Attributes:
        name: the entry's key (a parameter's name, or a pattern).
        keys: the parameters it moves (those a more specific entry does not).
        low: the range's low end (a factor, if ``relative``).
        high: its high end.
        relative: ``low`` and ``high`` multiply each parameter's value.
        reason: why the range is what it is.
    """

    name: str
    keys: tuple[str, ...]
    low: float
    high: float
    relative: bool
    reason: str

    def at(self, x: float, base: Mapping[str, float]) -> dict[str, float]:
        """The values of its parameters when the uncertainty takes the value ``x``.

        Args:
            x: a value in [low, high] (a factor, if relative).
            base: the scenario's parameters (:func:`collabsim.scenario.parameters`).
        """
        out: dict[str, float] = {}
        for key in self.keys:
            value = base[key] * x if self.relative else x
            out[key] = round(value) if isinstance(base[key], int) else float(value)
        return out


def uncertainties(scenario: Scenario) -> list[Uncertainty]:
    """The scenario's ranges as uncertainties, each with the parameters it moves.

    A parameter is moved by the most specific entry that matches it (the one
    with fewest ``*``; in file order on a tie). A pattern does not move a
    parameter the scenario cites a source for.
    """
    numbers = parameters(scenario)
    cited = list(scenario.sources)
    owner: dict[str, str] = {}
    for key in numbers:
        if any(matches(c, key) for c in cited) and key not in scenario.ranges:
            continue
        found = [n for n in scenario.ranges if matches(n, key)]
        if found:
            owner[key] = min(found, key=lambda n: n.count("*"))
    return [
        Uncertainty(
            name, tuple(k for k, o in owner.items() if o == name), r.low, r.high, r.relative,
            r.reason,
        )
        for name, r in scenario.ranges.items()
    ]  # fmt: skip


def lacking(scenario: Scenario) -> list[str]:
    """The assumptions of the scenario that no entry of its ``[ranges]`` covers."""
    return [k for k in assumed(scenario) if not any(matches(n, k) for n in scenario.ranges)]


def future(
    scenario: Scenario,
    point: Mapping[str, float],
    dims: Sequence[Uncertainty] | None = None,
    numbers: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Scenario overrides for one future: each named uncertainty at its value.

    Shares that must sum to 1 (:data:`SHARES`) stay so: the shares a future
    does not set are scaled so that all of them sum to 1 again.

    Args:
        scenario: the scenario whose ``[ranges]`` the point is in.
        point: uncertainty name (a key of ``[ranges]``) to its value.
        dims: the scenario's :func:`uncertainties`, if already known.
        numbers: the scenario's :func:`collabsim.scenario.parameters`, if already known.

    Raises:
        ValueError: for a name the scenario's ranges do not have, or shares
            that would sum above 1.
    """
    if not point:
        return {}
    numbers = parameters(scenario) if numbers is None else numbers
    known = {u.name: u for u in (uncertainties(scenario) if dims is None else dims)}
    out: dict[str, float] = {}
    for name, x in point.items():
        if name not in known:
            raise ValueError(f"no range named {name!r} in the scenario")
        out.update(known[name].at(x, numbers))
    for pattern in SHARES:
        group = [k for k in numbers if matches(pattern, k)]
        moved = [k for k in group if k in out]
        if not moved:
            continue
        rest = [k for k in group if k not in out]
        left = 1.0 - sum(out[k] for k in moved)
        before = sum(numbers[k] for k in rest)
        if left < -1e-9 or (rest and before <= 0.0 and left > 1e-9) or (not rest and left > 1e-9):
            raise ValueError(f"shares {pattern} cannot sum to 1 with {dict.fromkeys(moved)}")
        for k in rest:
            out[k] = numbers[k] * max(0.0, left) / before
    return out


def carried(
    values: Mapping[str, float],
    own: set[str],
    policy: Mapping[str, float],
    base: Mapping[str, float],
) -> dict[str, float]:
    """A future's values as a policy carries them over.

    The policy keeps its own value of what it sets (``own``), except a count
    (staff, beds): a policy that adds staff adds them to the future's staff.

    Args:
        values: the future's overrides of the baseline (:func:`future`).
        own: the parameters the policy sets to values of its own.
        policy: the policy's parameters.
        base: the baseline's parameters.
    """
    out = {}
    for k, v in values.items():
        if k not in own:
            out[k] = v
        elif isinstance(base[k], int) and isinstance(policy[k], int):
            out[k] = max(0, round(policy[k] + v - base[k]))
    return out
