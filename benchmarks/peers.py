"""collabsim's model beside a hand-written SimPy model and Ciw, on the same open network.

Usage: .venv/bin/python benchmarks/peers.py [--years 10] [--repeats 3]

The network is ``benchmarks/frictionless.toml``: six stations, exponential
services, probabilistic routing, every barrier off and no latency, so that
all three simulate the same open Jackson network. Each is timed on the
model alone (building and running it, no output tables), side by side in
this process, each on a clean heap (the garbage of the one before collected
first); the table gives medians over the repeats and ratios to the peers,
and the mean time in system of each, with the theory's value. collabsim runs
with the lean trail, as experiments do, and again with the full trail.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import random
import statistics
import time
from collections.abc import Callable, Generator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from collabsim.cases import Trail
from collabsim.experiments.stats import confidence_interval
from collabsim.loading import load_scenario
from collabsim.model import CollaborationModel
from collabsim.scenario import Scenario
from collabsim.verification import Station, jackson

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "frictionless.toml"


def network(s: Scenario) -> tuple[float, list[float], list[list[float]], list[Station]]:
    """The scenario as (arrival rate, entry shares, routing matrix, stations)."""
    names = list(s.services)
    kinds = {t.services[0]: t for t in s.agencies.values()}
    stations = [Station(n, kinds[n].staff, s.services[n].duration.mean) for n in names]
    entry = [s.pathway.entry.get(n, 0.0) for n in names]
    routing = [[s.pathway.routing.get(a, {}).get(b, 0.0) for b in names] for a in names]
    rate = sum(s.arrivals.cases_per_year.values()) / 365.0
    return rate, entry, routing, stations


def run_collabsim(s: Scenario, days: int, seed: int, trail: Trail = "lean") -> float:
    """collabsim's model: mean time in system of cases reported after the warm-up."""
    model = CollaborationModel(s, seed=seed, trail=trail)
    model.run_days(days)
    warm = s.run.warmup_days
    times = [c.closed_at - c.reported_at for c in model.cases
             if c.closed_at is not None and c.reported_at >= warm]  # fmt: skip
    return float(np.mean(times))


def run_simpy(s: Scenario, days: int, seed: int) -> float:
    """A hand-written SimPy model of the same network (what a modeller would write)."""
    import simpy

    rate, entry, routing, stations = network(s)
    rng = random.Random(seed)
    env = simpy.Environment()
    servers = [simpy.Resource(env, capacity=st.servers) for st in stations]
    warm = s.run.warmup_days
    times: list[float] = []
    idx = range(len(stations))

    def case(k: int) -> Generator[simpy.Event, Any, None]:
        start = env.now
        while True:
            with servers[k].request() as req:
                yield req
                yield env.timeout(rng.expovariate(1.0 / stations[k].mean_service))
            u, acc, nxt = rng.random(), 0.0, None
            for j in idx:
                acc += routing[k][j]
                if u < acc:
                    nxt = j
                    break
            if nxt is None:
                if start >= warm:
                    times.append(env.now - start)
                return
            k = nxt

    def arrivals() -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(rng.expovariate(rate))
            k = rng.choices(idx, entry)[0]
            env.process(case(k))

    env.process(arrivals())
    env.run(until=days)
    return float(np.mean(times))


def run_ciw(s: Scenario, days: int, seed: int) -> float:
    """Ciw (an independent queueing-network simulator) on the same network."""
    import ciw

    rate, entry, routing, stations = network(s)
    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate * p) if p > 0 else None for p in entry],
        service_distributions=[ciw.dists.Exponential(1.0 / st.mean_service) for st in stations],
        routing=routing,
        number_of_servers=[st.servers for st in stations],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(net)
    sim.simulate_until_max_time(days)
    warm = s.run.warmup_days
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    for rec in sim.get_all_records():
        first[rec.id_number] = min(first.get(rec.id_number, np.inf), rec.arrival_date)
        last[rec.id_number] = max(last.get(rec.id_number, 0.0), rec.exit_date)
    inside = {i.id_number for node in sim.nodes[1:-1] for i in node.all_individuals}
    done = [last[i] - first[i] for i in first if first[i] >= warm and i not in inside]
    return float(np.mean(done))


def run_heap(s: Scenario, days: int, seed: int) -> float:
    """A bare event-heap loop: the floor any Python simulation of this network stands on."""
    rate, entry, routing, stations = network(s)
    rng = random.Random(seed)
    idx = range(len(stations))
    busy = [0] * len(stations)
    queues: list[list[tuple[int, float]]] = [[] for _ in stations]
    heap: list[tuple[float, int, int, int, float]] = [(rng.expovariate(rate), 0, 0, -1, 0.0)]
    seq, warm, times = 1, s.run.warmup_days, []
    while heap:
        t, _, kind, k, start = heapq.heappop(heap)
        if t > days:
            break
        if kind == 0:  # arrival
            heapq.heappush(heap, (t + rng.expovariate(rate), seq, 0, -1, 0.0))
            seq += 1
            k, start = rng.choices(idx, entry)[0], t
        else:  # a service at station k ends
            if queues[k]:
                nxt_start = queues[k].pop(0)[1]
                svc = rng.expovariate(1.0 / stations[k].mean_service)
                heapq.heappush(heap, (t + svc, seq, 1, k, nxt_start))
                seq += 1
            else:
                busy[k] -= 1
            u, acc, nk = rng.random(), 0.0, -1
            for j in idx:
                acc += routing[k][j]
                if u < acc:
                    nk = j
                    break
            if nk < 0:
                if start >= warm:
                    times.append(t - start)
                continue
            k = nk
        if busy[k] < stations[k].servers:
            busy[k] += 1
            svc = rng.expovariate(1.0 / stations[k].mean_service)
            heapq.heappush(heap, (t + svc, seq, 1, k, start))
            seq += 1
        else:
            queues[k].append((seq, start))
    return float(np.mean(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    s = load_scenario(SCENARIO)
    days = round(args.years * 365)
    if days <= s.run.warmup_days:
        parser.error(f"--years must leave days after the warm-up of {s.run.warmup_days} days")
    rate, entry, routing, stations = network(s)
    theory = jackson(rate, np.array(entry), np.array(routing), stations)["w"]
    peers: dict[str, Callable[[Scenario, int, int], float]] = {
        "collabsim": run_collabsim, "collabsim full trail": partial(run_collabsim, trail="full"),
        "simpy": run_simpy, "ciw": run_ciw, "heap": run_heap,
    }  # fmt: skip
    times: dict[str, list[float]] = {k: [] for k in peers}
    means: dict[str, list[float]] = {k: [] for k in peers}
    for rep in range(args.repeats):
        for name, fn in peers.items():
            gc.collect()  # a clean heap: what the last model left is not charged to this one
            start = time.perf_counter()
            means[name].append(fn(s, days, rep + 1))
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{SCENARIO.name}: {days} days, {args.repeats} repeats; theory W = {theory:.4f} days")
    head = ("model", "median s", "min", "max", "x simpy", "x ciw", "W (95% CI over repeats)")
    print("{:<21} {:>9} {:>7} {:>7} {:>8} {:>6}  {}".format(*head))
    for k in peers:
        lo, hi = confidence_interval(np.array(means[k]))
        print(
            f"{k:<21} {med[k]:>9.3f} {min(times[k]):>7.3f} {max(times[k]):>7.3f} "
            f"{med[k] / med['simpy']:>8.2f} {med[k] / med['ciw']:>6.2f}  "
            f"{statistics.mean(means[k]):.4f} ({lo:.4f} to {hi:.4f})"
        )


if __name__ == "__main__":
    main()
