"""One simulated Jakarta year: barriers on vs off, lean vs full trail (run on demand).

Usage: .venv/bin/python benchmarks/year.py [--runs 7]

Times the model alone (building and running the baseline's whole run: a year
of warm-up, the cohort's year and a year of follow-up), side by side in this
process, as medians over ``--runs`` seeds, each run on a clean heap; and the
whole ``collabsim.run`` (with the output tables).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import collabsim
from collabsim.api import simulate
from collabsim.scenario import BARRIER_NAMES

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "jakarta-baseline.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    on = collabsim.load_scenario(BASELINE)
    off = collabsim.load_scenario(BASELINE, {f"barriers.{b}.intensity": 0.0 for b in BARRIER_NAMES})
    cases: dict[str, int] = {}

    def model(scenario: collabsim.Scenario, trail: str, seed: int, label: str) -> None:
        cases[label] = len(simulate(scenario, seed, trail=trail).cases)  # type: ignore[arg-type]

    variants: dict[str, Callable[[int], object]] = {
        "barriers on, lean trail": lambda s: model(on, "lean", s, "on"),
        "barriers on, full trail": lambda s: model(on, "full", s, "on"),
        "barriers off, lean trail": lambda s: model(off, "lean", s, "off"),
        "collabsim.run (full, with tables)": lambda s: collabsim.run(on, s),
    }
    for fn in variants.values():
        fn(0)  # imports and caches
    times: dict[str, list[float]] = {k: [] for k in variants}
    for seed in range(1, args.runs + 1):
        for name, fn in variants.items():
            gc.collect()  # a clean heap: what the last run left is not charged to this one
            start = time.perf_counter()
            fn(seed)
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"Jakarta baseline, {on.run.days} days (~{cases['on']:,} cases), {args.runs} runs")
    for name, v in times.items():
        print(f"  {name:<36} median {med[name]:.3f} s (min {min(v):.3f}, max {max(v):.3f})")
    lean = med["barriers on, lean trail"]
    print(f"  barriers on / off (lean): {lean / med['barriers off, lean trail']:.2f}")
    print(f"  full / lean trail:        {med['barriers on, full trail'] / lean:.2f}")


if __name__ == "__main__":
    main()
