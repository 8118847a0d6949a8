"""The browser app: watch a run, trace a case, compare scenarios, explore uncertainty.

Start it with ``collabsim ui [SCENARIO]``; it listens on 127.0.0.1 unless told
otherwise. Every browser session builds its own model (nothing is created at
module level), so two tabs never see each other's runs. The run controls and
the clock sit in the top bar, always in view; the settings in the sidebar; a
settings change in the middle of a run asks before it discards the run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import reacton.core
import solara
import solara.lab
from solara.components.file_drop import FileInfo

from collabsim.app.download import Download
from collabsim.app.experiments import ComparePage, ExplorePage
from collabsim.app.live import use_live
from collabsim.app.session import (
    CONTROLS,
    SHARED_CASE_SYSTEM,
    Settings,
    build,
    control_values,
    default_scenario,
    read_upload,
    release_memory_soon,
    saved_scenario,
    scenario_files,
)
from collabsim.app.tracer import TracePage
from collabsim.app.watch import WatchPage
from collabsim.i18n import LANGUAGES, Translator, default_language, translator
from collabsim.loading import ScenarioError

__all__ = ["SPEEDS", "Page", "RunControls", "Sidebar"]

SPEEDS = (1, 5, 20, 60)
"""The play speeds offered, in simulated days per second."""
FRAME = 0.5  # seconds between two frames while playing: the days of a frame are stepped at once


class _Run:
    """A session's run: its settings, its model and its baseline (the scenario as loaded).

    The baseline runs in step with the model when the settings change
    anything, so that every headline number can show the baseline's beside it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = build(settings)
        self.baseline = build(settings.as_loaded()) if settings.values else None

    def advance(self, days: int) -> int:
        """Step the model (and the baseline) up to ``days`` days; how many were stepped."""
        stepped = self.model.advance(days)
        if self.baseline is not None:
            self.baseline.advance(days)
        return stepped


@solara.component
def RunControls(
    run: _Run, t: Translator, tick: solara.Reactive[int], playing: solara.Reactive[bool],
    speed: solara.Reactive[int], on_reset: Any,
) -> None:  # fmt: skip
    """Step, play / pause, speed and restart, with the clock: day and date."""
    model = run.model

    # the views follow the tick by themselves; these controls redraw when the run ends
    _, set_ended = solara.use_state(model.finished)
    batch = reacton.core.get_render_context()  # one pass for every view that follows the tick

    def moved() -> None:
        with batch:
            tick.value += 1
            set_ended(model.finished)

    def step(days: int) -> None:
        run.advance(days)
        moved()

    def play(cancel: threading.Event) -> None:
        while playing.value and not cancel.is_set():
            began = time.monotonic()
            days = max(1, round(speed.value * FRAME))  # a frame's days, drawn at once
            if not run.advance(days):
                playing.set(False)
                break
            moved()
            # the next frame when these days are due at the chosen speed (later if drawing
            # took longer: the run then plays slower, never faster)
            cancel.wait(max(0.05, days / speed.value - (time.monotonic() - began)))

    solara.use_thread(play, dependencies=[playing.value, id(run)])
    end = model.params.run.days
    with solara.Row(gap="4px", style={"align-items": "center", "flex-wrap": "wrap"}):
        _clock_and_buttons(run, t, tick, playing, speed, on_reset, step, end)


def _clock_and_buttons(
    run: _Run, t: Translator, tick: solara.Reactive[int], playing: solara.Reactive[bool],
    speed: solara.Reactive[int],
    on_reset: Any, step: Any, end: int,
) -> None:  # fmt: skip
    """The bar's elements (a plain function: they go into the caller's row)."""
    model = run.model

    def clock() -> str:
        day = model.steps
        return t._("Day {day} of {days} · {date}").format(
            day=t.number(day), days=t.number(end), date=t.day(day)
        )

    use_live(
        tick, solara.v.Html(tag="span", class_="collabsim-clock"), lambda: {"children": [clock()]}
    )
    busy = playing.value or model.finished
    solara.Button(t._("Step 1 day"), on_click=lambda: step(1), disabled=busy, text=True)
    solara.Button(t._("Step 7 days"), on_click=lambda: step(7), disabled=busy, text=True)
    if playing.value:
        solara.Button(t._("Pause"), on_click=lambda: playing.set(False), icon_name="mdi-pause")
    else:
        solara.Button(
            t._("Play"), on_click=lambda: playing.set(True), icon_name="mdi-play",
            disabled=model.finished,
        )  # fmt: skip
    speeds = {t._("{n} days per second").format(n=n): n for n in SPEEDS}
    solara.Select(
        label=t._("speed"),
        values=list(speeds),
        value=next(k for k, v in speeds.items() if v == speed.value),
        on_value=lambda label: speed.set(speeds[label]),
        dense=True,
        style={"max-width": "190px"},
    )
    solara.Button(t._("Restart"), on_click=on_reset, icon_name="mdi-restart", text=True)


@solara.component
def Sidebar(settings: Settings, t: Translator, on_settings: Any, error: str, on_error: Any) -> None:
    """The scenario, the seed, each barrier's intensity and the levers, in the domain's words."""
    files = scenario_files()
    current, text = settings.path, settings.text
    base = solara.use_memo(
        lambda: control_values(Settings(current, text=text).scenario()), [current, text]
    )
    values = {**base, **settings.values}

    def upload(file: FileInfo) -> None:
        name = Path(file["name"]).name[:100] or "uploaded file"
        try:
            content = read_upload(name, file["size"], file["file_obj"])
        except ScenarioError as exc:
            on_error(str(exc))
            return
        on_settings(Settings(name, settings.seed, text=content))

    def set_value(key: str, value: Any) -> None:
        on_settings(replace(settings, values={**settings.values, key: value}))

    with solara.Card(t._("Scenario")):
        names = {Path(f).name: f for f in files}
        shown = settings.name if text is None else t._("{name} (uploaded)").format(name=current)
        solara.Select(
            label=t._("scenario file"),
            values=list(names) if shown in names else [shown, *names],
            value=shown,
            on_value=lambda name: (
                on_settings(Settings(names[name], settings.seed)) if name in names else None
            ),
        )
        solara.FileDrop(label=t._("or drop a scenario file (.toml) here"), on_file=upload)
        solara.InputInt(
            t._("seed (the same seed gives the same run)"),
            value=settings.seed,
            on_value=lambda s: on_settings(replace(settings, seed=int(s))),
        )
        if error:
            solara.Error(error)
        filename = f"{Path(settings.name).stem}-app.toml"
        Download(
            lambda: saved_scenario(settings, t, filename),
            filename=filename,
            label=t._("Save as a scenario file"),
            mime_type="application/toml",
        )
    barriers = [k for k in CONTROLS if k.startswith("barriers.")]
    levers = [k for k in CONTROLS if not k.startswith("barriers.") and k in values]
    for title, keys in ((t._("Barriers"), barriers), (t._("Levers"), levers)):
        with solara.Card(title):
            for key in keys:
                _Slider(key, values[key], t, set_value)
            if title == t._("Levers"):
                solara.Checkbox(
                    label=t._("shared case information system"),
                    value=bool(values[SHARED_CASE_SYSTEM]),
                    on_value=lambda v: set_value(SHARED_CASE_SYSTEM, bool(v)),
                )
                solara.Text(
                    t._(
                        "Referrals and reports go through one system that the agencies "
                        "using it share."
                    ),
                    classes=["collabsim-help"],
                )


@solara.component
def _Slider(key: str, value: Any, t: Translator, set_value: Any) -> None:
    c = CONTROLS[key]
    shown = t.number(value, 0) if c.integer else t.number(float(value), 2)
    label = f"{t.marked(c.label)}: {shown}"
    with solara.Tooltip(t.marked(c.help)), solara.Column(gap="0px", classes=["collabsim-control"]):
        solara.Text(label, classes=["collabsim-label"])
        if c.integer:
            solara.SliderInt(
                    "", value=int(value), min=int(c.low), max=int(c.high), step=int(c.step),
                    on_value=lambda v: set_value(key, v), thumb_label=False,
                )  # fmt: skip
        else:
            solara.SliderFloat(
                    "", value=float(value), min=c.low, max=c.high, step=c.step,
                    on_value=lambda v: set_value(key, v), thumb_label=False,
                )  # fmt: skip
        solara.Text(f"{t.marked(c.help)} ({t.marked(c.unit)})", classes=["collabsim-help"])


CSS = """
.collabsim-bar { position: sticky; top: 0; z-index: 10; background: white;
  border-bottom: 1px solid #ddd; padding: 4px 16px; align-items: center; flex-wrap: wrap;
  box-shadow: 0 1px 4px rgba(0, 0, 0, 0.08); }
.collabsim-bar .v-input { margin-top: 0; padding-top: 0; }
.collabsim-title { font-size: 1.3rem; font-weight: 600; margin-right: 16px; }
.collabsim-body { align-items: flex-start; flex-wrap: nowrap; padding: 12px; }
.collabsim-side { flex: 0 0 340px; max-width: 340px; }
.collabsim-main { flex: 1 1 auto; min-width: 0; }
.collabsim-help { font-size: 0.8rem; color: #555; line-height: 1.2; display: block;
  margin-bottom: 8px; }
.collabsim-label { font-size: 0.95rem; display: block; margin-top: 6px; }
.collabsim-control .v-input { margin-top: -4px; }
.collabsim-clock { font-weight: 600; margin-right: 12px; white-space: nowrap; }
.collabsim-downloads .v-btn { min-width: 0; }
.collabsim-main .v-card { overflow-x: auto; }
/* Solara's "server busy" bar slides by moving its edges, which lays out and repaints the
   page 60 times a second while a step is drawn (with 8 sessions on one machine, most of the
   browser's work): here it stands still, a full strip while the server works */
.v-application--wrap > .v-progress-linear .v-progress-linear__indeterminate .long {
  animation: none !important; left: 0 !important; right: 0 !important; }
.v-application--wrap > .v-progress-linear .v-progress-linear__indeterminate .short {
  display: none; }
.vega-embed { contain: content; }
.collabsim-table { border-collapse: collapse; margin: 8px 0; font-size: 0.9rem; }
.collabsim-table th, .collabsim-table td { padding: 4px 8px; border-bottom: 1px solid #eee;
  vertical-align: top; }
.collabsim-table td:nth-child(2), .collabsim-table th:nth-child(2) { text-align: right; }
.collabsim-table td:nth-child(1) { text-align: right; }
.collabsim-table tbody tr:nth-child(odd) { background: #f7f7f7; }
"""


@solara.component
def Page() -> None:
    """The app's page; everything here is per browser session."""
    lang, set_lang = solara.use_state(default_language())
    t = translator(lang)
    first = solara.use_memo(lambda: _Run(Settings(default_scenario())), [])
    run, set_run = solara.use_state(first)
    # plain reactive values (not use_reactive, whose change redraws this whole page): only
    # the views that read them redraw when the run moves
    tick = solara.use_memo(lambda: solara.reactive(0), [])
    playing = solara.use_memo(lambda: solara.reactive(False), [])
    speed = solara.use_memo(lambda: solara.reactive(SPEEDS[1]), [])
    pending, set_pending = solara.use_state(None)  # settings waiting for "discard the run?"
    error, set_error = solara.use_state("")
    tab, set_tab = solara.use_state(0)
    kept, set_kept = solara.use_state(0)  # times a settings change was declined
    solara.use_effect(lambda: release_memory_soon, [])  # runs when the session closes

    def restart(settings: Settings) -> None:
        try:
            new = _Run(settings)
        except ScenarioError as exc:
            set_error(str(exc))
            return
        playing.set(False)
        set_error("")
        set_pending(None)
        set_run(new)

    def keep() -> None:
        set_pending(None)
        set_kept(kept + 1)

    def ask(settings: Settings) -> None:
        try:  # a file that cannot be loaded says so at once, before anything is discarded
            settings.scenario()
        except ScenarioError as exc:
            set_error(str(exc))
            return
        set_error("")
        if run.model.steps == 0:
            restart(settings)
        else:
            playing.set(False)
            set_pending(settings)

    solara.Style(CSS)
    solara.Title("collabsim")
    with solara.Row(classes=["collabsim-bar"], gap="8px"):
        solara.Text("collabsim", classes=["collabsim-title"])
        RunControls(run, t, tick, playing, speed, lambda: restart(run.settings))
        solara.ToggleButtonsSingle(
            value=lang.upper(),
            values=[code.upper() for code in LANGUAGES],
            on_value=lambda code: set_lang(code.lower()),
            dense=True,
        )
    solara.lab.ConfirmationDialog(
        pending is not None,
        title=t._("Start a new run?"),
        content=t._(
            "The run is at day {day}. The new settings start a new run from day 0; the run so "
            "far is discarded."
        ).format(day=t.number(run.model.steps)),
        ok=t._("Start a new run"),
        cancel=t._("Keep this run"),
        on_ok=lambda: restart(pending) if pending is not None else None,
        on_cancel=keep,
    )
    pages = (
        t._("Watch a run"),
        t._("Trace a case"),
        t._("Compare scenarios"),
        t._("Explore uncertainty"),
    )
    with solara.Row(classes=["collabsim-body"], gap="16px"):
        # the sidebar is drawn anew after "keep this run", so that its controls show the run's
        # settings again (a new container type makes new widgets: reacton keeps them otherwise)
        with (
            solara.Column(classes=["collabsim-side"]),
            solara.Div() if kept % 2 else solara.Column(gap="0px"),
        ):
            Sidebar(run.settings, t, ask, error, set_error)
        with (
            solara.Column(classes=["collabsim-main"]),
            solara.lab.Tabs(value=tab, on_value=set_tab, lazy=True),
        ):
            with solara.lab.Tab(pages[0]):
                WatchPage(run.model, run.baseline, t, tick)
            with solara.lab.Tab(pages[1]):
                TracePage(run.model, t, tick)
            with solara.lab.Tab(pages[2]):
                ComparePage(run.settings, t)
            with solara.lab.Tab(pages[3]):
                ExplorePage(run.settings, t)
