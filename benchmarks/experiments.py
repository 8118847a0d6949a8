"""Replications serially, on 2 local processes and on a 2-worker Dask cluster (run on demand).

Usage: .venv/bin/python benchmarks/experiments.py [--reps 12] [--repeats 3]

Each repetition runs ``--reps`` replications of the Jakarta baseline into a
fresh folder, side by side in this process; the table gives medians and the
speed-up over serial. "2 processes" starts its workers each time (as one
command does); "2 processes, warm" reuses them (as a notebook's second
experiment does). The Dask cluster (2 worker processes, 1 thread each, on
127.0.0.1) is started once, outside the timing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from distributed import LocalCluster

from collabsim.experiments import replicate
from collabsim.experiments.execution import _drop_pool

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "jakarta-baseline.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        address = cluster.scheduler_address
        count = iter(range(10_000))

        def run(**kw: object) -> None:
            replicate(BASELINE, args.reps, seed=1, out=Path(tmp) / str(next(count)), **kw)  # type: ignore[arg-type]

        def cold() -> None:
            _drop_pool()
            run(workers=2)

        ways: dict[str, Callable[[], None]] = {
            "serial": lambda: run(workers=1),
            "2 processes": cold,
            "2 processes, warm": lambda: run(workers=2),
            "Dask, 2 workers": lambda: run(scheduler=address),
        }
        run(scheduler=address)  # warm the Dask workers' imports
        times: dict[str, list[float]] = {k: [] for k in ways}
        for _ in range(args.repeats):
            for name, fn in ways.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
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
