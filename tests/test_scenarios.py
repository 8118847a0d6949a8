"""Scenario files: inheritance, validation, and clear errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import collabsim
from collabsim.loading import ScenarioError, load_scenario
from tests.conftest import BASELINE, SCENARIOS

INTERVENTIONS = [
    "integrated-sops",
    "routine-reporting",
    "shared-case-system",
    "more-hub-staff",
    "no-barriers",
]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_is_valid(path: Path) -> None:
    assert load_scenario(path).name


@pytest.mark.parametrize("name", INTERVENTIONS)
def test_interventions_extend_the_baseline_in_a_few_lines(name: str) -> None:
    text = (SCENARIOS / f"{name}.toml").read_text()
    assert 'extends = "jakarta-baseline.toml"' in text
    settings = [
        line for line in text.splitlines() if "=" in line and not line.lstrip().startswith("#")
    ]
    assert len(settings) <= 25
    assert load_scenario(SCENARIOS / f"{name}.toml") != load_scenario(BASELINE)


def test_extends_merges_tables_and_keeps_the_rest(tmp_path: Path) -> None:
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{BASELINE}"\n[agencies.hub]\nstaff = 40\n')
    s = load_scenario(child)
    base = load_scenario(BASELINE)
    assert s.agencies["hub"].staff == 40
    assert s.agencies["hub"].services == base.agencies["hub"].services
    assert s.arrivals == base.arrivals


def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "bad.toml"
    p.write_text(f'extends = "{BASELINE}"\n{body}\n')
    return p


BAD = [
    ("[run]\ndays = -5", "run.days", "greater than or equal to 1"),
    ("[run]\ndayz = 5", "run.dayz", "unknown field"),
    ('[agencies.hub]\nstaff = "many"', "agencies.hub.staff", "valid integer"),
    ("[arrivals.case_types]\nsexual = 0.9", "arrivals.case_types", "sum to 1"),
    ('[agencies.hub]\nservices = ["intake", "teleport"]', "agencies.hub.services", "teleport"),
    ('[[links]]\nfrom = "hub"\nto = "nowhere"\nchannel = "letter"', "links", "unknown"),
    ("[barriers.sop]\nintensity = 1.5", "barriers.sop.intensity", "less than or equal to 1"),
    ("[run\ndays = 3", "TOML syntax", ""),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD, ids=[b[1] for b in BAD])
def test_malformed_scenarios_name_the_file_and_the_field(
    tmp_path: Path, body: str, field: str, words: str
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    assert field in message
    assert words in message


def test_missing_parent_is_named(tmp_path: Path) -> None:
    p = tmp_path / "orphan.toml"
    p.write_text('extends = "nope.toml"\n')
    with pytest.raises(ScenarioError, match="extends: no such file"):
        load_scenario(p)


def test_circular_extends_is_caught(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(tmp_path / "a.toml")


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collabsim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_cli_validate_reports_bad_files_without_traceback(tmp_path: Path) -> None:
    bad = _write(tmp_path, "[run]\ndays = -5")
    res = _cli("validate", str(BASELINE), str(bad))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr + res.stdout
    assert str(bad) in res.stderr and "run.days" in res.stderr
    assert "ok" in res.stdout


def test_cli_run_with_bad_scenario_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = _write(tmp_path, "[agencies.hub]\nstaff = 0")
    res = _cli("run", str(bad), "--out", str(tmp_path / "out"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr + res.stdout
    assert "agencies.hub.staff" in res.stderr
    res = _cli("run", str(tmp_path / "absent.toml"))
    assert res.returncode == 2 and "no such file" in res.stderr


def test_cli_run_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = _cli(
        "run", str(BASELINE), "--seed", "1", "--days", "150", "--set", "run.warmup_days=30",
        "--out", str(out),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "handling time, median" in res.stdout
    for name in (
        "summary.json", "cases.csv", "timeseries.csv", "agencies.csv", "groups.csv", "report.md",
    ):  # fmt: skip
        assert (out / name).stat().st_size > 0
    for name in ("backlog.png", "handling_time.png", "norms.png", "indices.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    import json

    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "cases_arrived", "cases_closed", "cases_open", "cases_stalled", "handling_days_median",
        "handling_days_p90", "first_service_days_median", "referrals_lost", "referrals_misrouted",
        "duplicated_staff_hours", "interviews_per_child", "bypasses", "cases_recorded",
        "open_share", "cases_dropped", "cases_withdrawn", "repeat_reports", "by_city",
        "by_channel", "response_within_norm_share", "staff_hours_per_case",
    ):  # fmt: skip
        assert key in summary
    assert set(summary["barrier_events"]) == set(collabsim.BARRIER_NAMES)


def test_cli_set_overrides_a_parameter(tmp_path: Path) -> None:
    res = _cli(
        "run", str(BASELINE), "--days", "100", "--set", "run.warmup_days=10",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "warm-up 10" in res.stdout


def test_help_is_fast_and_does_not_import_the_model_or_browser_stack() -> None:
    code = (
        "import sys, collabsim.cli; "
        "heavy = [m for m in ('mesa', 'solara', 'pandas', 'matplotlib') if m in sys.modules]; "
        "print(heavy)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"
    assert _cli("--help").returncode == 0
