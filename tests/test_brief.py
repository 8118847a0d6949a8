"""The policy brief: two A4 pages at most, in both languages, from a finished folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest
from typer.testing import CliRunner

import collabsim
from collabsim.brief import PdfUnavailable, write_brief
from collabsim.brief.comparison import comparison_answer
from collabsim.brief.exploration import exploration_answer
from collabsim.brief.folders import ComparisonFolder, ExplorationFolder, read_folder
from collabsim.cli import app
from collabsim.errors import InputError
from collabsim.experiments import compare
from collabsim.i18n import translator, use_language

ROOT = Path(__file__).resolve().parents[1]
JACKSON = ROOT / "scenarios" / "jackson-network.toml"

_PRICED = """
[run]
days = 200
warmup_days = 50
[agencies.station_a]
staff_cost_per_year = 1e8
[agencies.station_b]
staff_cost_per_year = 1e8
[agencies.station_c]
staff_cost_per_year = 1e8
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A paired comparison of the Jackson network with one more server at its busiest station."""
    here = tmp_path_factory.mktemp("comparison")
    a = _write(here, "a.toml", f'extends = "{JACKSON}"\n{_PRICED}')
    b = _write(here, "b.toml",
               f'extends = "{a}"\nname = "Jackson network, one more server"\n'
               'description = "One more server at the busiest station"\n'
               "[agencies.station_a]\nstaff = 3\n")  # fmt: skip
    compare(a, b, 3, seed=1, out=here / "cmp", workers=1)
    return here / "cmp"


@pytest.fixture(scope="module")
def exploration(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny exploration: two interventions in three futures, by the command line."""
    here = tmp_path_factory.mktemp("exploration")
    base = _write(here, "base.toml",
                  f'extends = "{JACKSON}"\nname = "Jackson network, short"\n{_PRICED}'
                  '[ranges."services.*.duration.mean"]\nlow = 0.8\nhigh = 1.2\nrelative = true\n'
                  'reason = "test: every service\'s length, together"\n')  # fmt: skip
    _write(here, "more.toml",
           f'extends = "{base}"\nname = "One more server at station a"\n'
           "[agencies.station_a]\nstaff = 3\n[costs]\none_off = 5e7\n")  # fmt: skip
    _write(here, "c.toml", f'extends = "{base}"\nname = "One more server at station c"\n'
                           "[agencies.station_c]\nstaff = 4\n")  # fmt: skip
    out = here / "ex"
    args = ["explore", str(base), str(here / "more.toml"), str(here / "c.toml"), "--futures", "3",
            "--seed", "2", "--workers", "1", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def _pages(pdf: Path) -> list[str]:
    """The text of each page of a PDF, its whitespace made single spaces."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return [" ".join(page.get_textpage().get_text_range().split()) for page in doc]
    finally:
        doc.close()


def _check_pdf(pdf: Path) -> str:
    """Check the PDF's pages (1 or 2, none blank, the figure on page 1); its whole text."""
    doc = pdfium.PdfDocument(pdf)
    try:
        assert 1 <= len(doc) <= 2
        for k, page in enumerate(doc):
            width, height = page.get_size()
            assert (round(width), round(height)) == (595, 842)  # A4, in points
            grey = np.asarray(page.render(scale=1).to_pil().convert("L"))
            assert (grey < 200).mean() > 0.01, f"page {k + 1} is blank"
        images = [
            o for o in doc[0].get_objects(max_depth=5) if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE
        ]
        assert images, "no figure on page 1"
        assert max(o.get_px_size()[0] for o in images) > 500  # the plot, not an icon
    finally:
        doc.close()
    return " ".join(_pages(pdf))


def _check_html(html: Path) -> str:
    text = html.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text  # nothing fetched from the internet
    assert '<img src="data:image/png;base64,' in text
    assert "@font-face" not in text and "<link" not in text and "<script" not in text
    return text


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_comparison_brief_answers_in_one_sentence_with_its_interval(
    comparison: Path, tmp_path: Path, lang: str
) -> None:
    written = write_brief(comparison, tmp_path / lang, lang)
    assert [p.name for p in written] == ["brief.html", "brief.pdf"]
    text = _check_pdf(tmp_path / lang / "brief.pdf")
    _check_html(tmp_path / lang / "brief.html")
    found = read_folder(comparison)
    assert isinstance(found, ComparisonFolder)
    assert found.reps == 3 and found.seed == 1 and found.paths["B"] is not None
    with use_language(lang):
        verdict, sentence = comparison_answer(found)
    assert f"{verdict} {sentence}" in text
    row = found.table.loc["handling_days_median"]
    assert row["ci_high"] < 0  # one more server at the busiest station: shorter, for sure
    t = translator(lang)
    for value in (row["diff"], row["ci_low"], row["ci_high"]):
        assert t.number(float(value), 2) in sentence
    if lang == "id":
        assert verdict == "Ya." and re.search(r"-0,\d\d hari", sentence)
        assert "selang kepercayaan 95%" in sentence and "replikasi berpasangan" in sentence
        assert "Ringkasan kebijakan".upper() in text.upper()
    else:
        assert verdict == "Yes." and re.search(r"-0\.\d\d days", sentence)
        assert "the interval excludes zero" in sentence
    # the table, what it depends on and the command that reproduces it
    assert t.marked("interviews per child") not in text  # none in the Jackson network
    assert "→ 3" in text  # what B changes: station a's staff, 2 to 3
    a, b = (str(Path(str(found.paths[arm])).resolve()) for arm in "AB")
    assert _squeeze(f"collabsim compare {a} {b} --reps 3 --seed 1 --out") in _squeeze(text)
    assert f"collabsim {collabsim.__version__}" in text


def test_a_comparison_whose_scenario_files_are_gone_says_so(
    comparison: Path, tmp_path: Path
) -> None:
    moved = tmp_path / "elsewhere" / "cmp"
    shutil.copytree(comparison, moved)
    write_brief(moved, lang="en")
    text = _check_pdf(moved / "brief.pdf")
    assert "not found" in text and "A.toml" in text and "--reps 3 --seed 1" in text


@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_exploration_brief_gives_the_best_choice_and_its_spread(
    exploration: Path, tmp_path: Path, lang: str
) -> None:
    write_brief(exploration, tmp_path, lang)
    text = _check_pdf(tmp_path / "brief.pdf")
    _check_html(tmp_path / "brief.html")
    found = read_folder(exploration)
    assert isinstance(found, ExplorationFolder)
    assert found.names == {"more": "One more server at station a",
                           "c": "One more server at station c"}  # fmt: skip
    assert found.base is not None and set(found.policies) == {"more", "c"}  # the files as they ran
    with use_language(lang):
        verdict, sentence = exploration_answer(found)
    assert f"{verdict} {sentence}" in text
    assert "One more server at station a" in verdict
    share = translator(lang).percent(1.0)
    assert share in sentence  # best in every future
    assert "--futures 3" in text and "--seed 2" in text
    # the effect's 10th to 90th percentile, as collabsim explore summarises it
    summary = pd.read_csv(exploration / "summary.csv")
    row = summary[(summary["policy"] == "more") & (summary["output"] == "handling_days_median")]
    t = translator(lang)
    for col in ("effect_p10", "effect_p90"):
        assert t.number(float(row[col].iloc[0]), 2) in sentence
    assert ("Rp 50,000,000" if lang == "en" else "Rp 50.000.000") in text  # its one-off cost


def test_a_folder_that_is_neither_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="neither a comparison folder"):
        write_brief(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="neither a comparison folder"):
        write_brief(tmp_path)
    with pytest.raises(InputError, match="not a folder"):
        write_brief(tmp_path / "missing")
    assert not (tmp_path / "brief.html").exists()
    with pytest.raises(InputError, match="expected one of en, id"):
        write_brief(tmp_path, lang="fr")


def test_without_pango_the_html_is_written_and_the_error_names_the_package(
    comparison: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import collabsim.brief.render as render

    real = render.importlib.import_module

    def no_pango(name: str, *args: object) -> object:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: no such file")
        return real(name, *args)

    monkeypatch.setattr(render.importlib, "import_module", no_pango)
    with pytest.raises(
        PdfUnavailable, match=re.escape("apt-get install libpango-1.0-0 libpangoft2-1.0-0")
    ):
        write_brief(comparison, tmp_path, "en")
    assert (tmp_path / "brief.html").stat().st_size > 0
    assert not (tmp_path / "brief.pdf").exists()
    assert isinstance(PdfUnavailable("weasyprint", ["x"]), InputError)  # exit code 2 in the CLI


def test_a_brief_too_long_for_two_pages_is_set_tighter(
    comparison: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import collabsim.brief

    monkeypatch.setattr(collabsim.brief, "MAX_PAGES", 0)  # every layout is "too long"
    write_brief(comparison, tmp_path, "en")
    assert '<body class="compact">' in (tmp_path / "brief.html").read_text(encoding="utf-8")
    _check_pdf(tmp_path / "brief.pdf")
