"""Executing an experiment's runs: serially, on local processes or on Dask, into its store.

Runs are described as data (:class:`RunSpec`), executed serially or on local
processes (or a Dask cluster), and streamed into a
:class:`~collabsim.experiments.store.ResultsStore` as they finish.
Replicate seeds come from one root seed (numpy ``SeedSequence``), so the same
experiment gives the same numbers however it is executed.
"""

from __future__ import annotations

import atexit
import multiprocessing.context
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collabsim.api import run as run_one
from collabsim.errors import InputError
from collabsim.experiments.store import Experiment, ResultsStore, StoredRun
from collabsim.i18n import _
from collabsim.limits import check_fits
from collabsim.loading import scenario_hash
from collabsim.scenario import Scenario

__all__ = [
    "Arm",
    "Progress",
    "RunSpec",
    "Stored",
    "arm_table",
    "execute",
    "flatten",
    "outputs_of",
    "replicate_seeds",
    "run_experiment",
]

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each run."""


def replicate_seeds(root: int, n: int) -> list[int]:
    """Independent seeds for ``n`` replications, derived from one root seed."""
    children = np.random.SeedSequence(root).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested summary -> flat ``{"barrier_events.sop": 3, ...}``."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment, as data (picklable, sent to workers)."""

    experiment: str
    arm: str
    replication: int
    seed: int
    scenario: Scenario
    keep_timeseries: bool = True
    keep_cases: bool = False

    @property
    def key(self) -> str:
        """The run's identity in the results store."""
        return f"{self.experiment}/{self.arm}/{self.replication}"


def _execute(spec: RunSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run one spec; never raises (a failure is an outcome)."""
    from collabsim import __version__

    start = time.perf_counter()
    header = {
        "run_key": spec.key,
        "experiment": spec.experiment,
        "arm": spec.arm,
        "replication": spec.replication,
        "seed": spec.seed,
        "scenario_hash": scenario_hash(spec.scenario),
        "version": __version__,
    }
    try:
        # lean trail: the same outputs, faster; the size was checked by execute
        result = run_one(spec.scenario, spec.seed, size_check=False, trail="lean")
        outcome: dict[str, Any] = {
            "status": "done",
            "summary": flatten(result.summary),
            "timeseries": result.timeseries.to_dict("list") if spec.keep_timeseries else None,
            "cases": result.cases.to_dict("list") if spec.keep_cases else None,
        }
    except Exception as exc:  # a failed run is recorded, the others go on
        outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "summary": None}
    outcome["wall_seconds"] = time.perf_counter() - start
    return header, outcome


class _WorkerProcess(multiprocessing.context.SpawnProcess):
    """A spawned pool worker that does not run the parent's ``__main__``.

    A spawned child normally imports the parent's main module again (a script
    by its path, ``python -m`` by its name), so that it can unpickle what was
    defined there; a script without an ``if __name__ == "__main__":`` guard
    would then run again in every worker. The workers need nothing from
    ``__main__``: the work function and the run specs live in collabsim. So
    while a worker is launched, ``sys.modules["__main__"]`` is an empty module,
    and the child is told of no main module to import. The swap lasts only for
    the launch and leaves the user's module untouched.
    """

    @staticmethod
    def _Popen(process_obj: BaseProcess) -> Any:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            return multiprocessing.context.SpawnProcess._Popen(process_obj)
        finally:
            sys.modules["__main__"] = main


class _WorkerContext(multiprocessing.context.SpawnContext):
    """The ``spawn`` start method, with :class:`_WorkerProcess` workers."""

    Process = _WorkerProcess


_PARENT_POLL_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:
    """Pool initializer: end this worker soon after the process that started it dies.

    Killed with ``kill -9``, the parent cleans nothing up, and a worker waiting
    for its next task would wait forever. A daemon thread watches the parent's
    pid and exits the worker once it has been orphaned. Ctrl-C is the parent's
    to handle: it stops the workers itself (see :func:`execute`).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="collabsim-parent-watch", daemon=True).start()


_POOL: dict[int, ProcessPoolExecutor] = {}  # the pool of this process, by its size


def _pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started by ``spawn``: safe in a multi-threaded parent (``fork`` is not).

    Workers start on the first submissions; each imports collabsim afresh (about
    a second). The pool is kept for the next experiment of this process (a
    notebook running several), and ends with it.
    """
    pool = _POOL.get(workers)
    if pool is None:
        _drop_pool()
        pool = _POOL[workers] = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_WorkerContext(),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )
    return pool


def _drop_pool(terminate: bool = False) -> None:
    """End the kept pool (at once, losing the runs in flight, if ``terminate``)."""
    for pool in _POOL.values():
        if terminate:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
    _POOL.clear()


atexit.register(_drop_pool)


def execute(
    specs: Sequence[RunSpec],
    store: ResultsStore,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    size_check: bool = True,
) -> int:
    """Run every spec not yet stored as done; store each as it finishes.

    Args:
        specs: the runs.
        store: where results go; runs already done there with the same
            scenario are skipped, failed ones are tried again, and a run
            stored for another scenario is run again and replaced.
        workers: processes to use (default: all cores; 1 runs in this process).
        scheduler: address of a Dask scheduler (``tcp://host:port``); the runs
            then go to its workers, which need collabsim installed.
        progress: called after each run.
        size_check: first refuse runs that would not fit in memory (with
            ``workers`` of them at once) or take hours.

    Returns:
        How many runs were executed now.

    Raises:
        RunTooLarge: if a run would not fit (see ``size_check``).
        KeyboardInterrupt: on Ctrl-C, after stopping the workers; the runs
            stored so far are kept.
    """
    done = store.completed()
    pending = [s for s in specs if not _stored(s, done.get(s.key))]
    total, finished = len(specs), len(specs) - len(pending)
    workers = workers or os.cpu_count() or 1
    if size_check:
        at_once = 1 if scheduler is not None else min(workers, max(1, len(pending)))
        for scenario in {scenario_hash(s.scenario): s.scenario for s in pending}.values():
            check_fits(scenario, scenario.name, parallel=at_once)
    if progress:
        progress(finished, total)
    if scheduler is not None:
        return _execute_dask(pending, store, scheduler, finished, total, progress)
    if workers == 1 or len(pending) <= 1:
        for spec in pending:
            store.record(*_execute(spec))
            finished += 1
            if progress:
                progress(finished, total)
        return len(pending)
    pool = _pool(workers)
    try:
        queue = iter(pending)
        running: set[Future[tuple[dict[str, Any], dict[str, Any]]]] = set()
        for spec in queue:  # keep a bounded number in flight
            running.add(pool.submit(_execute, spec))
            if len(running) >= 2 * workers:
                break
        while running:
            ready, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in ready:
                store.record(*fut.result())
                finished += 1
                if progress:
                    progress(finished, total)
                nxt = next(queue, None)
                if nxt is not None:
                    running.add(pool.submit(_execute, nxt))
    except BaseException:  # Ctrl-C or a store error: stop at once, keep what is stored
        _drop_pool(terminate=True)  # runs in flight are lost, and rerun next time
        raise
    return len(pending)


def _execute_dask(
    pending: list[RunSpec],
    store: ResultsStore,
    scheduler: str,
    finished: int,
    total: int,
    progress: Progress | None,
) -> int:
    """Run on a Dask cluster; results are stored here, as each finishes."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a dependency
        raise RuntimeError(_("Dask execution needs the 'distributed' package")) from exc
    try:
        client = Client(scheduler, timeout="30s")
    except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address
        problem = _(
            "no Dask scheduler answers at {address} ({error}). Start one (dask scheduler --host "
            "127.0.0.1) and give its tcp://host:port, or leave --scheduler out"
        )
        raise InputError(
            "--scheduler", [problem.format(address=repr(scheduler), error=exc)]
        ) from None
    with client:
        futures = [client.submit(_execute, spec, key=spec.key, pure=False) for spec in pending]
        for fut in as_completed(futures):
            store.record(*fut.result())
            finished += 1
            if progress:
                progress(finished, total)
            fut.release()
    return len(pending)


def _stored(spec: RunSpec, run: StoredRun | None) -> bool:
    """Whether the store already holds this run as asked (its scenario, and tables asked for)."""
    return (
        run is not None
        and run.scenario_hash == scenario_hash(spec.scenario)
        and (run.has_timeseries or not spec.keep_timeseries)
        and (run.has_cases or not spec.keep_cases)
    )


@dataclass(frozen=True)
class Stored:
    """An experiment's runs as read back from its store.

    Attributes:
        runs: one row per stored run of exactly this experiment's specs.
        failed: keys of runs that failed.
        damaged: keys of stored records that failed their checksum (not used; run again).
    """

    runs: pd.DataFrame
    failed: list[str]
    damaged: list[str]


Arm = tuple[str, Scenario, Sequence[int]]
"""An arm of an experiment: its name, its scenario and its replicate seeds."""


def run_experiment(
    out: str | Path,
    experiment: Experiment,
    arms: Sequence[Arm],
    *,
    keep_timeseries: bool = True,
    keep_cases: bool = False,
    add: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    size_check: bool = True,
) -> Stored:
    """Run an experiment's arms into the store of folder ``out`` and read its runs back.

    Args:
        out: the experiment folder (its ``results.sqlite`` is reused to resume).
        experiment: what the experiment is (the store refuses another one).
        arms: the arms and their seeds.
        keep_timeseries: store each run's daily series.
        keep_cases: store each run's per-case table.
        add: keep this experiment beside another one the store holds.
        workers: processes (default: all cores).
        scheduler: a Dask scheduler address, to run there instead.
        progress: called after each run.
        size_check: first refuse runs that would not fit in memory or take hours.

    Raises:
        StoreError: if the store holds another experiment (and not ``add``) or is not usable.
    """
    with ResultsStore(Path(out) / "results.sqlite") as store:
        key = store.claim(experiment, add=add)
        specs = [
            RunSpec(key, arm, i, s, scenario, keep_timeseries, keep_cases)
            for arm, scenario, seeds in arms
            for i, s in enumerate(seeds)
        ]
        execute(
            specs,
            store,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            size_check=size_check,
        )
        runs = store.runs(key)
        runs = runs[runs["run_key"].isin({s.key for s in specs})].reset_index(drop=True)
        return Stored(runs, _failed(runs), list(store.damaged))


def arm_table(runs: pd.DataFrame, arm: str) -> pd.DataFrame:
    """The done runs of one arm, in replication order."""
    runs = runs[(runs["arm"] == arm) & (runs["status"] == "done")]
    return runs.sort_values("replication").reset_index(drop=True)


def _failed(runs: pd.DataFrame) -> list[str]:
    return list(runs.loc[runs["status"] == "failed", "run_key"])


_NOT_OUTPUTS = {
    "run_key", "experiment", "arm", "replication", "seed", "scenario_hash", "version", "status",
    "error", "finished_at", "wall_seconds", "days", "warmup_days", "point",
}  # fmt: skip


def outputs_of(table: pd.DataFrame) -> pd.DataFrame:
    """The numeric output columns of a runs table (header columns left out)."""
    header = _NOT_OUTPUTS
    cols = [
        c
        for c in table.columns
        if c not in header
        and pd.api.types.is_numeric_dtype(table[c])
        and not pd.api.types.is_bool_dtype(table[c])
    ]
    return table[cols].astype(float)
