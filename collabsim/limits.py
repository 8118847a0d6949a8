"""Will a run fit? Its memory and time, estimated from the scenario before it starts.

A scenario can be valid and still impossible here: 200,000 agencies need
hundreds of GiB for their pair state, a million reports a year for a century
need more memory than any machine has. :func:`check_fits` refuses such a run
before it starts, with a message that says why and how to override.

The costs below were measured on the Jakarta baseline scaled up (cases x4,
days x4, puskesmas x20 and x60) and on k copies of Jakarta up to k = 100
(11,800 agencies, 146,000 cases: 409 MiB, 56 s) on a 2-core machine;
``benchmarks/footprint.py`` prints the estimate beside the measurement. They
are deliberately generous.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from collabsim.i18n import N_, Translator, _, translator
from collabsim.loading import ScenarioError
from collabsim.network import network_size
from collabsim.scenario import Scenario

__all__ = ["Footprint", "RunTooLarge", "available_memory", "check_fits", "footprint"]

BASE_BYTES = 250 * 2**20
"""The interpreter with numpy, pandas and mesa loaded."""
BYTES_PER_CASE = 16 * 2**10
"""A case, its trail and its rows in the output tables (measured ~2-9 KiB)."""
BYTES_PER_AGENCY = 4 * 2**10
"""An agency, its node in the network and its share of the daily state."""
BYTES_PER_EDGE = 1024
"""A referral-network edge (networkx dictionaries) and the trust of its two pairs."""
SECONDS_PER_CASE = 1.2e-3
"""Simulating one case and building its outputs (measured ~0.7-1.1 ms with parallel tracks)."""
SECONDS_PER_BACKGROUND_JOB = 3e-5
"""One piece of background work with its queueing (measured ~20 us)."""
SECONDS_PER_CHOICE = 2e-6
"""Per case and per provider that its widest referral chooses among (measured ~1.2 us)."""
SECONDS_PER_AGENCY_DAY = 2e-7
"""The daily work per agency (counts, commitment, indices)."""
MAX_MINUTES = 60.0
"""Runs estimated to take longer than this are refused unless the check is off."""
MEMORY_SHARE = 0.8
"""Runs estimated to need more than this share of the available memory are refused."""


@dataclass(frozen=True)
class Footprint:
    """What a run needs, estimated before it starts.

    Attributes:
        agencies: agencies in the model.
        edges: referral-network edges.
        cases: expected reports over the whole run.
        memory_bytes: peak memory of one run.
        seconds: wall time of one run on one core.
    """

    agencies: int
    edges: int
    cases: float
    memory_bytes: float
    seconds: float


class RunTooLarge(ScenarioError):
    """A run the machine cannot hold or finish in reasonable time."""

    headline = N_("too large to run here")


def footprint(scenario: Scenario) -> Footprint:
    """Estimate the memory and time one run of ``scenario`` needs."""
    counts = {k: sum(t.per_city.values()) for k, t in scenario.agencies.items()}
    agencies = sum(counts.values())
    edges, widest = network_size(scenario)
    days = scenario.run.days
    cases = sum(scenario.arrivals.cases_per_year.values()) * days / 365.0
    memory = BASE_BYTES + BYTES_PER_CASE * cases + BYTES_PER_AGENCY * agencies
    memory += BYTES_PER_EDGE * edges
    seconds = (SECONDS_PER_CASE + SECONDS_PER_CHOICE * widest) * cases
    seconds += SECONDS_PER_AGENCY_DAY * days * agencies
    jobs = sum(
        counts[k] * t.background.jobs_per_year
        for k, t in scenario.agencies.items()
        if t.background is not None
    )
    seconds += SECONDS_PER_BACKGROUND_JOB * jobs * days / 365.0
    return Footprint(agencies, edges, cases, memory, seconds)


def available_memory() -> float:
    """Bytes of memory available to a new process (``MemAvailable``, else free physical)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def _gib(n: float, t: Translator) -> str:
    return _("{amount} GiB").format(amount=t.number(n / 2**30, 1))


def check_fits(scenario: Scenario, source: str, parallel: int = 1) -> Footprint:
    """Refuse a run that cannot fit in this machine's memory or would run for hours.

    Args:
        scenario: the scenario.
        source: the scenario's file (or name), for the message.
        parallel: runs held in memory at once (worker processes).

    Returns:
        The estimate, when the run fits.

    Raises:
        RunTooLarge: naming what drives the size and how to override (in the language in use).
    """
    f = footprint(scenario)
    t = translator()
    override = _("or pass --no-size-check (Python: size_check=False) to try anyway")
    drivers = _("{agencies} agencies, about {cases} cases over {days} days").format(
        agencies=t.number(f.agencies),
        cases=t.number(round(f.cases)),
        days=t.number(scenario.run.days),
    )
    need, have = f.memory_bytes * parallel, available_memory() * MEMORY_SHARE
    if need > have:
        if parallel > 1:
            problem = _(
                "needs about {need} of memory ({parallel} runs at once) for {drivers}; {have} can "
                "be used here. Lower agencies.*.per_city, arrivals.cases_per_year or run.days, "
                "or --workers, {override}"
            )
        else:
            problem = _(
                "needs about {need} of memory for {drivers}; {have} can be used here. Lower "
                "agencies.*.per_city, arrivals.cases_per_year or run.days, {override}"
            )
        text = problem.format(
            need=_gib(need, t), parallel=t.number(parallel), drivers=drivers, have=_gib(have, t),
            override=override,
        )  # fmt: skip
        raise RunTooLarge(source, ["run: " + text])
    if f.seconds > MAX_MINUTES * 60:
        text = _(
            "would take about {hours} hours for {drivers} (the limit is {minutes} minutes a run). "
            "Shorten run.days or lower arrivals.cases_per_year or agencies.*.per_city, {override}"
        ).format(
            hours=t.number(f.seconds / 3600, 1), drivers=drivers, minutes=t.short(MAX_MINUTES),
            override=override,
        )  # fmt: skip
        raise RunTooLarge(source, ["run: " + text])
    return f
