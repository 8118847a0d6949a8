"""Experiments: confidence intervals, common random numbers, Shapley values, crash-safe store."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import collabsim
from collabsim.experiments import attribute, compare, execution, replicate
from collabsim.experiments.execution import RunSpec, execute, replicate_seeds
from collabsim.experiments.stats import confidence_interval, replications_needed
from collabsim.experiments.store import ResultsStore, StoreMismatch, load_results
from tests.conftest import BASELINE, ROOT, ctrl_c_enabled

SHORT = {"run.days": 300, "run.warmup_days": 60, "run.measure_days": 120}
VOLATILE = ["finished_at", "wall_seconds"]


def _short() -> collabsim.Scenario:
    return collabsim.load_scenario(BASELINE, SHORT)


def test_confidence_interval_covers_the_true_mean_at_the_nominal_rate() -> None:
    rng = np.random.default_rng(11)
    trials = 4000
    hits = 0
    for _ in range(trials):
        low, high = confidence_interval(rng.normal(5.0, 2.0, size=10))
        hits += low <= 5.0 <= high
    assert 0.935 <= hits / trials <= 0.965


def test_replications_needed_matches_the_normal_approximation() -> None:
    rng = np.random.default_rng(2)
    pilot = rng.normal(0.0, 1.0, size=2000)
    n = replications_needed(pilot, half_width=0.2)
    assert 90 <= n <= 105  # (1.96 / 0.2)^2 = 96


def test_replicate_seeds_are_distinct_and_reproducible() -> None:
    seeds = replicate_seeds(42, 20)
    assert len(set(seeds)) == 20
    assert seeds == replicate_seeds(42, 20)


def _strip(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.drop(columns=VOLATILE).sort_values("run_key").reset_index(drop=True)


def test_serial_and_processes_give_identical_results(tmp_path: Path) -> None:
    s = _short()
    serial = replicate(s, 4, seed=3, out=tmp_path / "serial", workers=1)
    parallel = replicate(s, 4, seed=3, out=tmp_path / "parallel", workers=2)
    pd.testing.assert_frame_equal(_strip(serial.runs), _strip(parallel.runs))
    assert list(serial.runs["seed"]) == replicate_seeds(3, 4)
    assert serial.stats.loc["cases_arrived", "n"] == 4
    assert len(load_results(tmp_path / "serial", "timeseries")) == 4 * SHORT["run.days"]
    half = serial.stats.loc["handling_days_mean_closed", "half_width"]
    assert serial.needed("handling_days_mean_closed", half / 2) > 4


def test_per_case_tables_are_kept_on_request(tmp_path: Path) -> None:
    r = replicate(_short(), 2, seed=1, out=tmp_path, workers=1, keep_cases=True)
    cases = load_results(tmp_path, "cases")
    assert set(cases["run_key"]) == set(r.runs["run_key"])
    assert len(cases) == sum(int(k) for k in r.runs["cases_arrived"]) + int(
        (~cases["measured"]).sum()
    )


def test_common_random_numbers_narrow_the_comparison_interval(tmp_path: Path) -> None:
    a = collabsim.load_scenario(BASELINE, SHORT)
    b = collabsim.load_scenario(ROOT / "scenarios" / "shared-case-system.toml", SHORT)
    paired = compare(a, b, 6, seed=1, out=tmp_path / "crn", workers=2)
    indep = compare(a, b, 6, seed=1, out=tmp_path / "ind", common_random_numbers=False, workers=2)
    for output in ("handling_days_mean_closed", "handling_days_median"):
        assert paired.table.loc[output, "half_width"] < indep.table.loc[output, "half_width"]
    # the same cases arrive in both arms (repeat reports follow closures, which differ)
    first = [r["cases_arrived"] - r["repeat_reports"] for r in (paired.runs_a, paired.runs_b)]
    assert (first[0].to_numpy() == first[1].to_numpy()).all()


def test_shapley_values_add_up_to_all_on_minus_all_off(tmp_path: Path) -> None:
    chosen = ["sop", "missing_reports", "resources"]
    result = attribute(_short(), 2, seed=5, out=tmp_path / "att", barriers=chosen, workers=2)
    runs = load_results(tmp_path / "att")
    for rep in (0, 1):
        got = result.per_replication[result.per_replication["replication"] == rep]
        on = runs[(runs["arm"] == "on007") & (runs["replication"] == rep)].iloc[0]
        off = runs[(runs["arm"] == "on000") & (runs["replication"] == rep)].iloc[0]
        for output in ("handling_days_median", "handling_days_p90"):
            assert got[output].sum() == pytest.approx(on[output] - off[output], abs=1e-9)
    assert set(result.table["barrier"]) == set(chosen)
    total = result.table[result.table["output"] == "handling_days_median"]["days"].sum()
    assert total == pytest.approx(result.totals["handling_days_median"], abs=1e-9)


def test_a_failing_run_is_recorded_and_only_it_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _short()
    seeds = replicate_seeds(0, 3)
    specs = [RunSpec("t", "A", i, seed, s, keep_timeseries=False) for i, seed in enumerate(seeds)]
    real = execution.run_one

    def flaky(scenario: collabsim.Scenario, seed: int, **kw: Any) -> collabsim.RunResult:
        if seed == seeds[1]:
            raise RuntimeError("disk on fire")
        return real(scenario, seed, **kw)

    store = ResultsStore(tmp_path / "results.sqlite")
    monkeypatch.setattr(execution, "run_one", flaky)
    assert execute(specs, store, workers=1) == 3
    runs = store.runs()
    failed = runs[runs["status"] == "failed"]
    assert list(failed["replication"]) == [1]
    assert "disk on fire" in failed["error"].iloc[0]
    monkeypatch.setattr(execution, "run_one", real)
    assert execute(specs, store, workers=1) == 1
    assert set(store.runs()["status"]) == {"done"}
    store.close()


SCRIPT = textwrap.dedent(
    """
    import sys
    import collabsim
    from collabsim.experiments import replicate
    s = collabsim.load_scenario(sys.argv[1], {"run.days": 120, "run.warmup_days": 20})
    replicate(s, 12, seed=9, out=sys.argv[2], workers=int(sys.argv[3]))
    """
)


def _done(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as con:
            return int(con.execute("SELECT count(*) FROM runs WHERE status='done'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


@pytest.mark.parametrize("workers", [1, 2])
def test_a_killed_experiment_resumes_without_losing_or_repeating_runs(
    tmp_path: Path, workers: int
) -> None:
    script = tmp_path / "exp.py"
    script.write_text(SCRIPT)
    killed = tmp_path / "killed"
    cmd = [sys.executable, str(script), str(BASELINE), str(killed), str(workers)]
    proc = subprocess.Popen(cmd, start_new_session=True)
    deadline = time.monotonic() + 120
    while _done(killed / "results.sqlite") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9, workers included
    proc.wait()
    partial = _done(killed / "results.sqlite")
    assert 3 <= partial < 12
    subprocess.run(cmd, check=True, timeout=300)
    clean = tmp_path / "clean"
    subprocess.run([*cmd[:3], str(clean), str(workers)], check=True, timeout=300)
    resumed, fresh = load_results(killed), load_results(clean)
    assert len(resumed) == 12 and resumed["run_key"].is_unique
    pd.testing.assert_frame_equal(_strip(resumed), _strip(fresh))


ORPHANS = textwrap.dedent(
    """
    import multiprocessing
    import sys
    import collabsim

    def progress(done, total):  # after the first run: tell the test who the workers are
        if done == 1:
            print(*(p.pid for p in multiprocessing.active_children()), flush=True)

    collabsim.replicate(sys.argv[1], 40, out=sys.argv[2], workers=2, progress=progress)
    """
)


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (an orphan's corpse may wait for init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "orphans.py"
    script.write_text(ORPHANS)
    cmd = [sys.executable, str(script), str(BASELINE), str(tmp_path / "out")]
    log = tmp_path / "stderr.txt"  # the orphaned resource tracker writes here too
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    assert proc.stdout is not None
    workers = [int(pid) for pid in proc.stdout.readline().split()]
    assert len(workers) == 2 and all(map(_running, workers)), log.read_text()
    proc.kill()  # kill -9 of the parent alone
    proc.wait()
    proc.stdout.close()
    deadline = time.monotonic() + 30
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [pid for pid in workers if _running(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors


def test_a_reused_folder_refuses_another_experiment_or_keeps_it_apart(tmp_path: Path) -> None:
    base = _short()
    other = collabsim.load_scenario(ROOT / "scenarios" / "no-barriers.toml", SHORT)
    a = replicate(base, 3, seed=1, out=tmp_path, workers=1)
    with pytest.raises(StoreMismatch, match=r"Jakarta baseline.*No barriers"):
        replicate(other, 3, seed=1, out=tmp_path, workers=1)
    b = replicate(other, 3, seed=1, out=tmp_path, workers=1, add=True)
    assert set(b.runs["scenario_hash"]) == {collabsim.scenario_hash(other)}
    assert (
        b.stats.loc["handling_days_mean_closed", "mean"]
        != a.stats.loc["handling_days_mean_closed", "mean"]
    )
    again = replicate(base, 3, seed=1, out=tmp_path, workers=1)  # its own runs, no others
    pd.testing.assert_frame_equal(again.stats, a.stats)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_stops_an_experiment_its_workers_and_keeps_the_stored_runs(tmp_path: Path) -> None:
    scenario = tmp_path / "short.toml"
    scenario.write_text(f'extends = "{BASELINE}"\n[run]\ndays = 150\nwarmup_days = 30\n')
    out = tmp_path / "exp"
    cmd = [sys.executable, "-m", "collabsim", "replicate", str(scenario), "--reps", "40"]
    cmd += ["--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_enabled
    )
    deadline = time.monotonic() + 120
    while _done(out / "results.sqlite") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    children = [
        int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    ]
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted" in stderr and "Traceback" not in stdout + stderr
    stored = _done(out / "results.sqlite")
    assert 2 <= stored < 40
    assert not (out / "statistics.csv").exists()
    deadline = time.monotonic() + 15
    while any(map(_running, children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _running(pid)]
    again = [*cmd[:5], "--reps", "3", "--workers", "1", "--out", str(out)]
    done = subprocess.run(again, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (out / "statistics.csv").exists()


def test_shapley_values_of_textbook_games() -> None:
    from collabsim.experiments.shapley import shapley_values

    # additive game: each player gets exactly its own worth
    worth = [3.0, 5.0, 7.0]
    additive = {m: sum(w for i, w in enumerate(worth) if m >> i & 1) for m in range(8)}
    assert shapley_values(additive, 3) == pytest.approx(worth)
    # glove game: player 0 holds a left glove, players 1 and 2 right gloves; a pair is worth 1
    glove = {m: float(m & 1 and m & 6 != 0) for m in range(8)}
    assert shapley_values(glove, 3) == pytest.approx([2 / 3, 1 / 6, 1 / 6])
    # majority of three: symmetric, 1/3 each
    majority = {m: float(bin(m).count("1") >= 2) for m in range(8)}
    assert shapley_values(majority, 3) == pytest.approx([1 / 3] * 3)


def test_the_compare_command_prints_the_paired_differences_and_writes_them(tmp_path: Path) -> None:
    short = "[run]\ndays = 120\nwarmup_days = 20\n"
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(f'extends = "{BASELINE}"\n{short}', encoding="utf-8")
    sharing = ROOT / "scenarios" / "shared-case-system.toml"
    b.write_text(f'extends = "{sharing}"\n{short}', encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "collabsim", "compare", str(a), str(b), "--reps", "2",
         "--workers", "2", "--out", str(out)],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "160"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "paired replications" in done.stdout and "handling_days_median" in done.stdout
    table = pd.read_csv(out / "comparison.csv", index_col="output")
    assert {"mean_a", "mean_b", "diff", "ci_low", "ci_high"} <= set(table.columns)
    assert (out / "comparison.png").exists()
