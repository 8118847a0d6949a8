"""Watch a run: the referral network, live charts, and the headline numbers beside their norms.

The headline numbers are the measured cohort's, as the summary, the compare
page and the command line define them (:func:`collabsim.metrics.cohort`):
cases reported from the end of the warm-up to ``cohort_end``. Beside each is
its service norm where the standards set one, else the same number in the
baseline: the scenario as loaded, with the same seed, on the same day.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import solara

from collabsim.app import charts
from collabsim.app.session import AppModel
from collabsim.i18n import Translator
from collabsim.metrics import cohort
from collabsim.terms import term

__all__ = [
    "HeadlineNumbers",
    "LiveCharts",
    "NetworkView",
    "WatchPage",
    "headline_rows",
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


@solara.component
def HeadlineNumbers(model: AppModel, baseline: AppModel | None, t: Translator, tick: int) -> None:
    """The cohort's headline numbers so far, each beside its norm or the baseline's value."""
    rows = solara.use_memo(lambda: headline_rows(model, baseline, t), [id(model), tick, t.lang])
    title = (
        t._("Headline numbers of the warm-up so far (not the measured cohort)")
        if in_warmup(model)
        else t._("Headline numbers (measured cohort so far)")
    )
    with solara.Card(title):
        solara.Markdown(window_text(model, t))
        table = f"| | {t._('this run')} | {t._('norm or baseline')} |\n|---|---:|---|\n"
        table += "\n".join(f"| {label} | {value} | {beside} |" for label, value, beside in rows)
        solara.Markdown(table)
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
        download = pd.DataFrame(rows, columns=["output", "value", "norm_or_baseline"])
        solara.FileDownload(
            lambda: download.to_csv(index=False), filename="headline.csv", label=t._("CSV"),
            mime_type="text/csv",
        )  # fmt: skip


@solara.component
def NetworkView(model: AppModel, t: Translator, tick: int) -> None:
    """The referral network with a layout that stays still from step to step."""
    layout, set_layout = solara.use_state("city")
    colour, set_colour = solara.use_state("load")
    pos = solara.use_memo(lambda: charts.network_positions(model, layout), [id(model), layout])

    def draw() -> tuple[Any, pd.DataFrame]:
        with model.lock:
            return charts.network_chart(model, pos, colour, t)

    spec, data = solara.use_memo(draw, [id(model), tick, layout, colour, t.lang])
    layouts = {t._("by city"): "city", t._("by kind"): "kind", t._("spring"): "spring"}
    colours = {t._("load"): "load", t._("backlog"): "backlog"}
    with solara.Card(t._("Referral network")):
        with solara.Row():
            _Toggle(layouts, layout, set_layout)
            _Toggle(colours, colour, set_colour)
        charts.Chart(spec, data, "network", t)


@solara.component
def _Toggle(options: dict[str, str], value: str, on_value: Callable[[str], None]) -> None:
    labels = {v: k for k, v in options.items()}
    solara.ToggleButtonsSingle(
        value=labels[value], values=list(options), on_value=lambda label: on_value(options[label])
    )


@solara.component
def LiveCharts(model: AppModel, t: Translator, tick: int) -> None:
    """Backlog, recent handling time, barrier events and the three indices, day by day."""

    def build() -> list[tuple[str, Any, Any]]:
        with model.lock:
            return _live(model, t)

    built = solara.use_memo(build, [id(model), tick, t.lang])
    with solara.ColumnsResponsive(12, large=6):
        for name, spec, data in built:
            with solara.Card():
                charts.Chart(spec, data, name, t)


def _live(model: AppModel, t: Translator) -> list[tuple[str, Any, Any]]:
    """The four live charts' (name, specification, table)."""
    ts = model.timeseries()
    warm = model.warmup
    return [
        ("backlog", *charts.backlog_chart(ts, warm, t)),
        ("handling-time", *charts.handling_chart(model, t)),
        ("barrier-events", *charts.barrier_chart(ts, warm, t)),
        ("collaboration-indices", *charts.indices_chart(ts, warm, t)),
    ]


@solara.component
def WatchPage(
    model: AppModel, baseline: AppModel | None, t: Translator, tick: solara.Reactive[int]
) -> None:
    """The page: network and headline numbers side by side, the live charts below.

    ``tick`` counts the model's steps: the views that read it redraw when it moves.
    """
    day = tick.value  # the one subscriber: the views below redraw with it
    with solara.ColumnsResponsive(12, large=[7, 5]):
        NetworkView(model, t, day)
        HeadlineNumbers(model, baseline, t, day)
    LiveCharts(model, t, day)
