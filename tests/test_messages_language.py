"""Messages in Indonesian: bad scenarios, the size check, the case tracer, the exploration report.

Each test asks for Indonesian with ``use_language("id")`` and checks that the
words people read are Indonesian while what is data (field names, file
names, the phases' keys, the CSV columns) stays as it is; English outside
the block is unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from collabsim.errors import ScenarioError
from collabsim.experiments.explore import Exploration
from collabsim.i18n import use_language
from tests.conftest import BASELINE, SCENARIOS

JACKSON = SCENARIOS / "jackson-network.toml"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _error(path: Path) -> str:
    from collabsim.loading import load_scenario

    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value)


def test_an_invalid_scenario_names_the_file_and_the_field_in_indonesian(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.toml", f'extends = "{BASELINE}"\n[run]\ndays = "60"\n')
    with use_language("id"):
        text = _error(bad)
    assert text.startswith(f"{bad}: skenario tidak valid")
    assert "run.days:" in text and "(yang diberikan: teks (string))" in text
    english = _error(bad)  # outside the block: English, as before
    assert f"{bad}: invalid scenario" in english and "(got a string)" in english

    unknown = _write(tmp_path, "typo.toml", f'extends = "{BASELINE}"\n[run]\ndayz = 60\n')
    with use_language("id"):
        text = _error(unknown)
    assert str(unknown) in text and "run.dayz: isian tidak dikenal" in text

    # a field set wrongly in a parent is named with the parent file
    parent = _write(tmp_path, "parent.toml", f'extends = "{BASELINE}"\n[agencies.hub]\nstaff = 0\n')
    child = _write(tmp_path, "child.toml", 'extends = "parent.toml"\n')
    with use_language("id"):
        text = _error(child)
    assert str(child) in text and "agencies.hub.staff:" in text
    assert f"(ditetapkan di {parent.resolve()})" in text

    with use_language("id"):
        missing = _error(tmp_path / "nowhere.toml")
        syntax = _error(_write(tmp_path, "syntax.toml", "[run]\ndays = = 3\n"))
    assert "file: berkas" in missing and "tidak ada" in missing
    assert "run.days: kesalahan sintaks TOML pada baris 2" in syntax


def test_the_size_check_says_why_in_indonesian(monkeypatch: pytest.MonkeyPatch) -> None:
    from collabsim import limits
    from collabsim.loading import load_scenario

    scenario = load_scenario(BASELINE)
    monkeypatch.setattr(limits, "SECONDS_PER_CASE", 10.0)  # as if every case took 10 s
    with use_language("id"), pytest.raises(limits.RunTooLarge) as slow:
        limits.check_fits(scenario, "jakarta.toml")
    text = str(slow.value)
    assert text.startswith("jakarta.toml: terlalu besar untuk dijalankan di sini")
    assert re.search(r"run: akan memakan waktu sekitar \d[\d.]*,\d jam untuk [\d.]+ lembaga", text)
    assert "batasnya 60 menit per simulasi" in text and "--no-size-check" in text
    monkeypatch.setattr(limits, "SECONDS_PER_CASE", limits.SECONDS_PER_CASE / 1e4)
    monkeypatch.setattr(limits, "available_memory", lambda: 2.0**20)  # 1 MiB
    with use_language("id"), pytest.raises(limits.RunTooLarge) as large:
        limits.check_fits(scenario, "jakarta.toml", parallel=4)
    text = str(large.value)
    assert re.search(r"memerlukan sekitar \d+,\d GiB memori \(4 simulasi sekaligus\)", text)
    assert "atau --workers" in text
    with pytest.raises(limits.RunTooLarge, match="too large to run here"):  # English as before
        limits.check_fits(scenario, "jakarta.toml")


def test_the_case_tracer_labels_its_phases_in_indonesian() -> None:
    import collabsim
    from collabsim.api import simulate
    from collabsim.cases import CaseEvent, EventKind
    from collabsim.trace import LOSSES, PHASES, days_lost, describe, phase_label, timeline

    assert set(LOSSES) <= set(PHASES)
    with use_language("id"):
        labels = {p: phase_label(p) for p in PHASES}
        event = describe(CaseEvent(1.0, EventKind.REFERRED, 0, "psychology", 0.0, 1), ["A", "B"])
        held = describe(CaseEvent(1.0, EventKind.HELD, 0, "police", 2.4), ["A"])
    assert labels["waiting for staff"] == "menunggu petugas"
    assert labels["sectoral ego"] == "ego sektoral"
    assert labels["in service"] == "sedang dilayani"
    assert all(label != phase for phase, label in labels.items()), labels
    assert event == "pendampingan psikologis dari B"
    assert held == "2,4 hari"
    assert phase_label("waiting for staff") == "waiting for staff"  # English outside

    m = simulate(collabsim.load_scenario(BASELINE, {"run.days": 60, "run.warmup_days": 0}), 1)
    case = next(c for c in m.cases if c.closed_at is not None)
    names = [a.name for a in m.agencies]
    with use_language("id"):
        table = timeline(case, names, m.now)
    assert set(table["phase"]) <= set(PHASES)  # the keys are data: English in any language
    assert set(days_lost(table)) == set(LOSSES)
    assert "terminasi kasus" in set(table["event"])  # the closure, in the agencies' words


@pytest.fixture
def exploration(tmp_path: Path) -> Exploration:
    """A tiny exploration: the Jackson network, short, one range, one policy, four futures."""
    from collabsim.experiments.explore import explore

    base = _write(
        tmp_path,
        "base.toml",
        f"""extends = "{JACKSON}"
[run]
days = 120
warmup_days = 20
[ranges."services.*.duration.mean"]
low = 0.8
high = 1.2
relative = true
reason = "test: every service's length, together"
[agencies.station_c]
staff_cost_per_year = 1e8
""",
    )
    more = _write(tmp_path, "more.toml", f'extends = "{base}"\n[agencies.station_c]\nstaff = 6\n')
    with use_language("id"):
        return explore(base, {"more": more}, 4, seed=2, out=tmp_path / "x", workers=1)


def test_the_exploration_report_is_written_in_indonesian(
    exploration: Exploration, tmp_path: Path
) -> None:
    from collabsim.experiments.discovery import Discovery, parse_question
    from collabsim.experiments.explore import write_report

    found = Discovery(  # a box by hand: the report only reads it
        parse_question("more < baseline"), 4, 3,
        pd.DataFrame([{"uncertainty": "services.*.duration.mean", "low": 0.9, "high": 1.2,
                       "range_low": 0.8, "range_high": 1.2, "qp": 0.01}]),
        0.75, 1.0, 0.5, pd.DataFrame(),
        pd.DataFrame({"uncertainty": ["services.*.duration.mean"], "score": [1.0]}),
    )  # fmt: skip
    out = tmp_path / "report"
    with use_language("id"):
        written = write_report(
            exploration, out, "Jackson: 4 masa depan", "collabsim explore x", [found]
        )
    assert {p.name for p in written} >= {"report.md", "report.html", "summary.csv", "frontier.png"}
    md = (out / "report.md").read_text()
    for words in (
        "4 masa depan ditarik dengan pengambilan sampel Latin hypercube",
        "Hasil ini dapat diulang dengan perintah:\n\n    collabsim explore x",
        "Seed replikasi: ",
        "## Per kebijakan dan keluaran",
        "| kebijakan | keluaran | lebih baik bila |",
        "lama penanganan kasus, median (hari, Kaplan-Meier)",
        "penyesalan (regret), rata-rata",
        "Batas efisien: biaya tambahan per tahun",
        "## Kapan more < baseline berlaku?",
        "Pertanyaan ini berlaku di 3 dari 4 masa depan",
        "memuat 75% di antaranya",
        "| asumsi | kotak: batas bawah |",
        "| services.*.duration.mean | 0,9 | 1,2 | 0,8 | 1,2 | 0,01 |",
    ):
        assert words in md, words
    assert "300.000.000" in md  # station c's three more posts a year, Indonesian separators
    for english in ("Per policy and output", "Reproduce with", "Replicate seeds", "When does"):
        assert english not in md
    html = (out / "report.html").read_text()
    assert "<html lang='id'>" in html and "<h2>Per kebijakan dan keluaran</h2>" in html
    assert "<th>kebijakan</th>" in html
    # the tables are data: their columns and values as in English
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns)[:4] == ["policy", "output", "better", "n"]
    assert set(summary["better"]) <= {"min", "max"}
    assert "handling_days_median" in set(summary["output"])


def test_experiment_errors_and_the_store_speak_indonesian(tmp_path: Path) -> None:
    from collabsim.errors import InputError
    from collabsim.experiments.discovery import parse_question
    from collabsim.experiments.explore import explore
    from collabsim.experiments.store import Experiment, ResultsStore, StoreMismatch

    with use_language("id"):
        with pytest.raises(InputError) as question:
            parse_question("more staff is better")
        with pytest.raises(InputError) as no_ranges:
            explore(JACKSON, {}, 2, out=tmp_path / "none", workers=1)
        with ResultsStore(tmp_path / "results.sqlite") as store:
            store.claim(Experiment("replicate", {"A": "abc"}, 5, label="Jakarta"))
            with pytest.raises(StoreMismatch) as other:
                store.claim(Experiment("replicate", {"A": "abc"}, 6, label="Jakarta"))
    assert "question: tidak dapat digunakan" in str(question.value)
    assert "seharusnya misalnya" in str(question.value)
    assert "ranges: tidak ada rentang untuk menarik masa depan" in str(no_ranges.value)
    text = str(other.value)
    assert "berisi eksperimen lain" in text and "seed induk 5" in text and "seed induk 6" in text
    assert "--add" in text


def test_an_error_made_while_the_language_is_unusable_is_in_english(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from collabsim.i18n import UnknownLanguage, default_language, language

    monkeypatch.setenv("COLLABSIM_LANG", "xx")
    assert language() == "en"  # messages still have a language to be said in
    with pytest.raises(UnknownLanguage, match="COLLABSIM_LANG 'xx': expected one of en, id"):
        default_language(strict=True)  # what the command line reports
    assert str(ScenarioError("a.toml", ["run.days: x"])).startswith("a.toml: invalid scenario")
