"""The results store never gives a wrong answer: one experiment per store, checksums, damage."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import collabsim
from collabsim.cli import app
from collabsim.errors import StoreError
from collabsim.experiments import replicate
from collabsim.experiments.store import Experiment, ResultsStore, StoreMismatch, load_results
from tests.conftest import BASELINE

SHORT = {"run.days": 100, "run.warmup_days": 20}
runner = CliRunner()


def _short() -> collabsim.Scenario:
    return collabsim.load_scenario(BASELINE, SHORT)


def _scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "short.toml"
    path.write_text(f'extends = "{BASELINE}"\n[run]\ndays = 100\nwarmup_days = 20\n')
    return path


def test_two_seeds_started_at_once_on_one_folder_never_pool(tmp_path: Path) -> None:
    scenario, out = _scenario_file(tmp_path), tmp_path / "exp"
    cmd = [sys.executable, "-m", "collabsim", "replicate", str(scenario), "--reps", "4"]
    cmd += ["--workers", "1", "--out", str(out)]
    procs = [
        subprocess.Popen([*cmd, "--seed", seed], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for seed in ("5", "6")
    ]  # fmt: skip
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], results
    refused = next(r for r in results if r[0] == 2)
    assert "root seed 5" in refused[2] and "root seed 6" in refused[2]
    assert str(out / "results.sqlite") in refused[2] and "Traceback" not in refused[2]
    runs = load_results(out)
    assert runs["experiment"].nunique() == 1 and len(runs) == 4
    winner = "5" if results[0][0] == 0 else "6"
    expected = replicate(_short(), 4, seed=int(winner), out=tmp_path / "alone", workers=1)
    assert runs.sort_values("replication")["handling_days_median"].tolist() == (
        expected.runs["handling_days_median"].tolist()
    )


def _stored_summaries(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT run_key, summary FROM runs ORDER BY run_key").fetchall()


def _set_summary(db: Path, key: str, text: str) -> None:
    with sqlite3.connect(db) as con:
        con.execute("UPDATE runs SET summary = ? WHERE run_key = ?", (text, key))


def test_a_flipped_digit_is_found_reported_and_rerun(tmp_path: Path) -> None:
    first = replicate(_short(), 3, seed=2, out=tmp_path, workers=1)
    db = tmp_path / "results.sqlite"
    key, text = _stored_summaries(db)[1]
    summary = json.loads(text)
    true_value = summary["handling_days_median"]
    digits = f"{true_value!r}"
    flipped = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    summary["handling_days_median"] = float(flipped)
    _set_summary(db, key, json.dumps(summary))
    assert key not in set(load_results(tmp_path)["run_key"])  # never used, even by export
    again = replicate(_short(), 3, seed=2, out=tmp_path, workers=1)
    assert again.damaged == [key]
    assert again.stats.equals(first.stats)
    assert json.loads(dict(_stored_summaries(db))[key])["handling_days_median"] == true_value


def test_a_damaged_record_is_named_by_the_command_line(tmp_path: Path) -> None:
    scenario, out = _scenario_file(tmp_path), tmp_path / "exp"
    args = ["replicate", str(scenario), "--reps", "2", "--workers", "1", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    key = _stored_summaries(out / "results.sqlite")[0][0]
    _set_summary(out / "results.sqlite", key, "{not json")
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.stderr
    assert "1 stored runs were damaged" in res.stderr and key in res.stderr


def _store_with_runs(tmp_path: Path) -> Path:
    replicate(_short(), 2, seed=3, out=tmp_path, workers=1)
    return tmp_path / "results.sqlite"


def _truncate(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def _garbage_header(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[:100] = os.urandom(100)
    db.write_bytes(bytes(data))


def _directory(db: Path) -> None:
    db.unlink()
    db.mkdir()


def _not_sqlite(db: Path) -> None:
    db.write_text("run_key,handling_days_median\nA/0,80\n")


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (_truncate, "not a usable results store"),
        (_garbage_header, "not a usable results store"),
        (_directory, "is not a file"),
        (_not_sqlite, "not a usable results store"),
    ],
    ids=["truncated", "garbage-header", "directory", "not-sqlite"],
)
def test_a_damaged_store_is_a_clear_error_and_is_left_as_it_was(
    tmp_path: Path, damage: object, words: str
) -> None:
    db = _store_with_runs(tmp_path)
    damage(db)  # type: ignore[operator]
    before = db.read_bytes() if db.is_file() else None
    with pytest.raises(StoreError, match=words):
        replicate(_short(), 2, seed=3, out=tmp_path, workers=1)
    scenario = _scenario_file(tmp_path)
    args = ["replicate", str(scenario), "--reps", "2", "--seed", "3", "--out", str(tmp_path)]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.stdout + res.stderr
    assert str(db) in res.stderr and words in res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    assert (db.read_bytes() if db.is_file() else None) == before  # nothing written to it


def test_a_full_disk_is_a_clear_error_and_keeps_what_is_stored(tmp_path: Path) -> None:
    db = _store_with_runs(tmp_path)
    store = ResultsStore(db)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # as if the disk were full
    header = {"run_key": "x/A/0", "experiment": "x", "arm": "A", "replication": 0, "seed": 1,
              "scenario_hash": "h", "version": "v"}  # fmt: skip
    outcome = {"status": "done", "wall_seconds": 1.0, "summary": {"big": "x" * 200_000}}
    with pytest.raises(StoreError, match=r"disk is full.*stored so far are kept"):
        store.record(header, outcome)
    store.close()
    assert len(load_results(tmp_path)) == 2


UNCLEAN = textwrap.dedent(
    """
    import os, sys
    from collabsim.experiments import replicate
    import collabsim
    s = collabsim.load_scenario(sys.argv[1], {"run.days": 100, "run.warmup_days": 20})
    replicate(s, 2, seed=4, out=sys.argv[2], workers=1)
    from collabsim.experiments.store import ResultsStore
    store = ResultsStore(sys.argv[2] + "/results.sqlite")
    store.record({"run_key": "k", "experiment": "e", "arm": "A", "replication": 0, "seed": 1,
                  "scenario_hash": "h", "version": "v"}, {"status": "failed", "wall_seconds": 0})
    os._exit(0)  # no close: the write-ahead log stays, as after kill -9
    """
)


def test_after_an_unclean_stop_the_store_is_checked_when_opened(tmp_path: Path) -> None:
    script = tmp_path / "unclean.py"
    script.write_text(UNCLEAN)
    subprocess.run([sys.executable, str(script), str(BASELINE), str(tmp_path)], check=True)
    assert (tmp_path / "results.sqlite-wal").stat().st_size > 0
    with ResultsStore(tmp_path / "results.sqlite") as store:
        assert store.integrity_checked
        assert len(store.runs()) == 3
    with ResultsStore(tmp_path / "results.sqlite") as store:  # closed cleanly this time
        assert not store.integrity_checked


def test_keep_cases_after_a_plain_run_stores_the_cases(tmp_path: Path) -> None:
    replicate(_short(), 2, seed=1, out=tmp_path, workers=1)
    assert len(load_results(tmp_path, "cases")) == 0
    replicate(_short(), 2, seed=1, out=tmp_path, workers=1, keep_cases=True)
    assert load_results(tmp_path, "cases")["run_key"].nunique() == 2


def test_an_experiment_is_known_by_its_scenarios_design_and_root_seed() -> None:
    a = Experiment("replicate", {"A": "h1"}, 5)
    assert a.key == Experiment("replicate", {"A": "h1"}, 5, label="another label").key
    assert a.key != Experiment("replicate", {"A": "h1"}, 6).key
    assert a.key != Experiment("replicate", {"A": "h2"}, 5).key
    assert a.key != Experiment("replicate", {"A": "h1"}, 5, design="d").key


def test_claims_refuse_another_experiment_unless_added(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "results.sqlite") as store:
        first = store.claim(Experiment("replicate", {"A": "h1"}, 5))
        assert store.claim(Experiment("replicate", {"A": "h1"}, 5)) == first
        with pytest.raises(StoreMismatch, match=r"root seed 5.*root seed 6"):
            store.claim(Experiment("replicate", {"A": "h1"}, 6))
        assert store.claim(Experiment("replicate", {"A": "h1"}, 6), add=True) != first
        assert len(store.experiments()) == 2
