"""Nothing outside its folder is touched, and every edge is a clear error or works as documented."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collabsim.cli import app
from collabsim.experiments.sweep import load_experiment
from tests.conftest import BASELINE, ROOT

runner = CliRunner()
SHORT = ["--days", "60", "--set", "run.warmup_days=0"]


def _invoke(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    out = res.stdout + res.stderr
    assert "Traceback" not in out
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, res.stderr


def _experiment(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(
        f"name = {name!r}\nscenario = {str(BASELINE)!r}\ndesign = 'factorial'\nreplications = 1\n"
        "[fixed]\n'run.days' = 40\n'run.warmup_days' = 0\n"
        "[levers]\n'barriers.sop.intensity' = [0.0, 0.8]\n"
    )
    return path


@pytest.mark.parametrize(
    "name", ["../../victim", "/tmp/victim", "a/b", "..", ".hidden", "name with spaces", ""]
)
def test_an_experiment_name_cannot_lead_out_of_the_output_folder(tmp_path: Path, name: str) -> None:
    path = _experiment(tmp_path, name)
    code, err = _invoke("sweep", str(path), "--workers", "1")
    assert code == 2
    assert str(path) in err and "name" in err
    assert not any(p.name == "results.sqlite" for p in tmp_path.rglob("*"))


def test_a_valid_experiment_name_writes_only_inside_its_folder(tmp_path: Path) -> None:
    path = _experiment(tmp_path, "sop-check")
    assert load_experiment(path)[0].name == "sop-check"
    out = tmp_path / "out"
    before = set(tmp_path.iterdir())
    code, err = _invoke("sweep", str(path), "--workers", "1", "--out", str(out))
    assert code == 0, err
    assert set(tmp_path.iterdir()) - before == {out}
    assert {p.name for p in out.iterdir()} == {"results.sqlite", "design.csv", "points.csv"}


def test_symbolic_links_in_the_output_folder_are_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").symlink_to(victim)
    code, err = _invoke("run", str(BASELINE), *SHORT, "--out", str(out))
    assert code == 0, err
    assert victim.read_text() == "precious"  # the link was replaced, not written through
    assert not (out / "summary.json").is_symlink()
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "results.sqlite").symlink_to(victim)
    code, err = _invoke("replicate", str(BASELINE), "--reps", "2", "--out", str(exp))
    assert code == 2 and "symbolic link" in err
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_output_folder_that_cannot_be_written_is_a_clear_error(
    tmp_path: Path, where: str
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    out = blocker if where == "a file" else blocker / "sub"
    code, err = _invoke("run", str(BASELINE), *SHORT, "--out", str(out))
    assert code == 2 and str(out) in err and "--out" in err
    assert blocker.read_text() == "x"


def test_a_read_only_output_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: object) -> str:  # as a read-only folder answers a non-root user
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    out = tmp_path / "ro"
    code, err = _invoke("run", str(BASELINE), *SHORT, "--out", str(out))
    assert code == 2 and "Permission denied" in err and str(out) in err
    assert not out.exists()


def test_a_bad_scheduler_address_is_a_clear_error(tmp_path: Path) -> None:
    code, err = _invoke(
        "replicate", str(BASELINE), "--reps", "2", "--scheduler", "foo://bar",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 2 and "--scheduler" in err and "foo://bar" in err


def test_a_negative_seed_is_refused() -> None:
    res = runner.invoke(app, ["run", str(BASELINE), "--seed", "-1"])
    assert res.exit_code == 2 and "--seed" in res.stderr


def test_an_error_in_a_parent_scenario_names_the_parent(tmp_path: Path) -> None:
    parent = tmp_path / "parent.toml"
    parent.write_text(f'extends = "{BASELINE}"\n[agencies.hub]\nstaff = 0\n')
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\nname = "child"\n')
    code, err = _invoke("validate", str(child))
    assert code == 2
    assert (
        f"agencies.hub.staff: Input should be greater than or equal to 1 (set in {parent})" in err
    )


def test_zero_arrivals_run_and_write_every_file(tmp_path: Path) -> None:
    s = (ROOT / "scenarios" / "jakarta-baseline.toml").read_text()
    assert "[arrivals.cases_per_year]" in s
    zero = tmp_path / "zero.toml"
    cities = ["Jakarta Timur", "Jakarta Barat", "Jakarta Selatan", "Jakarta Utara",
              "Jakarta Pusat", "Kepulauan Seribu"]  # fmt: skip
    zero.write_text(
        f'extends = "{BASELINE}"\n[arrivals.cases_per_year]\n'
        + "".join(f'"{c}" = 0.0\n' for c in cities)
    )
    out = tmp_path / "out"
    code, err = _invoke("run", str(zero), *SHORT, "--out", str(out))
    assert code == 0, err
    assert len(os.listdir(out)) == 10
