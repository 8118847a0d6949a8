"""The policy brief: a finished comparison or exploration, on at most two A4 pages.

:func:`write_brief` reads what ``collabsim compare`` or ``collabsim explore``
left in a folder (nothing is simulated again) and writes ``brief.html`` and
``brief.pdf``, in English or Indonesian: the question, the answer in one
sentence with its uncertainty, one figure, a small table, what the answer
depends on and how to reproduce it. See ``docs/brief.md``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from collabsim.brief.comparison import comparison_brief
from collabsim.brief.content import Brief
from collabsim.brief.exploration import exploration_brief
from collabsim.brief.folders import ComparisonFolder, ExplorationFolder, read_folder
from collabsim.brief.render import PdfUnavailable

__all__ = ["PdfUnavailable", "write_brief"]

HTML_NAME = "brief.html"
PDF_NAME = "brief.pdf"
MAX_PAGES = 2


def write_brief(folder: Path, out: Path | None = None, lang: str | None = None) -> list[Path]:
    """Write the policy brief of a finished comparison or exploration folder.

    Args:
        folder: the ``--out`` folder of ``collabsim compare`` (its results store) or of
            ``collabsim explore`` (its ``effects.csv``, ``futures.csv``, ``report.md``).
        out: the folder to write the brief into (default: ``folder`` itself).
        lang: ``en`` or ``id`` (default: the language in use, see :mod:`collabsim.i18n`).

    Returns:
        The files written: ``brief.html`` and ``brief.pdf``.

    Raises:
        InputError: if the folder is neither a comparison nor an exploration, or
            ``lang`` is not a language collabsim speaks.
        StoreError: if the folder's results store cannot be used.
        OutputError: if ``out`` cannot be written.
        PdfUnavailable: if WeasyPrint cannot load the system's Pango; ``brief.html``
            is written before it is raised.
    """
    from collabsim.brief import render
    from collabsim.errors import InputError
    from collabsim.files import staged
    from collabsim.i18n import UnknownLanguage, check_language, language, use_language

    folder = Path(folder)
    target = Path(out) if out is not None else folder
    try:
        check_language(lang or language(), "lang")
    except UnknownLanguage as exc:
        raise InputError("lang", [str(exc)]) from None
    with use_language(lang) as chosen:
        found = read_folder(folder)
        brief = _content(found, chosen)
        with tempfile.TemporaryDirectory(prefix="collabsim-brief-") as tmp:
            # no title: the brief's heading and caption say what the figure shows
            png = render.draw_figure(found, "", Path(tmp) / "figure.png")
            brief.figure = render.data_uri(png)
        page = render.html(brief)
        with staged(target) as stage:  # the HTML first: it is there even without WeasyPrint
            (stage / HTML_NAME).write_text(page, encoding="utf-8")
        document = render.layout(page)
        if len(document.pages) > MAX_PAGES:  # tighter type and a smaller figure
            page = render.html(brief, compact=True)
            document = render.layout(page)
            with staged(target) as stage:
                (stage / HTML_NAME).write_text(page, encoding="utf-8")
        with staged(target) as stage:
            document.write_pdf(stage / PDF_NAME)
    return [target / HTML_NAME, target / PDF_NAME]


def _content(found: ComparisonFolder | ExplorationFolder, lang: str) -> Brief:
    if isinstance(found, ComparisonFolder):
        return comparison_brief(found, lang)
    return exploration_brief(found, lang)
