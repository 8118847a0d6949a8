"""What one browser session holds: its settings, its model, and the scenario file it can save.

Nothing here is created at module level: every session builds its own model
from its own :class:`Settings`, so two tabs never share a run.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import gc
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from collabsim.i18n import N_, Translator
from collabsim.loading import ScenarioError, load_scenario, load_scenario_text
from collabsim.model import CollaborationModel
from collabsim.scenario import BARRIER_NAMES, Scenario

__all__ = [
    "CONTROLS",
    "MAX_UPLOAD_BYTES",
    "SHARED_CASE_SYSTEM",
    "AppModel",
    "Control",
    "Settings",
    "build",
    "control_values",
    "default_scenario",
    "read_upload",
    "release_memory_soon",
    "saved_scenario",
    "scenario_dir",
    "scenario_files",
]

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

    def as_loaded(self) -> Settings:
        """The same scenario file and seed without the controls' changes (the baseline)."""
        return Settings(self.path, self.seed, {}, self.text)

    @property
    def name(self) -> str:
        """The scenario file's name, as the picker shows it."""
        return Path(self.path).name


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


class Control(NamedTuple):
    """A slider of the sidebar: what it sets, in the domain's words, and its range.

    Attributes:
        label: its name.
        help: what it means in the domain (shown under it).
        unit: the unit of its value.
        low: its lowest value.
        high: its highest value.
        step: its step.
        integer: a count, not a measure.
    """

    label: str
    help: str
    unit: str
    low: float
    high: float
    step: float
    integer: bool = False


_INTENSITY = N_("intensity, 0 (off) to 1 (as found in Jakarta)")
CONTROLS: dict[str, Control] = {
    "barriers.miscommunication.intensity": Control(
        N_("miscommunication"),
        N_("Referrals go astray between agencies: late, sent to the wrong unit, or lost."),
        _INTENSITY, 0.0, 1.0, 0.05,
    ),
    "barriers.task_duplication.intensity": Control(
        N_("task duplication"),
        N_("An agency repeats an assessment another has done: the child is interviewed again."),
        _INTENSITY, 0.0, 1.0, 0.05,
    ),
    "barriers.missing_reports.intensity": Control(
        N_("no routine reporting"),
        N_("A finished service is not reported: the case manager learns of it at the next "
           "follow-up, and the case may be missing from SIMFONI-PPA."),
        _INTENSITY, 0.0, 1.0, 0.05,
    ),
    "barriers.sectoral_ego.intensity": Control(
        N_("sectoral ego"),
        N_("An agency holds or refuses a referral from another sector."),
        _INTENSITY, 0.0, 1.0, 0.05,
    ),
    "barriers.sop.intensity": Control(
        N_("SOPs not integrated"),
        N_("Each agency runs its own intake on a case it takes over (the child retells the "
           "story); 0 is one integrated collaboration SOP."),
        _INTENSITY, 0.0, 1.0, 0.05,
    ),
    "barriers.facility_distrust.intensity": Control(
        N_("doubt in other agencies' facilities"),
        N_("A referrer passes over the best provider when it doubts its facilities are ready."),
        _INTENSITY, 0.0, 1.0, 0.05,
    ),
    "barriers.resources.intensity": Control(
        N_("short resources"),
        N_("Vacant posts and services that must be redone; 0 is every post filled and every "
           "service done right the first time."),
        _INTENSITY, 0.0, 1.0, 0.05,
    ),
    "agencies.hub.staff": Control(
        N_("UPT PPPA case managers"),
        N_("Posts of case managers at the hub (UPT PPPA); vacancies apply to them."),
        N_("posts"), 1, 40, 1, integer=True,
    ),
    "run.follow_up_interval_days": Control(
        N_("follow-up interval"),
        N_("How often the case manager follows a case up with the agencies serving it."),
        N_("days"), 1, 60, 1,
    ),
    "dynamics.conference_interval_days": Control(
        N_("case conference every"),
        N_("Joint case conferences of all agencies: they settle held-up cases and build "
           "understanding."),
        N_("days"), 7, 180, 1,
    ),
}  # fmt: skip
"""The sliders, by the scenario parameter each sets (barriers first, then levers)."""

SHARED_CASE_SYSTEM = "shared_case_system"


def control_values(scenario: Scenario) -> dict[str, Any]:
    """The scenario's current value of every control it has."""
    values: dict[str, Any] = {
        f"barriers.{b}.intensity": getattr(scenario.barriers, b).intensity for b in BARRIER_NAMES
    }
    if "hub" in scenario.agencies:
        values["agencies.hub.staff"] = scenario.agencies["hub"].staff
    values["run.follow_up_interval_days"] = scenario.run.follow_up_interval_days
    values["dynamics.conference_interval_days"] = scenario.dynamics.conference_interval_days
    values[SHARED_CASE_SYSTEM] = scenario.shared_case_system
    return values


class AppModel(CollaborationModel):
    """The model as the app runs it: stepped a few days at a time, up to the scenario's days.

    Attributes:
        lock: held while the model steps; views hold it while they read the
            model (the play thread steps while the page draws).
    """

    def __init__(self, params: Scenario, seed: int = 0) -> None:
        """Build the model (with the full trail: the case tracer reads it)."""
        super().__init__(params, seed)
        self.lock = threading.RLock()

    @property
    def finished(self) -> bool:
        """Whether the run has reached the scenario's ``run.days``."""
        return bool(self.steps >= self.params.run.days)

    def advance(self, days: int) -> int:
        """Step up to ``days`` days (fewer at the end of the run); return how many were stepped."""
        with self.lock:
            left = max(0, min(days, self.params.run.days - self.steps))
            if left:
                self.run_days(left)
        return int(left)


def build(settings: Settings) -> AppModel:
    """A new model of these settings."""
    return AppModel(settings.scenario(), seed=settings.seed)


def saved_scenario(settings: Settings, t: Translator, filename: str) -> str:
    """The settings as a self-contained scenario file the command line runs to the same numbers.

    Every parameter is written out (the file needs no other file), under a
    header that says where it came from and the command that reproduces the
    app's run.
    """
    import tomli_w

    scenario = settings.scenario()
    changed = ", ".join(f"{k} = {v}" for k, v in sorted(settings.values.items())) or t._("none")
    header = [
        t._("Saved from the collabsim app on {date} from {file}.").format(
            date=t.date(dt.date.today()), file=settings.name
        ),
        t._("Settings changed in the app: {changed}.").format(changed=changed),
        t._("The same run as the app's: collabsim run {file} --seed {seed}").format(
            file=filename, seed=settings.seed
        ),
    ]
    body = tomli_w.dumps(scenario.model_dump(mode="json", exclude_none=True))
    return "".join(f"# {line}\n" for line in header) + "\n" + body


# ---------------------------------------------------------------- memory
_RELEASING = threading.Lock()  # held while a release is pending: a burst of closes releases once
_RELEASE_DELAY = 3.0  # seconds: after solara's own collection (1 s after a session closes)


def release_memory_soon() -> None:
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
