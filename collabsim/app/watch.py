"""Watch a run: the referral network, live charts, and the headline numbers beside their norms.

The headline numbers are the measured cohort's, as the summary, the compare
page and the command line define them (:func:`collabsim.metrics.cohort`):
cases reported from the end of the warm-up to ``cohort_end``. Beside each is
its service norm where the standards set one, else the same number in the
baseline: the scenario as loaded, with the same seed, on the same day.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import pandas as pd
import solara
import solara.widgets

from collabsim.app import charts
from collabsim.app.download import Download
from collabsim.app.live import use_live
from collabsim.app.session import AppModel
from collabsim.i18n import Translator
from collabsim.metrics import cohort
from collabsim.terms import term

__all__ = [
    "LIVE",
    "HeadlineNumbers",
    "LiveCharts",
    "NetworkView",
    "WatchPage",
    "headline_csv",
    "headline_rows",
    "headline_table",
    "window_text",
]

HEADLINE = (
    "cases_arrived",
    "cases_closed",
    "open_share",
    "handling_days_median",
    "handling_days_p90",
    "first_service_days_median",
    "response_within_norm_share",
    "follow_up_within_norm_share",
    "days_to_stay_median",
    "stay_within_norm_share",
    "days_to_exam_median",
    "interviews_per_child",
    "staff_hours_per_case",
)
"""The numbers the page shows, by their summary names."""


def window_text(model: AppModel, t: Translator) -> str:
    """The measured window in words, with dates: the same on every page."""
    run = model.params.run
    start, end = run.warmup_days, run.cohort_end
    text = t._(
        "Measured: the cohort of cases reported from day {start} ({start_date}) to day {end} "
        "({end_date}), followed to the end of the run on day {days}; the warm-up before it is "
        "not counted."
    ).format(
        start=t.number(start), start_date=t.day(start), end=t.number(end), end_date=t.day(end),
        days=t.number(run.days),
    )  # fmt: skip
    if model.steps < start:
        text += " " + t._(
            "The run is still in its warm-up: until day {start} the numbers below are those of "
            "every case reported so far, and not part of the results."
        ).format(start=t.number(start))
    return text


def in_warmup(model: AppModel) -> bool:
    """Whether the run is still before its measured cohort (the headline shows the warm-up)."""
    return bool(model.steps < model.params.run.warmup_days)


def _stats(model: AppModel, measured: bool) -> dict[str, Any]:
    g = dict(cohort(model, measured))
    g["cases_arrived"], g["cases_closed"] = g.pop("n"), g.pop("closed")
    return g


def _norms(model: AppModel, t: Translator) -> dict[str, str]:
    """Each output's service norm in words, where the scenario sets one."""
    n, run = model.params.norms, model.params.run
    hours = ", ".join(
        t._("{risk} within {hours} hours").format(risk=term(r, t), hours=t.short(h))
        for r, h in n.first_response_hours.items()
    )
    return {
        "response_within_norm_share": t._("norm: {hours}").format(hours=hours) if hours else "",
        "follow_up_within_norm_share": t._("norm: within {days} working days").format(
            days=t.number(run.follow_up_norm_working_days)
        ),
        "stay_within_norm_share": t._("norm: at most {days} days").format(
            days=t.short(n.stay_days)
        ),
    }


def headline_rows(
    model: AppModel, baseline: AppModel | None, t: Translator
) -> list[tuple[str, str, str]]:
    """(label, this run, the norm or the baseline) for each headline number."""
    measured = not in_warmup(model)
    with model.lock:
        mine = _stats(model, measured)
    theirs = mine
    if baseline is not None:
        with baseline.lock:
            theirs = _stats(baseline, measured)
    norms = _norms(model, t)
    rows = []
    for key in HEADLINE:
        value = mine[key]
        if norms.get(key):
            beside = norms[key]
        else:
            beside = t._("baseline: {value}").format(value=t.value(theirs[key]))
        rows.append((term(key, t), t.value(value), beside))
    return rows


def headline_table(rows: list[tuple[str, str, str]], t: Translator) -> str:
    """The headline rows as the inside of an HTML table (every text escaped)."""
    head = f"<thead><tr><th></th><th>{escape(t._('this run'))}</th>"
    head += f"<th>{escape(t._('norm or baseline'))}</th></tr></thead>"
    body = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(value)}</td><td>{escape(beside)}</td></tr>"
        for label, value, beside in rows
    )
    return f"{head}<tbody>{body}</tbody>"


@solara.component
def HeadlineNumbers(
    model: AppModel, baseline: AppModel | None, t: Translator, tick: solara.Reactive[int]
) -> None:
    """The cohort's headline numbers so far, each beside its norm or the baseline's value.

    The table follows the run by itself (:func:`use_live`); the card redraws
    when the warm-up ends, as its title and text then change.
    """
    warm = in_warmup(model)
    _, redraw = solara.use_state(object())

    def frame() -> dict[str, Any]:
        if in_warmup(model) != warm:
            redraw(object())  # a new value: the card redraws
        return {"unsafe_innerHTML": headline_table(headline_rows(model, baseline, t), t)}

    title = (
        t._("Headline numbers of the warm-up so far (not the measured cohort)")
        if warm
        else t._("Headline numbers (measured cohort so far)")
    )
    with solara.Card(title):
        solara.Markdown(window_text(model, t))
        table_element = solara.widgets.HTML.element(
            tag="table", attributes={"class": "collabsim-table"}
        )
        use_live(tick, table_element, frame)
        if baseline is None:
            solara.Text(
                t._(
                    "No setting is changed, so this run is the baseline (the scenario as loaded); "
                    "change a setting to run the baseline beside it, with the same seed."
                )
            )
        else:
            solara.Text(
                t._("Baseline: the scenario as loaded, with the same seed, on the same day.")
            )
        Download(
            lambda: headline_csv(model, baseline, t), filename="headline.csv", label=t._("CSV"),
            mime_type="text/csv",
        )  # fmt: skip


def headline_csv(model: AppModel, baseline: AppModel | None, t: Translator) -> str:
    """The headline numbers as they are now, as CSV."""
    rows = headline_rows(model, baseline, t)
    return pd.DataFrame(rows, columns=["output", "value", "norm_or_baseline"]).to_csv(index=False)


@solara.component
def NetworkView(model: AppModel, t: Translator, tick: solara.Reactive[int]) -> None:
    """The referral network with a layout that stays still from step to step."""
    layout, set_layout = solara.use_state("city")
    colour, set_colour = solara.use_state("load")
    pos = solara.use_memo(lambda: charts.network_positions(model, layout), [id(model), layout])

    def draw() -> charts.Frame:
        with model.lock:
            return (*charts.network_chart(model, pos, colour, t), charts.network_title(model, t))

    layouts = {t._("by city"): "city", t._("by kind"): "kind", t._("spring"): "spring"}
    colours = {t._("load"): "load", t._("backlog"): "backlog"}
    with solara.Card(t._("Referral network")):
        with solara.Row():
            _Toggle(layouts, layout, set_layout)
            _Toggle(colours, colour, set_colour)
        charts.LiveChart(draw, "network", t, tick)


@solara.component
def _Toggle(options: dict[str, str], value: str, on_value: Callable[[str], None]) -> None:
    labels = {v: k for k, v in options.items()}
    solara.ToggleButtonsSingle(
        value=labels[value], values=list(options), on_value=lambda label: on_value(options[label])
    )


@solara.component
def LiveCharts(model: AppModel, t: Translator, tick: solara.Reactive[int]) -> None:
    """Backlog, recent handling time, barrier events and the three indices, day by day."""
    with solara.ColumnsResponsive(12, large=6):
        for name, chart in LIVE.items():
            with solara.Card():
                charts.LiveChart(_drawing(model, chart, t), name, t, tick)


LIVE: dict[str, Callable[[AppModel, Translator], tuple[charts.Spec, pd.DataFrame]]] = {
    "backlog": lambda m, t: charts.backlog_chart(m.timeseries(), m.warmup, t),
    "handling-time": charts.handling_chart,
    "barrier-events": lambda m, t: charts.barrier_chart(m.timeseries(), m.warmup, t),
    "collaboration-indices": lambda m, t: charts.indices_chart(m.timeseries(), m.warmup, t),
}
"""The live charts below the network, by their files' names."""


def _drawing(
    model: AppModel, chart: Callable[[AppModel, Translator], tuple[charts.Spec, pd.DataFrame]],
    t: Translator,
) -> Callable[[], charts.Frame]:  # fmt: skip
    def draw() -> charts.Frame:
        with model.lock:
            return (*chart(model, t), None)

    return draw


@solara.component
def WatchPage(
    model: AppModel, baseline: AppModel | None, t: Translator, tick: solara.Reactive[int]
) -> None:
    """The page: network and headline numbers side by side, the live charts below.

    ``tick`` counts the model's steps: the charts and the headline numbers follow
    it by themselves (:func:`use_live`), so a step redraws nothing around them.
    """
    with solara.ColumnsResponsive(12, large=[7, 5]):
        NetworkView(model, t, tick)
        HeadlineNumbers(model, baseline, t, tick)
    LiveCharts(model, t, tick)
