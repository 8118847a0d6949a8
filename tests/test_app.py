"""The browser app without a browser: rendering, per-session models, the case trace, figures."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import ipyvuetify as v
import pytest
import solara
from solara.components.file_drop import FileDropZone

import collabsim
from collabsim.api import simulate
from collabsim.app import figures as views
from collabsim.loading import ScenarioError
from collabsim.trace import LOSSES, days_lost, timeline
from tests.conftest import BASELINE, SCENARIOS


@pytest.fixture(autouse=True)
def _scenarios(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABSIM_SCENARIOS", str(SCENARIOS))
    monkeypatch.delenv("COLLABSIM_SCENARIO", raising=False)


@solara.component
def _App() -> None:
    from collabsim.app import Page

    with solara.AppLayout():  # the sidebar renders inside an app layout, as on the server
        Page()


def test_page_renders_steps_and_rebuilds_on_a_slider(monkeypatch: pytest.MonkeyPatch) -> None:
    from collabsim.app.page import AppModel

    built: list[AppModel] = []
    stepped: list[int] = []
    init, step = AppModel.__init__, AppModel.step

    def recording_init(self: AppModel, *args: object, **kwargs: object) -> None:
        init(self, *args, **kwargs)  # type: ignore[arg-type]
        built.append(self)

    def recording_step(self: AppModel) -> None:
        step(self)
        stepped.append(id(self))

    monkeypatch.setattr(AppModel, "__init__", recording_init)
    monkeypatch.setattr(AppModel, "step", recording_step)
    _, rc = solara.render(_App(), handle_error=False)
    buttons = [b.children[0] for b in rc.find(v.Btn).widgets]
    for name in ("Step", "Reset", "city", "kind", "spring", "load", "backlog"):
        assert name in buttons
    assert "Load file" not in buttons  # no box that reads any path on the server
    assert not rc.find(v.TextField, label="or a scenario file path").widgets
    assert len(rc.find(FileDropZone).widgets) == 1
    titles = " ".join(str(w.children) for w in rc.find(v.CardTitle).widgets)
    for title in ("Scenario", "Barriers", "Levers", "Controls", "Referral network", "Live charts"):
        assert title in titles
    assert len(built) == 1
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert stepped and set(stepped) == {id(built[0])}
    assert built[0].steps == len(stepped)
    sliders = {w.label.split(":")[0]: w for w in rc.find(v.Slider).widgets}
    assert {b.replace("_", " ") for b in collabsim.BARRIER_NAMES} <= set(sliders)
    sliders["miscommunication"].v_model = 0.0
    assert "miscommunication: 0.00" in [w.label for w in rc.find(v.Slider).widgets]
    assert len(built) == 2  # the change rebuilt the model
    assert built[1].params.barriers.miscommunication.intensity == 0.0
    assert built[1].steps == 0
    rc.close()


def test_each_session_builds_its_own_model() -> None:
    models = []
    for _ in range(2):
        _, rc = solara.render(_App(), handle_error=False)
        models.append(rc)
    # the model classes are made per session, so reset stays in the session
    from collabsim.app.page import Settings, model_class

    a = model_class(Settings(str(BASELINE), seed=3))()
    b = model_class(Settings(str(BASELINE), seed=3))()
    assert a is not b and type(a) is not type(b)
    a.step()
    assert a.steps == 1 and b.steps == 0
    for rc in models:
        rc.close()


def test_reset_rebuilds_with_the_sessions_settings() -> None:
    from collabsim.app.page import Settings, model_class

    settings = Settings(str(BASELINE), seed=5, values={"barriers.sop.intensity": 0.0})
    cls = model_class(settings)
    m1, m2 = cls(), type(cls())()  # what Mesa's reset does: type(model)()
    assert m2.params.barriers.sop.intensity == 0.0 and m2.seed == 5
    for _ in range(30):
        m1.step()
        m2.step()
    assert m1.arrived == m2.arrived


def test_app_model_stops_at_the_end_of_the_scenario() -> None:
    from collabsim.app.page import Settings, model_class

    m = model_class(Settings(str(BASELINE), values={"run.days": 3, "run.warmup_days": 0}))()
    for _ in range(10):  # Mesa's Step runs a whole render interval of steps
        m.step()
    assert m.running is False
    assert m.steps == 3


def test_trace_accounts_for_every_day_of_a_closed_case() -> None:
    m = simulate(collabsim.load_scenario(BASELINE), 1)
    names = [a.name for a in m.agencies]
    closed = [c for c in m.cases if c.closed_at is not None][:200]
    for case in closed:
        t = timeline(case, names, m.now)
        on_path = t[t["critical"]]  # parallel tracks overlap; the critical path does not
        assert on_path["days"].sum() == pytest.approx(case.closed_at - case.reported_at, abs=1e-9)
        assert (on_path["start"].to_numpy()[1:] >= on_path["end"].to_numpy()[:-1] - 1e-9).all()
    lost = [sum(days_lost(timeline(c, names, m.now)).values()) for c in closed]
    assert max(lost) > 0


def test_without_barriers_only_queueing_loses_days() -> None:
    off = {f"barriers.{b}.intensity": 0.0 for b in collabsim.BARRIER_NAMES}
    m = simulate(collabsim.load_scenario(BASELINE, off), 1)
    names = [a.name for a in m.agencies]
    for case in m.cases[:300]:
        lost = days_lost(timeline(case, names, m.now))
        assert set(lost) == set(LOSSES)
        assert all(days == 0 for phase, days in lost.items() if phase != "waiting for staff")


@pytest.mark.parametrize("layout", ["city", "kind", "spring"])
def test_network_layouts_are_fixed_and_cover_every_agency(layout: views.Layout) -> None:
    m = collabsim.CollaborationModel(collabsim.load_scenario(BASELINE), seed=1)
    pos = views.network_positions(m, layout)
    assert set(pos) == {a.index for a in m.agencies}
    m.run_days(20)
    assert views.network_positions(m, layout) == pos
    fig = views.network_figure(m, pos, "backlog", layout)
    assert fig.axes


def test_charts_and_compare_figures_draw() -> None:
    r = collabsim.run(BASELINE, 1, overrides={"run.days": 60, "run.warmup_days": 0})
    m = simulate(collabsim.load_scenario(BASELINE, {"run.days": 60, "run.warmup_days": 0}), 1)
    assert len(views.charts_figure(m).axes) == 4
    assert len(views.compare_figure([("a", r.timeseries, r.cases)]).axes) == 2


def test_ui_rejects_a_bad_scenario_without_starting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{BASELINE}"\n[run]\ndays = 0\n')
    res = subprocess.run(
        [sys.executable, "-m", "collabsim", "ui", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert res.returncode == 2 and "run.days" in res.stderr and "Traceback" not in res.stderr


# ------------------------------------------------------------- uploads
UPLOAD = b'extends = "jakarta-baseline.toml"\nname = "Uploaded"\n[agencies.hub]\nstaff = 7\n'


def _upload(data: bytes) -> collabsim.Scenario:
    """What the app does with a dropped file: read it, then build the session's scenario."""
    from collabsim.app.page import Settings, read_upload

    text = read_upload("mine.toml", len(data), io.BytesIO(data))
    return Settings("mine.toml", text=text).scenario()


def _upload_error(data: bytes) -> str:
    with pytest.raises(ScenarioError) as caught:
        _upload(data)
    message = str(caught.value)
    assert message.startswith("mine.toml: "), message
    assert "Traceback" not in message
    return message


def test_an_uploaded_scenario_extends_one_in_the_folder() -> None:
    scenario = _upload(UPLOAD)
    assert scenario.name == "Uploaded"
    assert scenario.agencies["hub"].staff == 7
    assert (
        scenario.agencies["police_ppa"] == collabsim.load_scenario(BASELINE).agencies["police_ppa"]
    )


def test_an_uploaded_scenario_must_be_small_utf8_toml() -> None:
    from collabsim.app.page import MAX_UPLOAD_BYTES, read_upload

    big = UPLOAD + b"#" * MAX_UPLOAD_BYTES
    assert "file: too large" in _upload_error(big)
    with pytest.raises(ScenarioError, match="file: too large"):  # a browser that lies about size
        read_upload("mine.toml", 10, io.BytesIO(big))
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    message = _upload_error(png)
    assert "file: not UTF-8" in message and "IHDR" not in message
    message = _upload_error(b'[run\ndays = "secret value"\n')
    assert "TOML syntax error on line 1" in message and "secret value" not in message
    assert "run.days" in _upload_error(b'extends = "jakarta-baseline.toml"\n[run]\ndays = 0\n')


@pytest.mark.parametrize(
    "parent",
    [
        "../README.md",
        "../scenarios/../../etc/passwd",
        "/etc/passwd",
        str(BASELINE),
        "link.toml",
        "",
    ],
)
def test_an_upload_extends_only_files_in_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: str
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(BASELINE, tmp_path / "outside.toml")
    (folder / "link.toml").symlink_to(tmp_path / "outside.toml")  # a link that leads out
    monkeypatch.setenv("COLLABSIM_SCENARIOS", str(folder))
    message = _upload_error(f'extends = "{parent}"\n'.encode())
    assert "extends: must name a file in the scenario folder" in message
    assert "passwd" not in message and "outside" not in message


def test_an_upload_extends_any_file_inside_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "scenarios"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(BASELINE, folder / "sub" / "base.toml")
    (folder / "inner.toml").symlink_to(folder / "sub" / "base.toml")  # a link that stays in
    monkeypatch.setenv("COLLABSIM_SCENARIOS", str(folder))
    for parent in ("sub/base.toml", "sub/../sub/base.toml", "inner.toml"):
        scenario = _upload(f'extends = "{parent}"\n[agencies.hub]\nstaff = 9\n'.encode())
        assert scenario.agencies["hub"].staff == 9
    assert "extends: no such file" in _upload_error(b'extends = "gone.toml"\n')


def test_the_picker_offers_only_small_regular_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collabsim.app.page import MAX_UPLOAD_BYTES, Settings, scenario_files

    shutil.copy(BASELINE, tmp_path / "base.toml")
    (tmp_path / "link.toml").symlink_to(BASELINE)
    (tmp_path / "big.toml").write_bytes(BASELINE.read_bytes() + b"#" * MAX_UPLOAD_BYTES)
    (tmp_path / "folder.toml").mkdir()
    monkeypatch.setenv("COLLABSIM_SCENARIOS", str(tmp_path))
    assert scenario_files() == [str(tmp_path / "base.toml")]
    assert Settings(str(tmp_path / "base.toml")).scenario().name
    for name in ("link.toml", "big.toml", "folder.toml"):
        with pytest.raises(ScenarioError, match="not a regular file of at most"):
            Settings(str(tmp_path / name)).scenario()


def _guarded(loopback_only: bool, headers: dict[str, str]) -> int:
    """The status an OriginGuard answers a request with (200: passed on to the app)."""
    import asyncio

    from collabsim.app.server import OriginGuard

    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: object) -> None:
        sent.append({"type": "http.response.start", "status": 200})

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {}

    scope = {"type": "http", "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(OriginGuard(app, loopback_only)(scope, receive, send))  # type: ignore[arg-type]
    return int(str(sent[0]["status"]))


def test_the_origin_guard_lets_only_the_apps_own_pages_through() -> None:
    own = {"host": "127.0.0.1:8765"}
    assert _guarded(True, own) == 200
    assert _guarded(True, {**own, "origin": "http://127.0.0.1:8765"}) == 200
    assert _guarded(True, {"host": "localhost:8765", "origin": "http://localhost:8765"}) == 200
    assert _guarded(True, {"host": "[::1]:8765"}) == 200
    assert _guarded(True, {**own, "origin": "http://evil.example"}) == 403
    assert _guarded(True, {**own, "origin": "http://127.0.0.1:9999"}) == 403
    assert (
        _guarded(True, {"host": "evil.example:8765", "origin": "http://evil.example:8765"}) == 403
    )
    # served beyond loopback (a team server): any name, but only its own pages' origin
    team = {"host": "team.example:8765"}
    assert _guarded(False, {**team, "origin": "http://team.example:8765"}) == 200
    assert _guarded(False, {**team, "origin": "http://evil.example"}) == 403
