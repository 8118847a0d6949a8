"""A national-scale network: k copies of Jakarta, each a region of its own (run on demand).

Usage: .venv/bin/python benchmarks/national.py [--k 1 10 30 100] [--days 455] [--repeats 1]

Each copy has Jakarta's cities (renamed ``<city> #r``), agencies and case
volumes; the baseline's province-level agencies (the hub, safe houses, ...)
serve their own copy, as a province's would. For each k the script runs the
simulation in a fresh process (lean trail), ``--repeats`` times, taking the
sizes of k in turn so that a change in the machine's load falls on every k
alike. It prints agencies, cases, the median wall time (with its range),
the median time per case relative to k=1's, and peak memory (the largest
max RSS).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "jakarta-baseline.toml"

CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from national import national
from collabsim.api import simulate
s = national(int(sys.argv[1]), int(sys.argv[2]))
start = time.perf_counter()
model = simulate(s, 1, size_check=False, trail="lean")
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps([len(model.agencies), len(model.cases), wall, rss]))
"""


def national(k: int, days: int = 455) -> Any:
    """The Jakarta baseline copied ``k`` times, each a region with its own province agencies."""
    from collabsim.loading import load_raw, scenario_from_dict
    from collabsim.scenario import PROVINCE

    raw = load_raw(BASELINE)
    cities = list(raw["arrivals"]["cases_per_year"])
    raw["name"] = f"{k} x Jakarta"
    raw["run"]["days"] = days
    raw["arrivals"]["cases_per_year"] = {
        f"{c} #{r}": rate for r in range(k) for c, rate in raw["arrivals"]["cases_per_year"].items()
    }
    raw["regions"] = {f"Jakarta #{r}": [f"{c} #{r}" for c in cities] for r in range(k)}
    for tpl in raw["agencies"].values():
        tpl["per_city"] = {
            (f"Jakarta #{r}" if place == PROVINCE else f"{place} #{r}"): n
            for r in range(k)
            for place, n in tpl["per_city"].items()
        }
    return scenario_from_dict(raw, f"{k} x Jakarta")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, nargs="+", default=[1, 10, 30, 100])
    parser.add_argument("--days", type=int, default=455)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each k (medians)")
    args = parser.parse_args()
    runs: dict[int, list[list[float]]] = {k: [] for k in args.k}
    for rep in range(args.repeats):
        for k in args.k:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(k), str(args.days), str(Path(__file__).parent)],
                capture_output=True, text=True,
            )  # fmt: skip
            if out.returncode:
                sys.exit(f"k={k} failed:\n{out.stderr.strip().splitlines()[-1]}")
            runs[k].append(json.loads(out.stdout.splitlines()[-1]))
            print(f"run {rep + 1}/{args.repeats}, k={k}: {runs[k][-1][2]:.2f} s", file=sys.stderr)
    head = ("k", "agencies", "cases", "wall s", "(min", "max)", "ms/case", "x k=1", "MiB")
    print("{:>4} {:>9} {:>8} {:>8} {:>7} {:>7} {:>8} {:>6} {:>7}".format(*head))
    first = None
    for k, rows in runs.items():
        agencies, cases = rows[0][0], rows[0][1]
        walls = [r[2] for r in rows]
        wall = statistics.median(walls)
        per_case = 1000 * wall / cases
        first = first or per_case
        rss = max(r[3] for r in rows)
        print(
            f"{k:>4} {agencies:>9,} {cases:>8,} {wall:>8.2f} {min(walls):>7.2f} {max(walls):>7.2f} "
            f"{per_case:>8.3f} {per_case / first:>6.2f} {rss / 2**20:>7.0f}"
        )


if __name__ == "__main__":
    main()
