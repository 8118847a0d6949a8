"""The app's charts: Vega-Lite specifications built from small tables, drawn in the browser.

The server only simulates and sends a few hundred numbers per chart; the
browser draws them (Vega-Lite, served from Solara's local cache, so nothing
is fetched from the internet) with values on hover. Every chart comes with
its table as CSV and the same chart as PNG (rendered on the server by
vl-convert only when asked for).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import altair as alt
import networkx as nx
import numpy as np
import pandas as pd
import solara
import traitlets
from ipyvuetify.VuetifyTemplate import VuetifyTemplate

from collabsim.app.download import Download
from collabsim.app.live import use_live
from collabsim.i18n import Translator, translator
from collabsim.model import CollaborationModel
from collabsim.scenario import BARRIER_NAMES
from collabsim.terms import term

__all__ = [
    "Chart",
    "ChartFiles",
    "Frame",
    "Layout",
    "LiveChart",
    "VegaChart",
    "backlog_chart",
    "barrier_chart",
    "differences_chart",
    "effects_chart",
    "handling_chart",
    "indices_chart",
    "network_chart",
    "network_positions",
    "network_title",
    "png",
    "thin",
    "trace_chart",
]

Layout = Literal["city", "kind", "spring"]
Positions = dict[int, tuple[float, float]]
Spec = dict[str, Any]
MAX_POINTS = 150
"""The most points a chart of days sends to the browser (a long run is thinned evenly)."""
WIDTH = 400  # pixels: two charts (and their axes) side by side on a 1366x768 laptop
HEIGHT = 230


def _locale(t: Translator) -> dict[str, Any]:
    """Vega's number and date formats for the language (Indonesian: 1.148,5)."""
    if t.lang == "id":
        number = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["Rp", ""]}
    else:
        number = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["Rp", ""]}
    return {"number": number}


def _spec(chart: alt.TopLevelMixin, t: Translator) -> Spec:
    """The chart's Vega-Lite specification, in the language's number format."""
    spec: Spec = chart.to_dict(validate=False)
    spec.setdefault("config", {})["locale"] = _locale(t)
    return spec


TABLE = alt.Data(name="table")  # type: ignore[no-untyped-call]
"""The data a chart template draws: filled in by :func:`_filled` on every frame."""


def _filled(template: Spec, data: pd.DataFrame) -> Spec:
    """A template with this frame's table (NaN as null: JSON has no NaN)."""
    return {**template, "datasets": {"table": records(data)}}


def records(data: pd.DataFrame) -> list[dict[str, Any]]:
    """The table's rows as JSON objects for the browser.

    NaN becomes null (JSON has no NaN) and a number keeps four decimals, more
    than any chart or tooltip shows (the CSV download keeps every digit).
    """
    names = list(data.columns)
    columns = [data[c].tolist() for c in names]
    return [
        {k: _json_value(v) for k, v in zip(names, row, strict=True)}
        for row in zip(*columns, strict=True)
    ]


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        return None if value != value else round(value, 4)
    return value


def thin(frame: pd.DataFrame, most: int = MAX_POINTS) -> pd.DataFrame:
    """Every k-th row (and the last), so that at most about ``most`` rows are sent."""
    if len(frame) <= most:
        return frame
    step = int(np.ceil(len(frame) / most))
    keep = list(range(0, len(frame), step))
    if keep[-1] != len(frame) - 1:
        keep.append(len(frame) - 1)
    return frame.iloc[keep]


def _wide(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The day and these columns of a daily table, thinned, under their labels.

    The browser folds them into one line per column (a Vega-Lite ``fold``), so
    a frame sends one row per day, not one per day and line.
    """
    return thin(frame[["day", *columns]]).rename(columns={k: _field(v) for k, v in columns.items()})


def _field(label: str) -> str:
    """A label usable as a Vega-Lite field name.

    A dot or a bracket would make it a nested field, and a quote would end
    Vega's access path: a typographic apostrophe reads the same.
    """
    for plain, safe in ((".", ""), ("[", "("), ("]", ")"), ("'", "\u2019"), ('"', "\u201d")):
        label = label.replace(plain, safe)
    return label


def _lines(
    data: pd.DataFrame,
    t: Translator,
    title: str,
    y_title: str,
    series: str,
    warmup: float | None = None,
    y_domain: tuple[float, float] | None = None,
) -> Spec:
    lines = tuple(c for c in data.columns if c != "day")
    template = _lines_template(t.lang, title, y_title, series, lines, warmup, y_domain)
    return _filled(template, data)


@functools.lru_cache(maxsize=64)
def _lines_template(
    lang: str,
    title: str,
    y_title: str,
    series: str,
    lines: tuple[str, ...],
    warmup: float | None,
    y_domain: tuple[float, float] | None,
) -> Spec:
    """A line chart's specification without its data (built once: Altair is slow per frame)."""
    t = translator(lang)
    day = t._("day")
    x = alt.X("day:Q", title=day)
    scale = alt.Scale(domain=list(y_domain)) if y_domain else alt.Undefined
    y = alt.Y("value:Q", title=y_title, scale=scale)
    tip = [
        alt.Tooltip("day:Q", title=day),
        alt.Tooltip("series:N", title=series),
        alt.Tooltip("value:Q", title=y_title, format=",.2~f"),
    ]
    layer: Any = (
        alt.Chart(TABLE)
        .transform_fold(list(lines), as_=["series", "value"])
        .mark_line()
        .encode(x=x, y=y, color=alt.Color("series:N", title=None, sort=list(lines)), tooltip=tip)
    )
    if warmup:
        rule = pd.DataFrame({"day": [warmup], "label": [t._("end of warm-up")]})
        layer = layer + alt.Chart(rule).mark_rule(strokeDash=[4, 4], color="grey").encode(
            x="day:Q", tooltip=alt.Tooltip("label:N", title="")
        )
    chart = layer.properties(title=title, width=WIDTH, height=HEIGHT)
    return _spec(chart.configure_legend(orient="bottom", columns=2), t)


def backlog_chart(ts: pd.DataFrame, warmup: float, t: Translator) -> tuple[Spec, pd.DataFrame]:
    """Open cases and jobs waiting for staff, per day."""
    columns = {"backlog": t._("open cases (backlog)"), "waiting": t._("jobs waiting for staff")}
    data = _wide(ts, columns)
    return _lines(data, t, t._("Backlog"), t._("cases"), t._("series"), warmup), data


def rolling_handling(model: CollaborationModel, window: int = 30) -> pd.DataFrame:
    """The median handling time of the cases closed in the last ``window`` days, per day."""
    closed = np.array([(c.closed_at, c.closed_at - c.reported_at) for c in model.cases
                       if c.closed_at is not None]).reshape(-1, 2)  # fmt: skip
    days = np.arange(1, model.steps + 1)
    order = np.argsort(closed[:, 0]) if len(closed) else np.array([], dtype=int)
    when, length = closed[order, 0], closed[order, 1]
    lo = np.searchsorted(when, days - window, side="right")
    hi = np.searchsorted(when, days, side="right")
    medians = [
        float(np.median(length[a:b])) if b > a else np.nan for a, b in zip(lo, hi, strict=True)
    ]
    return pd.DataFrame({"day": days, "median": medians})


def handling_chart(model: CollaborationModel, t: Translator) -> tuple[Spec, pd.DataFrame]:
    """The median handling time of cases closed in the last 30 days."""
    frame = rolling_handling(model)
    data = _wide(frame, {"median": t._("median, last 30 days")})
    title = t._("Handling time of the cases closed lately")
    return _lines(data, t, title, t._("days"), t._("series"), model.warmup), data


def barrier_chart(ts: pd.DataFrame, warmup: float, t: Translator) -> tuple[Spec, pd.DataFrame]:
    """Each barrier's events so far (every case, warm-up included)."""
    columns = {f"events_{b}": term(b, t) for b in BARRIER_NAMES}
    data = _wide(ts, columns)
    title = t._("Barrier events so far")
    return _lines(data, t, title, t._("events"), t._("barrier"), warmup), data


def indices_chart(ts: pd.DataFrame, warmup: float, t: Translator) -> tuple[Spec, pd.DataFrame]:
    """The three collaboration-dynamics indices."""
    columns = {
        "engagement": t._("principled engagement"),
        "motivation": t._("shared motivation"),
        "capacity": t._("capacity for joint action"),
    }
    data = _wide(ts, columns)
    title = t._("Collaboration dynamics")
    return _lines(data, t, title, t._("index (0 to 1)"), t._("index"), warmup, (0.0, 1.0)), data


# ------------------------------------------------------------------ network
def network_positions(model: CollaborationModel, layout: Layout) -> Positions:
    """Fixed node positions: by city (columns) and kind (rows), by kind, or a seeded spring."""
    agencies = model.agencies
    kinds = list(dict.fromkeys(a.kind for a in agencies))
    cities = list(dict.fromkeys(a.city for a in agencies))
    pos: Positions = {}
    if layout == "spring":
        raw = nx.spring_layout(model.network.to_undirected(), seed=0)
        return {int(k): (float(v[0]), float(v[1])) for k, v in raw.items()}
    slots: dict[tuple[str, str], list[int]] = {}
    for a in agencies:
        key = (a.kind, a.city) if layout == "city" else (a.kind, "")
        slots.setdefault(key, []).append(a.index)
    for (kind, city), members in slots.items():
        row = kinds.index(kind)
        if layout == "city":
            x0 = cities.index(city)
            for n, i in enumerate(members):
                pos[i] = (x0 + 0.8 * (n + 0.5) / len(members) - 0.4, -row)
        else:
            angle = 2 * np.pi * row / len(kinds)
            cx, cy = 3 * np.cos(angle), 3 * np.sin(angle)
            for n, i in enumerate(members):
                r, turn = 0.15 * np.sqrt(n), n * 2.4
                pos[i] = (float(cx + r * np.cos(turn)), float(cy + r * np.sin(turn)))
    return pos


def open_cases_by_agency(model: CollaborationModel) -> np.ndarray:
    """Open cases whose last service was at each agency (its backlog)."""
    counts = np.zeros(len(model.agencies))
    for case in model.cases:
        if not case.ended and case.holder is not None:
            counts[case.holder] += 1
    return counts


def network_chart(
    model: CollaborationModel,
    pos: Positions,
    colour_by: Literal["load", "backlog"],
    t: Translator,
) -> tuple[Spec, pd.DataFrame]:
    """The referral network: agencies coloured by load or backlog, links by the referrer's trust."""
    backlog = open_cases_by_agency(model)
    nodes = pd.DataFrame(
        {
            "x": [pos[a.index][0] for a in model.agencies],
            "y": [pos[a.index][1] for a in model.agencies],
            "agency": [a.name for a in model.agencies],
            "kind": [term(a.kind, t) for a in model.agencies],
            "staff": [a.staff.servers for a in model.agencies],
            "load": [round(a.load, 3) for a in model.agencies],
            "backlog": backlog,
        }
    )
    edges = list(model.network.edges)
    trust = model.state.trust_seen(edges)
    links = pd.DataFrame(
        {
            "x": [pos[i][0] for i, _j in edges],
            "y": [pos[i][1] for i, _j in edges],
            "x2": [pos[j][0] for _i, j in edges],
            "y2": [pos[j][1] for _i, j in edges],
            "trust": [round(v, 3) for v in trust],
        }
    )
    spec = {**_network_template(t.lang, colour_by)}
    spec["datasets"] = {"nodes": records(nodes), "links": records(links)}
    return spec, nodes


def network_title(model: CollaborationModel, t: Translator) -> str:
    """The network picture's title, with its day (the page's chart keeps one title)."""
    return t._("Referral network on day {day} (links: darker and wider with more trust)").format(
        day=t.number(model.steps)
    )


@functools.lru_cache(maxsize=8)
def _network_template(lang: str, colour_by: str) -> Spec:
    t = translator(lang)
    colour = "load" if colour_by == "load" else "backlog"
    colour_title = t._("jobs per staff member") if colour_by == "load" else t._("open cases")
    axis = alt.Axis(labels=False, ticks=False, grid=False, title=None, domain=False)
    link_layer = (
        alt.Chart(alt.Data(name="links"))  # type: ignore[no-untyped-call]
        .mark_rule()
        .encode(
            x=alt.X("x:Q", axis=axis),
            y=alt.Y("y:Q", axis=axis),
            x2="x2:Q",
            y2="y2:Q",
            opacity=alt.Opacity(
                "trust:Q", scale=alt.Scale(domain=[0, 1], range=[0.05, 0.7]), legend=None
            ),
            strokeWidth=alt.StrokeWidth(
                "trust:Q", scale=alt.Scale(domain=[0, 1], range=[0.3, 3]), legend=None
            ),
            color=alt.value("#555555"),
        )
    )
    node_layer = (
        alt.Chart(alt.Data(name="nodes"))  # type: ignore[no-untyped-call]
        .mark_circle(stroke="black", strokeWidth=0.5, opacity=1)
        .encode(
            x="x:Q",
            y="y:Q",
            size=alt.Size("staff:Q", title=t._("staff on duty"), legend=None),
            color=alt.Color(
                f"{colour}:Q", title=colour_title, scale=alt.Scale(scheme="yelloworangered")
            ),
            tooltip=[
                alt.Tooltip("agency:N", title=t._("agency")),
                alt.Tooltip("kind:N", title=t._("agency kind")),
                alt.Tooltip("staff:Q", title=t._("staff on duty")),
                alt.Tooltip("load:Q", title=t._("jobs per staff member"), format=",.2f"),
                alt.Tooltip("backlog:Q", title=t._("open cases"), format=",.0f"),
            ],
        )
    )
    chart = (link_layer + node_layer).properties(
        title=t._("Links: darker and wider with more trust"), width=470, height=360
    )
    return _spec(chart, t)


# ------------------------------------------------------------------ tracer
PHASE_COLOURS = {
    "in service": "#4c72b0",
    "between services": "#c7d4e8",
    "referral in transit": "#8da0cb",
    "waiting for staff": "#dd8452",
    "miscommunication": "#c44e52",
    "sectoral ego": "#8172b3",
    "duplicated assessment": "#937860",
    "fresh intake (SOP)": "#da8bc3",
    "rework": "#8c8c8c",
    "unreported completion": "#ccb974",
    "entry": "#64b5cd",
    "out of hours": "#e5e5e5",
}


def trace_chart(
    table: pd.DataFrame, title: str, label: Callable[[str], str], t: Translator
) -> tuple[Spec, pd.DataFrame]:
    """A case's timeline: a bar per phase and agency; the critical path bold, side tracks pale.

    Args:
        table: :func:`collabsim.trace.timeline`'s table.
        title: the chart's title.
        label: a phase's name for people.
        t: the language.
    """
    data = table.assign(
        phase_label=[label(p) for p in table["phase"]],
        on_path=[bool(c) for c in table.get("critical", pd.Series(True, index=table.index))],
    )[["start", "end", "days", "agency", "phase", "phase_label", "on_path", "event"]]
    phases = list(dict.fromkeys(data["phase"]))
    colours = alt.Scale(
        domain=[label(p) for p in phases], range=[PHASE_COLOURS.get(p, "#999999") for p in phases]
    )
    chart = (
        alt.Chart(data)
        .mark_bar(stroke="black", strokeWidth=0.3)
        .encode(
            x=alt.X("start:Q", title=t._("day")),
            x2="end:Q",
            y=alt.Y("agency:N", title=None, sort=list(dict.fromkeys(data["agency"]))),
            color=alt.Color("phase_label:N", title=t._("phase"), scale=colours),
            opacity=alt.condition("datum.on_path", alt.value(1.0), alt.value(0.35)),
            tooltip=[
                alt.Tooltip("phase_label:N", title=t._("phase")),
                alt.Tooltip("agency:N", title=t._("agency")),
                alt.Tooltip("start:Q", title=t._("from day"), format=",.1f"),
                alt.Tooltip("end:Q", title=t._("to day"), format=",.1f"),
                alt.Tooltip("days:Q", title=t._("days"), format=",.2f"),
                alt.Tooltip("event:N", title=t._("event")),
            ],
        )
        .properties(title=title, width=860, height=max(160, 26 * data["agency"].nunique()))
    )
    return _spec(chart.configure_legend(orient="bottom", columns=3), t), data


# ------------------------------------------------------------------ experiments
def differences_chart(rows: pd.DataFrame, t: Translator) -> Spec:
    """Differences B - A with their 95% intervals, a row per output (label, diff, ci_*)."""
    base = alt.Chart(rows).encode(y=alt.Y("label:N", title=None, sort=None))
    tip = [
        alt.Tooltip("label:N", title=t._("output")),
        alt.Tooltip("diff:Q", title=t._("difference B - A"), format=",.2f"),
        alt.Tooltip("ci_low:Q", title=t._("95% CI, low"), format=",.2f"),
        alt.Tooltip("ci_high:Q", title=t._("95% CI, high"), format=",.2f"),
    ]
    bars = base.mark_errorbar(ticks=True).encode(
        x=alt.X("ci_low:Q", title=t._("difference B - A (95% CI)")), x2="ci_high:Q", tooltip=tip
    )
    points = base.mark_point(filled=True, size=80).encode(x="diff:Q", tooltip=tip)
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="black").encode(x="zero:Q")
    chart = (bars + points + zero).properties(width=600, height=40 * max(2, len(rows)))
    return _spec(chart, t)


def effects_chart(effects: pd.DataFrame, output: str, t: Translator) -> Spec:
    """Each policy's effect over the futures on ``output``: a box per policy."""
    data = effects[["policy", output]].dropna().rename(columns={output: "effect"})
    chart = (
        alt.Chart(data)
        .mark_boxplot(extent="min-max")
        .encode(
            x=alt.X("effect:Q", title=t._("effect over the futures, days")),
            y=alt.Y("policy:N", title=None),
        )
    )
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="black").encode(x="zero:Q")
    return _spec((chart + zero).properties(width=600, height=60 * data["policy"].nunique()), t)


# ------------------------------------------------------------------ component
class VegaChart(VuetifyTemplate):
    """A Vega-Lite chart in the browser whose tables change without drawing it anew.

    A frame that only brings new tables (``datasets``) for the same ``spec``
    replaces the view's data in place; a new ``spec`` embeds the chart again.
    """

    template_file = str(Path(__file__).with_name("vega.vue"))
    spec = traitlets.Unicode("{}").tag(sync=True)
    """The chart without its tables, as JSON."""
    datasets = traitlets.Unicode("{}").tag(sync=True)
    """The chart's tables by name, as JSON."""


def png(spec: Spec) -> bytes:
    """The chart as a PNG image (drawn on the server, offline, by vl-convert)."""
    import vl_convert

    return bytes(vl_convert.vegalite_to_png(spec, scale=2))


def Chart(
    spec: Spec, data: pd.DataFrame | None, name: str, t: Translator, title: str | None = None
) -> None:
    """A chart drawn in the browser, with its data (CSV) and its picture (PNG) to download.

    This is a function that adds the chart to the component calling it, not a
    component: Solara would otherwise walk every row of the chart's tables, as
    a component's arguments, whenever it draws.

    Args:
        spec: the Vega-Lite specification, with its tables under ``datasets``.
        data: the chart's table (``None``: no CSV).
        name: the files' name, without extension.
        t: the language.
        title: the picture's title, if it says more than the chart in the page
            (which keeps one title from frame to frame).
    """
    _draw(spec)
    picture = _picture(spec, title)
    csv = None if data is None else (lambda: data.to_csv(index=False))
    ChartFiles(name, t, csv, lambda: png(picture))


Frame = tuple[Spec, pd.DataFrame | None, str | None]
"""A chart's specification, table (or ``None``) and picture title (or ``None``)."""


@solara.component
def LiveChart(
    draw: Callable[[], Frame], name: str, t: Translator, tick: solara.Reactive[int]
) -> None:
    """A chart that follows the run: after every step (when ``tick`` moves) it sets its tables.

    Nothing else is drawn again (:func:`~collabsim.app.live.use_live`): each
    step sends only the chart's tables to the browser, and the download
    buttons make the newest files when clicked.

    Args:
        draw: the chart of the run as it is now.
        name: the files' name, without extension.
        t: the language.
        tick: counts the run's steps.
    """
    # drawn here once; after that by ``moved``, after each step and each render
    newest = solara.use_ref(solara.use_memo(draw, []))

    def files() -> tuple[Callable[[], str], Callable[[], bytes]]:
        def csv() -> str:
            data = newest.current[1]
            return "" if data is None else data.to_csv(index=False)

        def picture() -> bytes:
            spec, _, title = newest.current
            return png(_picture(spec, title))

        return csv, picture

    def moved() -> dict[str, str]:
        newest.current = draw()
        return _traits(newest.current[0])

    csv, picture = solara.use_memo(files, [])
    use_live(tick, VegaChart.element(), moved)
    ChartFiles(name, t, None if newest.current[1] is None else csv, picture)


@solara.component
def ChartFiles(
    name: str, t: Translator, csv: Callable[[], str] | None, picture: Callable[[], bytes]
) -> None:
    """A chart's download buttons: its table as CSV (unless ``csv`` is None) and PNG."""
    with solara.Row(justify="end", classes=["collabsim-downloads"]):
        if csv is not None:
            Download(csv, f"{name}.csv", t._("CSV"), "text/csv")
        Download(picture, f"{name}.png", t._("PNG"), "image/png")


def _draw(spec: Spec) -> solara.Element:
    """The chart in the page."""
    return VegaChart.element(**_traits(spec))


def _traits(spec: Spec) -> dict[str, str]:
    """The chart widget's values: the spec without its tables, and the tables, as JSON.

    The browser draws a new spec; it puts new tables into the chart it has drawn.
    """
    template = {k: value for k, value in spec.items() if k != "datasets"}
    return {"spec": json.dumps(template), "datasets": json.dumps(spec.get("datasets", {}))}


def _picture(spec: Spec, title: str | None) -> Spec:
    return spec if title is None else {**spec, "title": title}


def frame_rows(rows: Sequence[tuple[str, Any]]) -> pd.DataFrame:
    """A two-column table (what, value) for download."""
    return pd.DataFrame(rows, columns=["what", "value"])
