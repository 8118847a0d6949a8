"""The size check's estimates beside measured memory and time (run on demand).

Usage: .venv/bin/python benchmarks/footprint.py
Runs the Jakarta baseline scaled up (more cases, more days, more agencies),
each in a fresh process, and prints the estimate of ``collabsim.limits``
next to the measured peak memory (max RSS) and wall time of the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import collabsim
from collabsim.api import resolve_scenario
from collabsim.limits import footprint

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "jakarta-baseline.toml"
CHILD = """
import json, resource, sys, time
import collabsim
from collabsim.api import resolve_scenario
overrides = json.loads(sys.argv[1])
start = time.perf_counter()
collabsim.run(sys.argv[2], 1, overrides=overrides, size_check=False)
wall = time.perf_counter() - start
print(json.dumps([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, wall]))
"""


def scaled(cases: float = 1.0, days: int = 455, puskesmas: int = 1) -> dict[str, object]:
    """Overrides that scale the baseline's arrivals, run length and puskesmas count."""
    s = collabsim.load_scenario(BASELINE)
    out: dict[str, object] = {"run.days": days}
    for city, rate in s.arrivals.cases_per_year.items():
        out[f"arrivals.cases_per_year.{city}"] = rate * cases
    for city, n in s.agencies["puskesmas"].per_city.items():
        out[f"agencies.puskesmas.per_city.{city}"] = n * puskesmas
    return out


def main() -> None:
    print(f"{'case':<22} {'est. MiB':>9} {'max RSS MiB':>12} {'est. s':>8} {'wall s':>8}")
    for label, overrides in (
        ("baseline", scaled()),
        ("cases x4", scaled(cases=4)),
        ("days x4", scaled(days=1820)),
        ("puskesmas x20", scaled(puskesmas=20)),
        ("puskesmas x60", scaled(puskesmas=60)),
    ):
        est = footprint(resolve_scenario(BASELINE, overrides))
        res = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(overrides), str(BASELINE)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rss, wall = json.loads(res.stdout.splitlines()[-1])
        print(
            f"{label:<22} {est.memory_bytes / 2**20:>9,.0f} {rss / 2**20:>12,.0f} "
            f"{est.seconds:>8.1f} {wall:>8.1f}"
        )


if __name__ == "__main__":
    main()
