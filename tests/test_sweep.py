"""Sweeps from experiment files, sensitivity indices, Dask execution, export."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import collabsim
from collabsim.experiments import replicate
from collabsim.experiments.store import StoreMismatch, load_results
from collabsim.experiments.sweep import load_experiment, sweep
from collabsim.loading import ScenarioError
from tests.conftest import BASELINE, ROOT
from tests.dask_cluster import dask_cluster as local_dask

SHORT = '"run.days" = 120\n"run.warmup_days" = 20\n'


def _experiment(tmp_path: Path, body: str, name: str = "exp") -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(f'name = "{name}"\nscenario = "{BASELINE}"\n{body}')
    return p


def test_factorial_sweep_crosses_levers_with_uncertainties(tmp_path: Path) -> None:
    path = _experiment(
        tmp_path,
        'design = "factorial"\nreplications = 2\noutputs = ["handling_days_median"]\n'
        f"[fixed]\n{SHORT}"
        '[levers]\n"barriers.sop.intensity" = [0.0, 0.8]\n'
        '[uncertainties]\n"dynamics.initial_trust" = { min = 0.2, max = 0.8, levels = 3 }\n'
        '[[combinations]]\n"barriers.sop.intensity" = 0.4\n"dynamics.initial_trust" = 0.5\n',
    )
    r = sweep(path, out=tmp_path / "out", workers=2)
    assert len(r.design) == 2 * 3 + 1
    assert set(r.design["policy"]) == {0, 1, -1}
    assert len(r.runs) == 7 * 2 and not r.failed
    assert list(r.points.columns)[-1] == "handling_days_median"
    # the stored run really used its point's parameters
    days = load_results(tmp_path / "out")["days"]
    assert (days == 120).all()


def test_sobol_sweep_gives_indices_with_confidence_intervals(tmp_path: Path) -> None:
    path = _experiment(
        tmp_path,
        'design = "sobol"\nsamples = 8\nreplications = 1\nkeep_timeseries = false\n'
        'outputs = ["handling_days_mean_closed"]\n'
        f"[fixed]\n{SHORT}"
        "[uncertainties]\n"
        '"barriers.resources.vacancy_rate" = { min = 0.0, max = 0.5 }\n'
        '"barriers.miscommunication.late_days" = { min = 1.0, max = 2.0 }\n',
    )
    r = sweep(path, out=tmp_path / "out", workers=2)
    assert len(r.design) == 8 * (2 + 2)
    s = r.sensitivity.set_index("uncertainty")
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(s.columns)
    # staff vacancies matter far more than a day more of late referrals
    assert (
        s.loc["barriers.resources.vacancy_rate", "ST"]
        > s.loc["barriers.miscommunication.late_days", "ST"]
    )


def test_morris_sweep_gives_mu_star_and_sigma(tmp_path: Path) -> None:
    path = _experiment(
        tmp_path,
        'design = "morris"\nsamples = 4\nreplications = 1\nkeep_timeseries = false\n'
        'outputs = ["handling_days_mean_closed"]\n'
        f"[fixed]\n{SHORT}"
        "[uncertainties]\n"
        '"barriers.resources.vacancy_rate" = { min = 0.0, max = 0.5 }\n'
        '"dynamics.initial_trust" = { min = 0.2, max = 0.8 }\n',
    )
    r = sweep(path, out=tmp_path / "out", workers=2)
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(r.sensitivity.columns)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('design = "sobol"\n[uncertainties]\n"run.days" = [1, 2]', "needs ranges"),
        (
            'design = "sobol"\nsamples = 6\n[uncertainties]\n"run.days" = {min=1, max=2}',
            "power of 2",
        ),
        ('[levers]\n"x" = [1]\n[uncertainties]\n"x" = [2]', "both lever and uncertainty"),
        ('desing = "lhs"', "desing"),
        ('[uncertainties]\n"dynamics.initial_trust" = {min = 0.9, max = 0.1}', "greater than min"),
    ],
)
def test_bad_experiment_files_are_named(tmp_path: Path, body: str, words: str) -> None:
    path = _experiment(tmp_path, body)
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    assert str(path) in str(info.value) and words in str(info.value)


def test_a_parameter_that_breaks_the_scenario_is_named(tmp_path: Path) -> None:
    path = _experiment(tmp_path, f'[fixed]\n{SHORT}[levers]\n"agencies.hub.staff" = [2, -1]\n')
    with pytest.raises(ScenarioError, match=r"agencies\.hub\.staff"):
        sweep(path, out=tmp_path / "out", workers=1)


def test_a_changed_design_is_not_mixed_into_old_results(tmp_path: Path) -> None:
    path = _experiment(
        tmp_path, f'replications = 1\n[fixed]\n{SHORT}[levers]\n"agencies.hub.staff" = [8]\n'
    )
    sweep(path, out=tmp_path / "out", workers=1)
    path.write_text(path.read_text().replace("[8]", "[9]"))
    with pytest.raises(StoreMismatch):
        sweep(path, out=tmp_path / "out", workers=1)


def test_cli_sweep_and_export(tmp_path: Path) -> None:
    path = _experiment(
        tmp_path,
        f'replications = 2\noutputs = ["handling_days_median"]\n[fixed]\n{SHORT}'
        '[levers]\n"agencies.hub.staff" = [8, 16]\n',
    )
    run = [sys.executable, "-m", "collabsim"]
    res = subprocess.run(
        [*run, "sweep", str(path), "--out", str(tmp_path / "o")], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "o" / "points.csv").exists()
    for suffix in ("csv", "parquet"):
        target = tmp_path / f"runs.{suffix}"
        res = subprocess.run(
            [*run, "export", str(tmp_path / "o"), "--out", str(target)],
            capture_output=True,
            text=True,
        )
        assert res.returncode == 0, res.stderr
    assert len(pd.read_parquet(tmp_path / "runs.parquet")) == 4
    assert len(pd.read_csv(tmp_path / "runs.csv")) == 4
    ts = tmp_path / "ts.csv"
    res = subprocess.run(
        [*run, "export", str(tmp_path / "o"), "--out", str(ts), "--table", "timeseries"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0 and len(pd.read_csv(ts)) == 4 * 120


def test_shipped_experiment_files_are_valid() -> None:
    files = sorted((ROOT / "experiments").glob("*.toml"))
    assert files
    for f in files:
        _, scenario = load_experiment(f)
        assert scenario.exists(), f


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A Dask scheduler and two workers on 127.0.0.1 (separate processes)."""
    with local_dask(tmp_path) as address:
        yield address


def test_serial_processes_and_dask_give_identical_results(
    tmp_path: Path, dask_cluster: str
) -> None:
    s = collabsim.load_scenario(BASELINE, {"run.days": 120, "run.warmup_days": 20})
    volatile = ["finished_at", "wall_seconds"]
    tables = [
        replicate(s, 4, seed=8, out=tmp_path / name, **kw).runs.drop(columns=volatile)
        for name, kw in (
            ("serial", {"workers": 1}),
            ("processes", {"workers": 2}),
            ("dask", {"scheduler": dask_cluster}),
        )
    ]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    pd.testing.assert_frame_equal(tables[0], tables[2])
