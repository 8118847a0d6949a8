"""Replications serially, on 2 local processes and on a 2-worker Dask cluster (run on demand).

Usage: .venv/bin/python benchmarks/experiments.py [--reps 12] [--repeats 3]

Each repetition runs ``--reps`` replications of the Jakarta baseline into a
fresh folder, side by side in this process; the table gives medians and the
speed-up over serial. "2 processes" starts its workers each time (as one
command does); "2 processes, warm" reuses them (as a notebook's second
experiment does). The Dask cluster (a scheduler and 2 worker processes of 1
thread each, on 127.0.0.1) is started for its own runs, outside the timing,
by the ``dask`` commands of docs/experiments.md, and stopped after them: a
``LocalCluster`` would run its scheduler on a thread of this process, and a
cluster left running takes CPU from the other runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collabsim.experiments import replicate
from collabsim.experiments.execution import _drop_pool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.dask_cluster import dask_cluster  # noqa: E402

BASELINE = ROOT / "scenarios" / "jakarta-baseline.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        count = iter(range(10_000))

        def run(reps: int = args.reps, **kw: Any) -> None:
            replicate(BASELINE, reps, seed=1, out=Path(tmp) / str(next(count)), **kw)

        def timed(**kw: Any) -> float:
            start = time.perf_counter()
            run(**kw)
            return time.perf_counter() - start

        def cold() -> float:
            _drop_pool()
            return timed(workers=2)

        def dask() -> float:  # its processes would take CPU from the others' runs
            with dask_cluster(Path(tmp)) as address:
                run(4, scheduler=address)  # the workers' imports and first runs, untimed
                return timed(scheduler=address)

        ways: dict[str, Callable[[], float]] = {
            "serial": lambda: timed(workers=1),
            "2 processes": cold,
            "2 processes, warm": lambda: timed(workers=2),
            "Dask, 2 workers": dask,
        }
        times: dict[str, list[float]] = {k: [] for k in ways}
        for _ in range(args.repeats):
            for name, fn in ways.items():
                times[name].append(fn())
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.reps} replications of the Jakarta baseline, {args.repeats} repeats")
    for name, v in times.items():
        print(
            f"  {name:<18} median {med[name]:6.2f} s (min {min(v):.2f}, max {max(v):.2f}); "
            f"{med['serial'] / med[name]:.2f}x serial"
        )
    print(f"  Dask / 2 processes (warm): {med['Dask, 2 workers'] / med['2 processes, warm']:.2f}")


if __name__ == "__main__":
    main()
