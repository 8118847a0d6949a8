"""Queueing theory for verification: open Jackson networks, and writing one as a scenario.

With every barrier off, no latency and exponential services, the model is an
open Jackson network; these formulas give what it must reproduce.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from collabsim.loading import scenario_from_dict
from collabsim.scenario import BARRIER_NAMES, MAX_DAYS, Scenario

__all__ = [
    "Station",
    "ciw_mean_time_in_system",
    "jackson",
    "mmc",
    "network_scenario",
    "random_network",
]


@dataclass(frozen=True)
class Station:
    """A station: its name, servers and mean service time (days)."""

    name: str
    servers: int
    mean_service: float


def mmc(arrival_rate: float, mean_service: float, servers: int) -> dict[str, float]:
    """Steady-state M/M/c measures (Erlang C).

    Returns:
        ``rho`` (utilisation), ``p_wait``, ``lq`` (mean number waiting),
        ``wq`` (mean wait), ``l`` (mean number present), ``w`` (mean time at the station).

    Raises:
        ValueError: if the station is unstable (utilisation >= 1).
    """
    lam, mu, c = arrival_rate, 1.0 / mean_service, servers
    a = lam / mu
    rho = a / c
    if rho >= 1.0:
        raise ValueError(f"unstable station: utilisation {rho:.3f} >= 1")
    terms = sum(a**k / math.factorial(k) for k in range(c))
    last = a**c / (math.factorial(c) * (1.0 - rho))
    p_wait = last / (terms + last)
    lq = p_wait * rho / (1.0 - rho)
    wq = lq / lam if lam > 0 else 0.0
    return {"rho": rho, "p_wait": p_wait, "lq": lq, "wq": wq, "l": lq + a, "w": wq + mean_service}


def jackson(
    arrival_rate: float, entry: np.ndarray, routing: np.ndarray, stations: list[Station]
) -> dict[str, Any]:
    """Solve an open Jackson network.

    Args:
        arrival_rate: external arrivals per day.
        entry: the share of external arrivals entering at each station.
        routing: ``routing[i, j]`` = chance of going from i to j (rows sum to at most 1).
        stations: the stations, in the same order.

    Returns:
        ``lam`` (arrival rate per station, from the traffic equations), per-station
        ``stations`` (the M/M/c measures) and ``w`` (mean time in the network,
        by Little's law: the sum of the stations' L over the arrival rate).
    """
    n = len(stations)
    gamma = arrival_rate * np.asarray(entry, dtype=float)
    lam = np.linalg.solve(np.eye(n) - np.asarray(routing, dtype=float).T, gamma)
    per = [mmc(float(lam[i]), s.mean_service, s.servers) for i, s in enumerate(stations)]
    return {"lam": lam, "stations": per, "w": sum(p["l"] for p in per) / arrival_rate}


def network_scenario(
    arrival_rate: float,
    entry: np.ndarray,
    routing: np.ndarray,
    stations: list[Station],
    *,
    days: int = 2000,
    warmup_days: int = 200,
    service: str = "exponential",
    cv: float = 1.0,
) -> Scenario:
    """Write a network as a collabsim scenario: every barrier off, no latency, no lag.

    Args:
        arrival_rate: external arrivals per day.
        entry: entry shares per station.
        routing: routing matrix.
        stations: the stations.
        days: run length.
        warmup_days: warm-up.
        service: ``exponential``, ``lognormal`` or ``fixed``.
        cv: coefficient of variation of a lognormal service.
    """
    names = [s.name for s in stations]
    data: dict[str, Any] = {
        "name": f"network of {len(stations)} stations",
        "run": {"days": days, "warmup_days": warmup_days, "stall_days": float(MAX_DAYS)},
        "arrivals": {"cases_per_year": {"all": arrival_rate * 365.0}, "case_types": {"any": 1.0}},
        "services": {
            s.name: {"duration": {"dist": service, "mean": s.mean_service, "cv": cv}}
            for s in stations
        },
        "agencies": {
            f"station_{s.name}": {
                "sector": "one",
                "services": [s.name],
                "per_city": {"all": 1},
                "staff": s.servers,
            }
            for s in stations
        },
        "pathway": {
            "kind": "routing",
            "entry": {n: float(p) for n, p in zip(names, entry, strict=True) if p > 0},
            "routing": {
                names[i]: {
                    names[j]: float(routing[i, j]) for j in range(len(names)) if routing[i, j] > 0
                }
                for i in range(len(names))
            },
        },
        "barriers": {b: {"intensity": 0.0} for b in BARRIER_NAMES},
        "dynamics": {"enabled": False},
    }
    return scenario_from_dict(data, "network")


def random_network(
    rng: np.random.Generator, n: int, max_utilisation: float = 0.85
) -> tuple[float, np.ndarray, np.ndarray, list[Station]]:
    """A random open network whose busiest station has utilisation ``max_utilisation``.

    Returns:
        (arrival rate, entry shares, routing matrix, stations).
    """
    routing = rng.uniform(0, 1, (n, n)) * (rng.uniform(0, 1, (n, n)) < 0.5)
    routing *= rng.uniform(0.3, 0.8, (n, 1)) / np.maximum(routing.sum(axis=1, keepdims=True), 1e-9)
    entry = rng.dirichlet(np.ones(n))
    servers = rng.integers(1, 4, n)
    means = rng.uniform(0.2, 1.0, n)
    base = jackson(1.0, entry, routing, [Station("x", 1, 1e-9)] * n)["lam"] if n else None
    load = np.asarray(base) * means / servers  # utilisation per unit arrival rate
    rate = max_utilisation / float(load.max())
    stations = [Station(f"s{i}", int(servers[i]), float(means[i])) for i in range(n)]
    return rate, entry, routing, stations


def ciw_mean_time_in_system(
    arrival_rate: float,
    entry: np.ndarray,
    routing: np.ndarray,
    stations: list[Station],
    days: float,
    warmup: float,
    seed: int,
    service: str = "exponential",
    cv: float = 1.0,
) -> float:
    """Mean time in the network of the same network simulated by Ciw (an independent peer).

    Needs the ``ciw`` package (a test-only dependency). Customers are counted
    as in collabsim: those arriving after the warm-up who have left by the end.
    """
    import ciw

    def dist(mean: float) -> Any:
        if service == "exponential":
            return ciw.dists.Exponential(1.0 / mean)
        sigma2 = math.log1p(cv * cv)
        return ciw.dists.Lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))

    network = ciw.create_network(
        arrival_distributions=[
            ciw.dists.Exponential(arrival_rate * p) if p > 0 else None for p in entry
        ],
        service_distributions=[dist(s.mean_service) for s in stations],
        routing=[list(map(float, row)) for row in routing],
        number_of_servers=[s.servers for s in stations],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(days)
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    for rec in sim.get_all_records():
        first[rec.id_number] = min(first.get(rec.id_number, math.inf), rec.arrival_date)
        last[rec.id_number] = max(last.get(rec.id_number, 0.0), rec.exit_date)
    inside = {i.id_number for node in sim.nodes[1:-1] for i in node.all_individuals}
    times = [last[i] - first[i] for i in first if first[i] >= warmup and i not in inside]
    return float(np.mean(times))
