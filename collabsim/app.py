"""The browser app: watch a run, move the levers, trace a case, compare two scenarios.

Built on Mesa's SolaraViz. Start it with ``collabsim ui [SCENARIO]``; it listens
on 127.0.0.1 unless told otherwise. Every browser session builds its own model
(nothing is created at module level), so two tabs never see each other's runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

# solara treats a module-level name "Layout" as the app's layout: import views' module
from collabsim import views
from collabsim.api import run as run_scenario
from collabsim.loading import ScenarioError, load_scenario
from collabsim.model import CollaborationModel
from collabsim.outputs import HEADLINE, fmt
from collabsim.scenario import BARRIER_NAMES, Scenario
from collabsim.trace import LOSSES, days_lost, timeline

__all__ = ["AppModel", "Page", "Settings", "model_class"]


def scenario_dir() -> Path:
    """Where the scenario picker looks (``COLLABSIM_SCENARIOS``, else ./scenarios)."""
    return Path(os.environ.get("COLLABSIM_SCENARIOS", Path.cwd() / "scenarios"))


def scenario_files() -> list[str]:
    """The scenario files offered by the picker."""
    found = sorted(str(p) for p in scenario_dir().glob("*.toml"))
    start = os.environ.get("COLLABSIM_SCENARIO")
    if start and start not in found:
        found.insert(0, start)
    return found


def default_scenario() -> str:
    """The scenario a new session starts with."""
    start = os.environ.get("COLLABSIM_SCENARIO")
    if start:
        return start
    files = scenario_files()
    baseline = [f for f in files if f.endswith("jakarta-baseline.toml")]
    if baseline or files:
        return (baseline or files)[0]
    raise FileNotFoundError(f"no scenario files in {scenario_dir()}")


@dataclass(frozen=True)
class Settings:
    """What the controls set: a scenario file, a seed and lever / barrier values."""

    path: str
    seed: int = 1
    values: dict[str, Any] = field(default_factory=dict)

    def scenario(self) -> Scenario:
        """The validated scenario with the controls' values applied."""
        return load_scenario(self.path, self.values)


LEVERS: dict[str, tuple[str, float, float, float]] = {
    "agencies.hub.staff": ("hub staff", 1, 40, 1),
    "run.follow_up_interval_days": ("follow-up interval (days)", 1, 60, 1),
    "dynamics.conference_interval_days": ("case conference every (days)", 7, 180, 1),
}
"""Lever sliders: dotted path -> (label, min, max, step); shown when the scenario has it."""


def control_values(scenario: Scenario) -> dict[str, Any]:
    """The scenario's current value of every control."""
    values: dict[str, Any] = {
        f"barriers.{b}.intensity": getattr(scenario.barriers, b).intensity for b in BARRIER_NAMES
    }
    if "hub" in scenario.agencies:
        values["agencies.hub.staff"] = scenario.agencies["hub"].staff
    values["run.follow_up_interval_days"] = scenario.run.follow_up_interval_days
    values["dynamics.conference_interval_days"] = scenario.dynamics.conference_interval_days
    values["shared_case_system"] = scenario.shared_case_system
    return values


class AppModel(CollaborationModel):
    """The model as the app runs it: it stops at the end of the scenario's days."""

    def __init__(self, params: Scenario, seed: int = 0) -> None:
        """Build the model; stepping past the scenario's ``run.days`` does nothing."""
        super().__init__(params, seed)
        self._mesa_step = self.step  # Mesa's wrapper: advance the clock, then step()
        self.step = self._bounded_step  # type: ignore[method-assign]

    def _bounded_step(self) -> None:
        if self.steps < self.params.run.days:
            self._mesa_step()

    def step(self) -> None:
        """One day; stop playing at the scenario's ``run.days``."""
        super().step()
        if self.steps >= self.params.run.days:
            self.running = False


def model_class(settings: Settings) -> Callable[[], AppModel]:
    """A model class bound to one session's settings.

    Mesa's reset button rebuilds the model as ``type(model)()``; binding the
    settings to a class made per session keeps reset within the session.
    """
    scenario = settings.scenario()

    class SessionModel(AppModel):
        def __init__(self) -> None:
            super().__init__(scenario, seed=settings.seed)

    SessionModel.__name__ = "collabsim"
    return SessionModel


# ------------------------------------------------------------------ views
@solara.component
def NetworkView(model: CollaborationModel) -> None:
    """The referral network with a layout that stays still from step to step."""
    update_counter.get()  # re-render after every (rendered) step
    layout, set_layout = solara.use_state("city")
    colour, set_colour = solara.use_state("load")
    pos = solara.use_memo(lambda: views.network_positions(model, layout), [id(model), layout])
    with solara.Card("Referral network"):
        with solara.Row():
            solara.ToggleButtonsSingle(
                value=layout, values=["city", "kind", "spring"], on_value=set_layout
            )
            solara.ToggleButtonsSingle(
                value=colour, values=["load", "backlog"], on_value=set_colour
            )
        layout_name: views.Layout = layout
        key = [id(model), model.steps, layout, colour]  # redraw only when one of these changed
        fig = solara.use_memo(lambda: views.network_figure(model, pos, colour, layout_name), key)
        solara.FigureMatplotlib(fig, dependencies=key, format="png", dpi=70)


@solara.component
def ChartsView(model: CollaborationModel) -> None:
    """Backlog, handling time, barrier events and the three indices."""
    update_counter.get()  # re-render after every (rendered) step
    key = [id(model), model.steps]
    fig = solara.use_memo(lambda: views.charts_figure(model), key)
    with solara.Card("Live charts"):
        solara.FigureMatplotlib(fig, dependencies=key, format="png", dpi=70)


@solara.component
def KeyNumbers(model: CollaborationModel) -> None:
    """The headline numbers of the run so far."""
    update_counter.get()  # re-render after every (rendered) step
    closed = [c.closed_at - c.reported_at for c in model.cases if c.closed_at is not None]
    closed.sort()
    median = closed[len(closed) // 2] if closed else float("nan")
    events = model.barriers.events
    rows = [
        ("day", model.steps),
        ("cases reported", model.arrived),
        ("cases closed", model.closed),
        ("open cases (backlog)", model.backlog),
        ("median handling time so far (days)", median),
        *((f"{b.replace('_', ' ')} events", events[b]) for b in BARRIER_NAMES),
    ]
    table = "| | |\n|---|---|\n" + "\n".join(f"| {k} | {fmt(v)} |" for k, v in rows)
    with solara.Card("Key numbers"):
        solara.Markdown(table)


def _case_label(case: Any, now: float) -> str:
    status = "closed" if case.closed_at is not None else "open"
    days = (case.closed_at if case.closed_at is not None else now) - case.reported_at
    return f"#{case.id} {case.case_type}, {case.city} ({status}, {days:.0f} days)"


@solara.component
def CaseTracer(model: CollaborationModel) -> None:
    """Pick a case; see its referral trail and where its days were lost."""
    update_counter.get()  # re-render after every (rendered) step
    chosen, set_chosen = solara.use_state((0, 0))  # (model id, case id): a rebuild forgets it
    ranked = sorted(
        model.cases,
        key=lambda c: (c.closed_at if c.closed_at is not None else model.now) - c.reported_at,
        reverse=True,
    )[:40]
    case_id = chosen[1] if chosen[0] == id(model) else 0
    if case_id and case_id not in {c.id for c in ranked}:
        ranked.append(model.cases[case_id - 1])  # keep showing the chosen case
    labels = {_case_label(c, model.now): c.id for c in ranked}
    with solara.Card("Case tracer"):
        if not model.cases:
            solara.Info("No case reported yet: step the model first.")
            return
        current = next((label for label, i in labels.items() if i == case_id), None)
        solara.Select(
            label="case (the 40 longest so far)",
            values=list(labels),
            value=current,
            on_value=lambda label: set_chosen((id(model), labels[label])),
        )
        if current is None:
            solara.Text("Choose a case to see its referral trail.")
            return
        case = model.cases[case_id - 1]
        names = [a.name for a in model.agencies]
        table = timeline(case, names, model.now)
        solara.FigureMatplotlib(views.trace_figure(table, current), format="png")
        lost = days_lost(table)
        md = "| where days were lost | days |\n|---|---|\n" + "\n".join(
            f"| {k} | {lost[k]:.1f} |" for k in LOSSES
        )
        md += f"\n\nPlan: {' → '.join(case.plan)}; interviews so far: {case.interviews}."
        solara.Markdown(md)


@solara.component
def ComparePage(model: CollaborationModel) -> None:
    """Two scenarios side by side with the same seed."""
    files = scenario_files()
    other, set_other = solara.use_state(
        next((f for f in files if f.endswith("no-barriers.toml")), files[0] if files else "")
    )
    result, set_result = solara.use_state(None)
    error, set_error = solara.use_state("")

    def run_both() -> None:
        try:
            a = run_scenario(model.params, model.seed)
            b = run_scenario(other, model.seed)
        except ScenarioError as exc:
            set_error(str(exc))
            return
        set_error("")
        set_result((id(model), a, b))

    with solara.Card("Compare two scenarios (same seed, full run)"):
        solara.Text(
            f"A: the current model's scenario ({model.params.name} with the sidebar's values, "
            f"seed {model.seed})"
        )
        names = {Path(f).name: f for f in files}
        solara.Select(
            label="B",
            values=list(names),
            value=Path(other).name,
            on_value=lambda name: set_other(names[name]),
        )
        solara.Button("Run comparison", on_click=run_both, color="primary")
        if error:
            solara.Error(error)
        if result is not None and result[0] == id(model):  # a rebuilt model drops old results
            _, a, b = result
            rows = "\n".join(
                f"| {label} | {fmt(a.summary[key])} | {fmt(b.summary[key])} |"
                for key, label in HEADLINE
            )
            solara.Markdown(
                f"| output | A: current | B: {b.scenario.name} |\n|---|---|---|\n{rows}"
            )
            solara.FigureMatplotlib(
                views.compare_figure(
                    [
                        ("A: current", a.timeseries, a.cases),
                        (f"B: {b.scenario.name}", b.timeseries, b.cases),
                    ]
                ),
                format="png",
            )


# -------------------------------------------------------------- controls
@solara.component
def ScenarioControls(settings: solara.Reactive[Settings], model: solara.Reactive[Any]) -> None:
    """Scenario picker, seed, barrier intensities and levers; a change rebuilds the model."""
    files = scenario_files()
    custom, set_custom = solara.use_state("")
    error, set_error = solara.use_state("")
    current = settings.value.path
    base = solara.use_memo(lambda: control_values(load_scenario(current)), [current])
    values = {**base, **settings.value.values}

    note, set_note = solara.use_state("")

    def apply(new: Settings) -> None:
        try:
            cls = model_class(new)
        except ScenarioError as exc:
            set_error(str(exc))
            return
        set_error("")
        # Mesa's controls stay disabled once a run has ended, until Reset is pressed
        set_note("" if model.value.running else "Rebuilt: press Reset to enable Step and Play.")
        settings.set(new)
        model.set(cls())

    def pick(path: str) -> None:
        apply(Settings(path, settings.value.seed))

    def load_custom() -> None:
        path = str(Path(custom).expanduser())
        try:
            load_scenario(path)
        except ScenarioError as exc:
            set_error(str(exc))
            return
        pick(path)

    def set_value(key: str, value: Any) -> None:
        apply(replace(settings.value, values={**settings.value.values, key: value}))

    with solara.Card("Scenario"):
        names = {Path(f).name: f for f in (files if current in files else [current, *files])}
        solara.Select(
            label="scenario file",
            values=list(names),
            value=Path(current).name,
            on_value=lambda name: pick(names[name]),
        )
        solara.InputText("or a scenario file path", value=custom, on_value=set_custom)
        solara.Button("Load file", on_click=load_custom)
        solara.InputInt(
            "seed",
            value=settings.value.seed,
            on_value=lambda s: apply(replace(settings.value, seed=int(s))),
        )
        if error:
            solara.Error(error)
        if note:
            solara.Info(note)
    with solara.Card("Barriers (intensity; 0 = off)"):
        for b in BARRIER_NAMES:
            key = f"barriers.{b}.intensity"
            solara.SliderFloat(
                f"{b.replace('_', ' ')}: {float(values[key]):.2f}",
                value=float(values[key]),
                min=0.0,
                max=1.0,
                step=0.05,
                on_value=lambda v, key=key: set_value(key, v),
            )
    with solara.Card("Levers"):
        for key, (label, lo, hi, step) in LEVERS.items():
            if key not in values:
                continue
            is_int = key == "agencies.hub.staff"
            slider = solara.SliderInt if is_int else solara.SliderFloat
            slider(
                f"{label}: {values[key]:g}",
                value=int(values[key]) if is_int else float(values[key]),
                min=int(lo) if is_int else lo,
                max=int(hi) if is_int else hi,
                step=int(step) if is_int else step,
                on_value=lambda v, key=key: set_value(key, v),
            )
        solara.Checkbox(
            label="shared case information system",
            value=bool(values["shared_case_system"]),
            on_value=lambda v: set_value("shared_case_system", bool(v)),
        )


@solara.component
def Page() -> None:
    """The app's page; everything here is per browser session."""
    settings = solara.use_reactive(Settings(default_scenario()))
    first = solara.use_memo(lambda: model_class(settings.value)(), [])
    model = solara.use_reactive(first)
    with solara.Sidebar():
        ScenarioControls(settings, model)
    SolaraViz(
        model,
        components=[
            (NetworkView, 0),
            (ChartsView, 0),
            (KeyNumbers, 0),
            (CaseTracer, 1),
            (ComparePage, 2),
        ],
        model_params={},
        name="collabsim",
        play_interval=50,
        render_interval=5,
    )
