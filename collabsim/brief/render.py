"""The brief as a page: the figure (matplotlib), the HTML (Jinja2) and the PDF (WeasyPrint).

The HTML is one self-contained file: the style sheet is inlined and the
figure is a ``data:`` URI, so it can be mailed or opened offline. WeasyPrint
is given a URL fetcher that fetches nothing but ``data:`` URIs, and the fonts
are the machine's (DejaVu Sans): nothing comes from the internet.
"""

from __future__ import annotations

import base64
import importlib
import re
import textwrap
from pathlib import Path
from typing import Any

from collabsim.brief.content import Brief
from collabsim.brief.folders import ComparisonFolder, ExplorationFolder
from collabsim.errors import InputError
from collabsim.i18n import _, translator

__all__ = ["PdfUnavailable", "data_uri", "draw_figure", "html", "layout"]

TEMPLATES = Path(__file__).parent / "templates"
"""The template and its style sheet."""

FIGURE_OUTPUTS = ("handling_days_median", "handling_days_p90", "first_service_days_median")
"""A comparison's figure: the handling times and the time to first service."""

_PACKAGES = {  # a library WeasyPrint loads -> the Debian package that holds it
    "pango": "libpango-1.0-0",
    "pangoft2": "libpangoft2-1.0-0",
    "gobject": "libglib2.0-0",
    "harfbuzz": "libharfbuzz0b",
    "fontconfig": "libfontconfig1",
}


class PdfUnavailable(InputError):
    """WeasyPrint cannot make the PDF here (a system library is missing); the HTML is written."""

    headline = "cannot write the PDF"


def draw_figure(found: ComparisonFolder | ExplorationFolder, title: str, path: Path) -> Path:
    """Draw the brief's figure into ``path`` (PNG).

    A comparison's is :func:`collabsim.plots.plot_differences` of the handling
    times and the time to first service. An exploration's shows, per
    intervention, its effect on the median handling time in the median future
    and its 10th to 90th percentile over the futures, and how often it is the
    best choice.

    Args:
        found: the comparison or the exploration.
        title: the figure's title ("" for none).
        path: the PNG to write.
    """
    from collabsim.plots import plot_differences

    if isinstance(found, ComparisonFolder):
        return plot_differences(found.table, list(FIGURE_OUTPUTS), title, path)
    return _plot_spread(found, title, path)


def _plot_spread(found: ExplorationFolder, title: str, path: Path) -> Path:
    """Each intervention's effect over the futures: a dot at the median, a line from p10 to p90."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from collabsim.brief.content import OUTPUT
    from collabsim.brief.exploration import spread

    t = translator()
    rows = spread(found, OUTPUT)[::-1]  # the first explored at the top
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.42 * max(2, len(rows))))
    y = list(range(len(rows)))
    for k, r in enumerate(rows):
        ax.plot([r["p10"], r["p90"]], [k, k], color="#4c72b0", linewidth=2.2, solid_capstyle="butt")
        ax.plot([r["p50"]], [k], "o", color="#12355b", markersize=6)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [textwrap.fill(r["name"], 30) for r in rows], fontsize=9)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    right = ax.secondary_yaxis("right")
    right.set_yticks(y, [_("best in {share}").format(share=t.percent(r["share"])) for r in rows],
                     fontsize=8.5)  # fmt: skip
    right.tick_params(length=0)
    right.spines["right"].set_visible(False)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: t.short(v)))
    ax.set_xlabel(_("effect on the median handling time (days)"), fontsize=9)
    ax.grid(axis="x", color="#e4e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=160)
    plt.close(fig)
    return path


def data_uri(png: Path) -> str:
    """A PNG as a ``data:`` URI, to embed in the HTML."""
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def html(brief: Brief, compact: bool = False) -> str:
    """The brief as one self-contained HTML page (Jinja2, autoescaped).

    Args:
        brief: the brief's words and numbers.
        compact: smaller type and figure, for a brief that would not fit two pages.
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    css = (TEMPLATES / "brief.css").read_text(encoding="utf-8")
    return env.get_template("brief.html.j2").render(brief=brief, css=css, compact=compact)


def _missing_package(exc: BaseException) -> str:
    """The Debian package of the library WeasyPrint could not load, from its message."""
    text = str(exc)
    found = re.search(r"lib(pangoft2|pango|gobject|harfbuzz|fontconfig)", text)
    return _PACKAGES[found.group(1)] if found else "libpango-1.0-0"


def _weasyprint() -> Any:
    """WeasyPrint, or a clear error naming the system package that is missing."""
    try:
        return importlib.import_module("weasyprint")
    except (OSError, ImportError) as exc:
        package = _missing_package(exc)
        problem = _(
            "WeasyPrint cannot load a system library ({reason}); the HTML brief is written. "
            "Install the system's Pango, e.g. apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
            "(missing here: {package}), then run the command again for the PDF."
        )
        raise PdfUnavailable("weasyprint", [problem.format(reason=exc, package=package)]) from None


def _fetcher(weasyprint: Any) -> Any:
    """A URL fetcher that fetches nothing but ``data:`` URIs (no network, no files)."""
    urls = importlib.import_module("weasyprint.urls")
    fetcher_class = getattr(urls, "URLFetcher", None)
    if fetcher_class is not None:  # WeasyPrint 67 and later
        return fetcher_class(allowed_protocols=("data",))
    default = urls.default_url_fetcher

    def only_data(url: str, *args: Any, **kwargs: Any) -> Any:
        if not url.startswith("data:"):
            raise ValueError(f"the brief fetches nothing from outside: {url}")
        return default(url, *args, **kwargs)

    return only_data


def layout(page: str) -> Any:
    """The HTML page laid out by WeasyPrint: its ``pages``, and ``write_pdf(path)``.

    Raises:
        PdfUnavailable: if WeasyPrint cannot load its system libraries.
    """
    weasyprint = _weasyprint()
    return weasyprint.HTML(string=page, url_fetcher=_fetcher(weasyprint)).render()
