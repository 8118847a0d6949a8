"""The command line in Indonesian: tables, messages, errors and help (--lang, COLLABSIM_LANG)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collabsim.cli import app
from collabsim.i18n import use_language

ROOT = Path(__file__).resolve().parents[1]
JACKSON = ROOT / "scenarios" / "jackson-network.toml"
SHORT = ["--days", "60", "--set", "run.warmup_days=10"]

runner = CliRunner()


@pytest.fixture(autouse=True)
def _language_given_back() -> Iterator[None]:
    """``--lang`` sets the language for the rest of the thread: restore it after each test."""
    with use_language("en"):
        yield


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment that names no language (so the default, English)."""
    for var in ("COLLABSIM_LANG", "LANGUAGE", "LC_ALL", "LANG"):
        monkeypatch.delenv(var, raising=False)


def _short(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text(f'extends = "{JACKSON}"\n[run]\ndays = 60\nwarmup_days = 10\n')
    return path


def _has(text: str, *words: str) -> None:
    for word in words:
        assert word in text, f"{word!r} not in:\n{text}"


def _lacks(text: str, *words: str) -> None:
    for word in words:
        assert word not in text, f"{word!r} left in:\n{text}"


def test_validate_speaks_indonesian_and_the_next_command_english_again(english: None) -> None:
    res = runner.invoke(app, ["--lang", "id", "validate", str(JACKSON)])
    assert res.exit_code == 0, res.output
    _has(res.stdout, "valid ", "asumsi: ", "tanpa rentang: ", "satu kali simulasi memerlukan")
    _has(res.stdout, "(--all menampilkan semuanya)")
    _lacks(res.stdout, "assumptions:", "no range:", "a run needs about", "more (--all")
    again = runner.invoke(app, ["validate", str(JACKSON)])  # no --lang: the environment's
    assert again.exit_code == 0, again.output
    _has(again.stdout, "ok ", "assumptions: ", "no range: ")


def test_run_speaks_indonesian(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--lang", "id", "run", str(JACKSON), *SHORT, "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    _has(res.stdout, "keluaran", "nilai", "Kejadian hambatan", "lama penanganan kasus, median")
    _has(res.stdout, "masa pemanasan", "berkas ditulis ke")
    _lacks(res.stdout, "Barrier events", "handling time", "warm-up", "Wrote", "Simulated in")


def test_compare_speaks_indonesian_with_its_numbers(tmp_path: Path) -> None:
    a, b = _short(tmp_path, "a.toml"), _short(tmp_path, "b.toml")
    out = tmp_path / "cmp"
    args = ["--lang", "id", "compare", str(a), str(b), "--reps", "2", "--workers", "1"]
    res = runner.invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    # single words: the table wraps its cells to the width of the terminal
    _has(res.stdout, "replikasi", "berpasangan", "dikurangi", "keluaran", "SK 95%")
    _has(res.stdout, "penanganan", "SIMFONI-PPA", "Ditulis: ")
    _has(res.stdout, "0,00")  # the same scenario twice: B - A is 0, with a decimal comma
    _has(res.stdout, "[handling_days_median]")  # the key, as in comparison.csv
    _lacks(res.stdout, "95% CI", " minus ", "paired", "handling time", "Wrote ", "0.00")
    assert (out / "comparison.csv").is_file() and (out / "comparison.png").is_file()


def test_an_unknown_language_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    res = runner.invoke(app, ["--lang", "xx", "validate", str(JACKSON)])
    assert res.exit_code == 2, res.output
    assert res.stderr.strip() == "error: --lang 'xx': expected one of en, id", res.stderr
    assert "Traceback" not in res.output
    monkeypatch.setenv("COLLABSIM_LANG", "xx")
    bad_env = runner.invoke(app, ["validate", str(JACKSON)])
    assert bad_env.exit_code == 2, bad_env.output
    assert bad_env.stderr.strip() == "error: COLLABSIM_LANG 'xx': expected one of en, id"
    chosen = runner.invoke(app, ["--lang", "id", "validate", str(JACKSON)])  # --lang wins
    assert chosen.exit_code == 0, chosen.output
    _has(chosen.stdout, "asumsi: ")


def _help(lang: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLLABSIM_LANG": lang, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "collabsim", *args, "--help"],
        capture_output=True, text=True, check=False, env=env, timeout=60,
    )  # fmt: skip


def test_the_help_follows_collabsim_lang() -> None:
    top = _help("id")
    assert top.returncode == 0, top.stderr
    _has(top.stdout, "kekerasan terhadap anak", "Bandingkan dua skenario", "bukan --lang")
    _lacks(top.stdout, "Simulate how agencies", "Compare two scenarios")
    compare = _help("id", "compare")
    assert compare.returncode == 0, compare.stderr
    _has(compare.stdout, "Berkas skenario TOML.", "Jumlah replikasi.", "Seed induk replikasi.")
    _lacks(compare.stdout, "A scenario TOML file.", "Replications.")
    unknown = _help("xx")  # an unknown COLLABSIM_LANG: the help in English, no traceback
    assert unknown.returncode == 0, unknown.stderr
    _has(unknown.stdout, "Simulate how agencies")
    assert "Traceback" not in unknown.stderr
