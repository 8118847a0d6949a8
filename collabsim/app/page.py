"""The browser app: watch a run, move the levers, trace a case, compare two scenarios.

Built on Mesa's SolaraViz. Start it with ``collabsim ui [SCENARIO]``; it listens
on 127.0.0.1 unless told otherwise. Every browser session builds its own model
(nothing is created at module level), so two tabs never see each other's runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter
from solara.components.file_drop import FileInfo

from collabsim.api import run as run_scenario

# solara treats a module-level name "Layout" as the app's layout: import views' module
from collabsim.app import figures as views
from collabsim.loading import ScenarioError, load_scenario, load_scenario_text
from collabsim.model import CollaborationModel
from collabsim.outputs import HEADLINE, fmt
from collabsim.scenario import BARRIER_NAMES, Scenario
from collabsim.terms import term
from collabsim.trace import LOSSES, days_lost, timeline

__all__ = ["MAX_UPLOAD_BYTES", "AppModel", "Page", "Settings", "model_class", "read_upload"]

MAX_UPLOAD_BYTES = 256 * 1024
"""The largest scenario file the app reads, picked or uploaded (the Jakarta baseline is 16 KiB)."""


def scenario_dir() -> Path:
    """Where the scenario picker looks (``COLLABSIM_SCENARIOS``, else ./scenarios)."""
    return Path(os.environ.get("COLLABSIM_SCENARIOS", Path.cwd() / "scenarios"))


def _plain_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (not a link) of at most :data:`MAX_UPLOAD_BYTES`."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size <= MAX_UPLOAD_BYTES


def scenario_files() -> list[str]:
    """The scenario files offered by the picker: the folder's plain ``*.toml`` files."""
    found = sorted(str(p) for p in scenario_dir().glob("*.toml") if _plain_file(p))
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
    """What the controls set: a scenario, a seed and lever / barrier values.

    The scenario is the file ``path`` or, when ``text`` is given, an uploaded
    file's TOML (``path`` is then the uploaded file's name).
    """

    path: str
    seed: int = 1
    values: dict[str, Any] = field(default_factory=dict)
    text: str | None = None

    def scenario(self) -> Scenario:
        """The validated scenario with the controls' values applied."""
        if self.text is not None:
            return load_scenario_text(self.text, self.path, scenario_dir(), self.values)
        if not _plain_file(Path(self.path)):
            limit = f"{MAX_UPLOAD_BYTES:,}"
            raise ScenarioError(self.path, [f"file: not a regular file of at most {limit} bytes"])
        return load_scenario(self.path, self.values)


def read_upload(name: str, size: int, file: BinaryIO) -> str:
    """The text of an uploaded scenario file: at most :data:`MAX_UPLOAD_BYTES`, in UTF-8.

    Args:
        name: the file's name, for errors.
        size: its size as the browser reports it (checked before reading).
        file: its content.

    Raises:
        ScenarioError: naming the file when it is too large or not UTF-8 text.
    """
    too_large = ScenarioError(name, [f"file: too large (at most {MAX_UPLOAD_BYTES:,} bytes)"])
    if size > MAX_UPLOAD_BYTES:
        raise too_large
    data = file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise too_large
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            name, [f"file: not UTF-8 text (line {line}); upload a TOML file"]
        ) from None


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


# ---------------------------------------------------------------- memory
_RELEASING = threading.Lock()  # held while a release is pending: a burst of closes releases once
_RELEASE_DELAY = 3.0  # seconds: after solara's own collection (1 s after a session closes)


def _release_memory_soon() -> None:
    """When a session closes: collect its garbage, then have glibc return the freed memory.

    glibc keeps freed memory for reuse instead of giving it back to the system, so
    without ``malloc_trim`` the server stays at the size of its busiest moment.
    """
    if not _RELEASING.acquire(blocking=False):
        return
    thread = threading.Thread(target=_release_memory, daemon=True, name="collabsim-release")
    # solara's threads keep the session they were started in; this one must not
    thread.current_context = None  # type: ignore[attr-defined]
    thread.start()


def _release_memory() -> None:
    time.sleep(_RELEASE_DELAY)
    _RELEASING.release()
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


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
    events = model.barriers.events.all
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
                f"| {term(key)} | {fmt(a.summary[key])} | {fmt(b.summary[key])} |"
                for key in HEADLINE
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
    error, set_error = solara.use_state("")
    current, text = settings.value.path, settings.value.text
    base = solara.use_memo(
        lambda: control_values(Settings(current, text=text).scenario()), [current, text]
    )
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

    def upload(file: FileInfo) -> None:
        name = Path(file["name"]).name[:100] or "uploaded file"
        try:
            text = read_upload(name, file["size"], file["file_obj"])
        except ScenarioError as exc:
            set_error(str(exc))
            return
        apply(Settings(name, settings.value.seed, text=text))

    def set_value(key: str, value: Any) -> None:
        apply(replace(settings.value, values={**settings.value.values, key: value}))

    with solara.Card("Scenario"):
        names = {Path(f).name: f for f in files}
        shown = Path(current).name if text is None else f"{current} (uploaded)"
        solara.Select(
            label="scenario file",
            values=list(names) if shown in names else [shown, *names],
            value=shown,
            on_value=lambda name: pick(names[name]) if name in names else None,
        )
        solara.FileDrop(label="or drop a scenario file (.toml) here to upload it", on_file=upload)
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
    solara.use_effect(lambda: _release_memory_soon, [])  # runs when the session closes
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
