"""A corpus of malformed scenarios: each gets exit code 2, the file, the field, no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collabsim.cli import app
from tests.conftest import BASELINE, ctrl_c_enabled

# (id, scenario text, field named in the message, words in the message); the
# text extends the baseline unless it starts with "!", which marks a whole file.
EXTENDS = f'extends = "{BASELINE}"\n'
ZERO_POLICE = ", ".join(
    f'"{c}" = 0'
    for c in (
        "Jakarta Timur",
        "Jakarta Barat",
        "Jakarta Selatan",
        "Jakarta Utara",
        "Jakarta Pusat",
        "Kepulauan Seribu",
        "province",
    )
)
CORPUS: list[tuple[str, str, str, str]] = [
    # wrong types: no bool for a number, no numeric strings, no float for an integer
    ("days-string", '[run]\ndays = "60"', "run.days", "valid integer (got a string)"),
    ("days-float", "[run]\ndays = 60.5", "run.days", "valid integer (got a number)"),
    ("days-bool", "[run]\ndays = true", "run.days", "got true/false"),
    ("warmup-float", "[run]\nwarmup_days = 10.0", "run.warmup_days", "valid integer"),
    ("staff-bool", "[agencies.hub]\nstaff = true", "agencies.hub.staff", "got true/false"),
    ("staff-string", '[agencies.hub]\nstaff = "12"', "agencies.hub.staff", "got a string"),
    ("skill-string", '[agencies.hub]\nskill = "high"', "agencies.hub.skill", "valid number"),
    ("intensity-str", '[barriers.sop]\nintensity = "0.5"', "barriers.sop.intensity", "number"),
    ("rate-string", '[arrivals.cases_per_year]\n"Jakarta Timur" = "300"',
     "arrivals.cases_per_year.Jakarta Timur", "got a string"),
    ("services-str", '[agencies.hub]\nservices = "intake"', "agencies.hub.services", "list"),
    ("manager-int", "[agencies.hub]\ncase_manager = 1", "agencies.hub.case_manager", "boolean"),
    ("enabled-str", '[dynamics]\nenabled = "yes"', "dynamics.enabled", "boolean"),
    ("name-int", "name = 5", "name", "valid string"),
    ("duration-num", "[services.intake]\nduration = 0.25", "services.intake.duration", "got a"),
    ("dist-unknown", '[services.intake.duration]\ndist = "gamma"',
     "services.intake.duration.dist", "exponential"),
    ("kind-unknown", '[pathway]\nkind = "random"', "pathway.kind", "plan"),
    ("shared-str", 'shared_case_system = "false"', "shared_case_system", "boolean"),
    ("links-int", "links = 5", "links", "list"),
    ("per-city-float", '[agencies.hub.per_city]\nprovince = 1.5', "agencies.hub.per_city.province",
     "valid integer"),
    # NaN and infinity
    ("rate-nan", '[arrivals.cases_per_year]\n"Jakarta Timur" = nan',
     "arrivals.cases_per_year.Jakarta Timur", "finite"),
    ("rate-inf", '[arrivals.cases_per_year]\n"Jakarta Timur" = inf',
     "arrivals.cases_per_year.Jakarta Timur", "finite"),
    ("conference-inf", "[dynamics]\nconference_interval_days = inf",
     "dynamics.conference_interval_days", "finite"),
    ("mean-inf", "[services.police.duration]\nmean = inf", "services.police.duration.mean",
     "finite"),
    ("cv-inf", "[services.police.duration]\ncv = inf", "services.police.duration.cv", "finite"),
    ("load-inf", "[choice]\nload = inf", "choice.load", "finite"),
    ("hours-inf", "[run]\nhours_per_staff_day = inf", "run.hours_per_staff_day", "finite"),
    ("multiplier-nan", "[pathway.risk_multiplier.high]\nsafe_house = nan",
     "pathway.risk_multiplier.high.safe_house", "finite"),
    ("latency-neg-inf", "[channels.letter]\nlatency_days = -inf", "channels.letter.latency_days",
     "finite"),
    ("trust-gain-nan", "[dynamics]\ntrust_gain = nan", "dynamics.trust_gain", "finite"),
    # negative numbers
    ("days-negative", "[run]\ndays = -5", "run.days", "greater than or equal to 1"),
    ("staff-zero", "[agencies.hub]\nstaff = 0", "agencies.hub.staff", "greater than or equal to 1"),
    ("count-negative", "[agencies.hub.per_city]\nprovince = -1", "agencies.hub.per_city.province",
     "greater than or equal to 0"),
    ("lag-negative", "[services.police.lag]\nmean = -1.0", "services.police.lag.mean",
     "greater than or equal to 0"),
    ("hold-negative", "[barriers.sectoral_ego]\nhold_days = -2.0",
     "barriers.sectoral_ego.hold_days", "greater than or equal to 0"),
    ("rate-negative", '[arrivals.cases_per_year]\n"Jakarta Timur" = -10.0',
     "arrivals.cases_per_year.Jakarta Timur", "greater than or equal to 0"),
    ("weight-negative", "[choice]\ntrust = -1.0", "choice.trust", "greater than or equal to 0"),
    ("multiplier-neg", "[pathway.risk_multiplier.high]\nsafe_house = -3.0",
     "pathway.risk_multiplier.high.safe_house", "greater than or equal to 0"),
    ("stall-zero", "[run]\nstall_days = 0", "run.stall_days", "greater than 0"),
    # huge numbers
    ("days-billion", "[run]\ndays = 1_000_000_000", "run.days", "less than or equal to 36500"),
    ("days-beyond-64-bits", "[run]\ndays = 99999999999999999999999", "run.days",
     "less than or equal to 36500"),
    ("rate-huge", '[arrivals.cases_per_year]\n"Jakarta Timur" = 1e12',
     "arrivals.cases_per_year.Jakarta Timur", "less than or equal to 1000000"),
    ("staff-huge", "[agencies.hub]\nstaff = 1_000_000", "agencies.hub.staff", "less than or equal"),
    ("agencies-200k", '[agencies.puskesmas.per_city]\n"Jakarta Timur" = 200_000',
     "agencies.puskesmas.per_city.Jakarta Timur", "less than or equal to 10000"),
    ("sessions-huge", "[pathway.plans.sexual.psychology]\nsessions = 1e9",
     "pathway.plans.sexual.psychology.sessions", "less than or equal to 100"),
    ("mean-huge", "[services.police.duration]\nmean = 1e9", "services.police.duration.mean",
     "less than or equal to 36500"),
    ("hours-25", "[run]\nhours_per_staff_day = 25.0", "run.hours_per_staff_day",
     "less than or equal to 24"),
    ("cv-huge", "[services.police.duration]\ncv = 50.0", "services.police.duration.cv",
     "less than or equal to 10"),
    # probabilities and shares
    ("intensity-1.5", "[barriers.sop]\nintensity = 1.5", "barriers.sop.intensity",
     "less than or equal to 1"),
    ("ego-negative", "[agencies.police_ppa]\nsectoral_ego = -0.1",
     "agencies.police_ppa.sectoral_ego", "greater than or equal to 0"),
    ("plan-p-1.2", "[pathway.plans.sexual.police]\np = 1.2", "pathway.plans.sexual.police.p",
     "less than or equal to 1"),
    ("shares-sum", "[arrivals.case_types]\nsexual = 0.9", "arrivals.case_types", "sum to 1"),
    ("vacancy-1", "[barriers.resources]\nvacancy_rate = 1.0", "barriers.resources.vacancy_rate",
     "less than 1"),
    ("mishap-shares", "[barriers.miscommunication]\nlate_share = 0.8", "barriers.miscommunication",
     "<= 1"),
    # unknown names
    ("field-typo", "[run]\ndayz = 5", "run.dayz", "unknown field"),
    ("barrier-typo", "[barriers.unknown]\nintensity = 1.0", "barriers.unknown", "unknown field"),
    ("service-unknown", '[agencies.hub]\nservices = ["intake", "teleport"]',
     "agencies.hub.services", "teleport"),
    ("link-kind-unknown", '[[links]]\nfrom = "hub"\nto = "nowhere"\nchannel = "letter"',
     "links[0].to", "unknown agency kind"),
    ("link-channel-unknown", '[[links]]\nfrom = "hub"\nto = "police_ppa"\nchannel = "pigeon"',
     "links[0].channel", "unknown channel"),
    ("default-channel", 'default_channel = "pigeon"', "default_channel", "unknown channel"),
    ("city-unknown", '[agencies.hub.per_city]\n"Jakarta Tengah" = 1', "agencies.hub.per_city",
     "unknown city"),
    ("duplicated-service", '[barriers.task_duplication]\nservice = "teleport"',
     "barriers.task_duplication.service", "unknown service"),
    ("tracks-incomplete", '[pathway]\ntracks = [["health"]]', "pathway.plans", "not listed"),
    ("entry-service", '[arrivals.entry_channels.walk_in]\nservice = "teleport"',
     "arrivals.entry_channels.walk_in.service", "unknown service"),
    ("risk-unknown", "[pathway.risk_multiplier.extreme]\npolice = 2.0",
     "pathway.risk_multiplier.extreme", "unknown risk level"),
    # structure
    ("no-provider", f"[agencies.police_ppa]\nper_city = {{ {ZERO_POLICE} }}", "pathway.tracks",
     "no agency offers service 'police'"),
    ("warmup-too-long", "[run]\nwarmup_days = 2000", "run.warmup_days", "less than run.days"),
    ("missing-everything", '!name = "x"\n', "arrivals", "required field is missing"),
    ("missing-case-types", '!name = "x"\n[arrivals.cases_per_year]\nA = 1.0\n',
     "arrivals.case_types", "required field is missing"),
    ("missing-sector", '!name = "x"\n[agencies.hub]\nservices = []\nper_city = {}\nstaff = 1\n',
     "agencies.hub.sector", "required field is missing"),
    ("empty-file", "!", "arrivals", "required field is missing"),
    # TOML syntax, with the line and the key
    ("toml-header", "[run\ndays = 3", "TOML syntax", "line 2"),
    ("toml-value", "[run]\ndays = ", "run.days", "TOML syntax error on line 3"),
    ("toml-duplicate", "[run]\ndays = 1\ndays = 2", "TOML syntax", "line 4"),
    ("toml-nul", "[run]\ndays = 1\x00", "run.days", "TOML syntax error on line 3"),
    # extends
    ("extends-missing", '!extends = "nope.toml"\n', "extends", "no such file"),
    ("extends-int", "!extends = 5\n", "extends", "expected a file name"),
    ("extends-dir", '!extends = "."\n', "extends", "not a regular file"),
]  # fmt: skip

SIZE = [
    # valid, but no machine of this kind could hold or finish it
    ("memory-agencies",
     "[agencies.hub.per_city]\nprovince = 10000\n"
     "[agencies.puskesmas.per_city]\nprovince = 10000",
     "run", "GiB of memory"),
    ("memory-cases",
     "[run]\ndays = 36500\n[arrivals.cases_per_year]\n" + "\n".join(
         f'"{c}" = 1000000.0' for c in ("Jakarta Timur", "Jakarta Barat", "Jakarta Selatan")),
     "run", "GiB of memory"),
]  # fmt: skip

runner = CliRunner()


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    body = text[1:] if text.startswith("!") else EXTENDS + text + "\n"
    path.write_bytes(body.encode())
    return path


def _assert_clear_error(args: list[str], path: Path | str, field: str, words: str) -> None:
    res = runner.invoke(app, args)
    out = res.stdout + res.stderr
    assert res.exit_code == 2, out
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in out
    assert str(path) in res.stderr, res.stderr
    assert field in res.stderr, res.stderr
    assert words in res.stderr, res.stderr


def test_the_corpus_has_at_least_sixty_cases() -> None:
    assert len(CORPUS) + len(SIZE) + len(FILES) >= 60


def test_a_run_that_would_take_hours_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from collabsim import limits
    from collabsim.loading import load_scenario

    scenario = load_scenario(BASELINE)
    assert limits.check_fits(scenario, "x").seconds < 60
    monkeypatch.setattr(limits, "SECONDS_PER_CASE", 10.0)  # as if every case took 10 s
    with pytest.raises(limits.RunTooLarge, match=r"would take about \d+\.\d hours"):
        limits.check_fits(scenario, "x")
    assert len({c[0] for c in CORPUS + SIZE}) == len(CORPUS) + len(SIZE)


@pytest.mark.parametrize(
    ("text", "field", "words"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS]
)
def test_a_malformed_scenario_is_a_clear_error(
    tmp_path: Path, text: str, field: str, words: str
) -> None:
    path = _scenario(tmp_path, text)
    _assert_clear_error(["run", str(path), "--out", str(tmp_path / "out")], path, field, words)
    assert not (tmp_path / "out").exists()
    _assert_clear_error(["validate", str(path)], path, field, words)


@pytest.mark.parametrize(
    ("text", "field", "words"), [c[1:] for c in SIZE], ids=[c[0] for c in SIZE]
)
def test_a_run_too_large_for_the_machine_is_refused_before_it_starts(
    tmp_path: Path, text: str, field: str, words: str
) -> None:
    path = _scenario(tmp_path, text)
    _assert_clear_error(["run", str(path), "--out", str(tmp_path / "out")], path, field, words)
    res = runner.invoke(app, ["run", str(path)])
    assert "--no-size-check" in res.stderr
    assert not (tmp_path / "out").exists()


def _random_bytes(p: Path) -> None:
    p.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096)))


def _latin1_name(p: Path) -> None:
    p.write_bytes(EXTENDS.encode() + 'name = "caf\xe9"\n'.encode("latin-1"))


def _utf16(p: Path) -> None:
    p.write_bytes((EXTENDS + 'name = "x"\n').encode("utf-16"))


def _too_large(p: Path) -> None:
    p.write_bytes(b"# " + b"x" * (4 * 1024 * 1024) + b"\n")


def _directory(p: Path) -> None:
    p.mkdir()


def _parent_with_syntax_error(p: Path) -> None:
    (p.parent / "parent.toml").write_text("[run\n")
    p.write_text('extends = "parent.toml"\n')


def _parent_binary(p: Path) -> None:
    (p.parent / "parent.toml").write_bytes(b"\xff\xfe\x00garbage")
    p.write_text('extends = "parent.toml"\n')


def _circular(p: Path) -> None:
    (p.parent / "other.toml").write_text(f'extends = "{p.name}"\n')
    p.write_text('extends = "other.toml"\n')


def _symlink_loop(p: Path) -> None:
    p.symlink_to(p)


FILES: list[tuple[str, Callable[[Path], None], str, str, str]] = [
    # (id, how to make the file, file named in the message, field, words)
    ("random-bytes", _random_bytes, "bad.toml", "file", "not UTF-8 text"),
    ("latin1-name", _latin1_name, "bad.toml", "file", "byte 0xe9 on line 2"),
    ("utf16", _utf16, "bad.toml", "file", "not UTF-8"),
    ("too-large", _too_large, "bad.toml", "file", "too large"),
    ("directory", _directory, "bad.toml", "file", "not a regular file"),
    ("symlink-loop", _symlink_loop, "bad.toml", "file", "cannot read"),
    ("absent", lambda p: None, "bad.toml", "file", "no such file"),
    ("parent-syntax", _parent_with_syntax_error, "parent.toml", "TOML syntax", "line 1"),
    ("parent-binary", _parent_binary, "parent.toml", "file", "not UTF-8"),
    ("circular", _circular, "bad.toml", "extends", "circular"),
]


@pytest.mark.parametrize(
    ("make", "named", "field", "words"), [f[1:] for f in FILES], ids=[f[0] for f in FILES]
)
def test_an_unreadable_file_is_a_clear_error(
    tmp_path: Path, make: Callable[[Path], None], named: str, field: str, words: str
) -> None:
    path = tmp_path / "bad.toml"
    make(path)
    _assert_clear_error(["validate", str(path)], tmp_path / named, field, words)


def test_a_device_is_not_read() -> None:
    _assert_clear_error(["validate", "/dev/zero"], "/dev/zero", "file", "not a regular file")


def test_an_override_of_the_wrong_type_is_a_clear_error(tmp_path: Path) -> None:
    args = ["run", str(BASELINE), "--set", 'run.days="60"', "--out", str(tmp_path / "o")]
    _assert_clear_error(args, BASELINE, "run.days", "got a string")


def test_paths_in_errors_are_never_wrapped(tmp_path: Path) -> None:
    deep = tmp_path / ("a-folder-with-a-long-name-" * 4) / ("and-another-" * 5)
    deep.mkdir(parents=True)
    path = _scenario(deep, "[run]\ndays = -5")
    assert len(str(path)) > 200
    res = runner.invoke(app, ["validate", str(path)], terminal_width=80)
    assert res.exit_code == 2
    assert any(str(path) in line for line in res.stderr.splitlines()), res.stderr


def test_markup_in_a_scenario_name_is_printed_as_text(tmp_path: Path) -> None:
    path = _scenario(tmp_path, 'name = "[/] [red]x"')
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.stderr
    assert "[/] [red]x" in res.stdout


def test_ctrl_c_stops_a_run_cleanly_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "collabsim", "run", str(BASELINE), "--days", "20000"]
    proc = subprocess.Popen(
        [*cmd, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_enabled,
    )
    time.sleep(8)  # imports, then well into the simulation
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stdout + stderr
    assert not out.exists()


def test_an_interrupt_while_writing_leaves_the_old_outputs(tmp_path: Path) -> None:
    from collabsim.files import staged

    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("old")
    with pytest.raises(KeyboardInterrupt), staged(out) as stage:
        (stage / "summary.json").write_text("new")
        (stage / "cases.csv").write_text("new")
        raise KeyboardInterrupt
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    assert (out / "summary.json").read_text() == "old"
    with staged(out) as stage:
        (stage / "summary.json").write_text("new")
    assert (out / "summary.json").read_text() == "new"
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]


def test_an_interrupt_held_back_while_files_move_is_raised_after(tmp_path: Path) -> None:
    from collabsim.files import deferred_interrupt

    moved = []
    with pytest.raises(KeyboardInterrupt), deferred_interrupt():
        os.kill(os.getpid(), signal.SIGINT)
        moved.append("all")  # the block finishes before the interrupt is raised
    assert moved == ["all"]
