"""How long one simulated Jakarta year takes (run on demand, never in the test suite).

Usage: .venv/bin/python benchmarks/year.py [--runs 7]
Prints the median and range of the wall time of one baseline run (the
scenario's 455 days: 90 warm-up days and a measured year) in this process.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import collabsim
from collabsim.api import simulate

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    scenario = collabsim.load_scenario(ROOT / "scenarios" / "jakarta-baseline.toml")
    simulate(scenario, 0)  # warm-up: imports and caches
    times = []
    for seed in range(1, args.runs + 1):
        start = time.perf_counter()
        model = simulate(scenario, seed)
        times.append(time.perf_counter() - start)
    print(
        f"Jakarta baseline, {scenario.run.days} days, {len(model.cases)} cases, "
        f"{len(model.agencies)} agencies: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}) over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
