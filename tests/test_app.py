"""The browser app without a browser: rendering, per-session models, the case trace, figures."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import ipyvuetify as v
import pytest
import solara

import collabsim
from collabsim.api import simulate
from collabsim.app import charts
from collabsim.loading import ScenarioError
from collabsim.terms import term
from collabsim.trace import LOSSES, days_lost, timeline
from tests.conftest import BASELINE, SCENARIOS


@pytest.fixture(autouse=True)
def _scenarios(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABSIM_SCENARIOS", str(SCENARIOS))
    monkeypatch.delenv("COLLABSIM_SCENARIO", raising=False)


def _page() -> tuple[object, object]:
    from collabsim.app import Page

    return solara.render(Page(), handle_error=False)


def _buttons(rc: object) -> dict[str, v.Btn]:
    """The page's buttons by their text."""
    out = {}
    for b in rc.find(v.Btn).widgets:  # type: ignore[attr-defined]
        text = [c for c in b.children if isinstance(c, str)]
        if text:
            out[text[0]] = b
    return out


def _texts(rc: object) -> str:
    return " ".join(str(w.children) for w in rc.find(v.Html).widgets)  # type: ignore[attr-defined]


def test_page_steps_asks_before_discarding_and_speaks_both_languages() -> None:
    _, rc = _page()
    buttons = _buttons(rc)
    for name in ("Step 1 day", "Step 7 days", "Play", "Restart", "EN", "ID"):
        assert name in buttons
    tabs = [str(w.children) for w in rc.find(v.Tab).widgets]
    for page in ("Watch a run", "Trace a case", "Compare scenarios", "Explore uncertainty"):
        assert any(page in tab for tab in tabs), tabs
    assert "Day 0 of 1,095 · 1 January 2024" in _texts(rc)
    buttons["Step 7 days"].click()
    assert "Day 7 of 1,095 · 8 January 2024" in _texts(rc)
    sliders = rc.find(v.Slider).widgets
    sliders[0].v_model = 0.5  # miscommunication, mid-run: the page asks first
    assert rc.find(v.Dialog).widget.v_model  # type: ignore[attr-defined]
    _buttons(rc)["Keep this run"].click()
    assert "Day 7 of 1,095" in _texts(rc)
    rc.find(v.Slider).widgets[0].v_model = 0.5
    _buttons(rc)["Start a new run"].click()
    assert "Day 0 of 1,095" in _texts(rc)
    assert "miscommunication: 0.50" in _texts(rc)
    language = next(
        w
        for w in rc.find(v.BtnToggle).widgets  # type: ignore[attr-defined]
        if "ID" in str(w.children)
    )
    language.v_model = 1  # the second button: ID
    assert "Hari ke-0 dari 1.095 · 1 Januari 2024" in _texts(rc)
    tabs = " ".join(str(w.children) for w in rc.find(v.Tab).widgets)
    assert "Amati simulasi" in tabs and "Lacak satu kasus" in tabs
    assert "miskomunikasi: 0,50" in _texts(rc)
    rc.close()  # type: ignore[attr-defined]


def test_a_step_sends_the_charts_tables_and_leaves_the_rest_of_the_page_alone() -> None:
    """After the first frame a chart's spec stays; its tables change; no widget is made anew."""
    import solara.widgets
    from ipywidgets.widgets.widget import _instances
    from solara.components.file_download import FileDownloadWidget

    from collabsim.app.charts import VegaChart

    _, rc = _page()
    _buttons(rc)["Step 7 days"].click()
    before = {w.model_id: (w.spec, w.datasets) for w in rc.find(VegaChart).widgets}
    widgets = set(_instances)  # every live widget, by its id
    assert len(before) == 5  # the network and the four live charts
    _buttons(rc)["Step 7 days"].click()
    after = {w.model_id: (w.spec, w.datasets) for w in rc.find(VegaChart).widgets}
    assert after.keys() == before.keys()
    for key, (spec, tables) in after.items():
        assert spec == before[key][0]
        assert tables != before[key][1]
        assert isinstance(json.loads(tables), dict) and "datasets" not in json.loads(spec)
    assert set(_instances) == widgets
    # a redraw of the page (here a download asked for) keeps what the step showed
    shown = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets]
    assert any("<td>37</td>" in (html or "") for html in shown)  # cases reported by day 14
    rc.find(FileDownloadWidget).widgets[1].request_download = True  # type: ignore[attr-defined]
    assert [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets] == shown
    assert "Day 14 of 1,095" in _texts(rc)
    rc.close()  # type: ignore[attr-defined]


def test_the_headline_card_says_when_the_warm_up_ends() -> None:
    """The card's title changes once, when the run passes the warm-up."""
    _, rc = _page()
    step = _buttons(rc)["Step 7 days"]
    assert "Headline numbers of the warm-up so far" in _titles(rc)
    for _ in range(53):  # day 371: past the warm-up's 365 days
        step.click()
    assert "Headline numbers (measured cohort so far)" in _titles(rc)
    rc.close()  # type: ignore[attr-defined]


def _titles(rc: object) -> str:
    return " ".join(str(w.children) for w in rc.find(v.CardTitle).widgets)  # type: ignore[attr-defined]


def test_each_session_builds_its_own_model() -> None:
    sessions = [_page() for _ in range(2)]
    _buttons(sessions[0][1])["Step 7 days"].click()
    assert "Day 7 of" in _texts(sessions[0][1])
    assert "Day 0 of" in _texts(sessions[1][1])
    for _, rc in sessions:
        rc.close()  # type: ignore[attr-defined]


def test_app_model_stops_at_the_end_of_the_scenario() -> None:
    from collabsim.app.session import Settings, build

    m = build(Settings(str(BASELINE), values={"run.days": 3, "run.warmup_days": 0}))
    assert m.advance(10) == 3
    assert m.finished and m.steps == 3
    assert m.advance(1) == 0


SHORT = {"run.days": 120, "run.warmup_days": 30, "run.measure_days": 60}


def test_saved_settings_run_to_the_same_numbers_on_the_command_line(tmp_path: Path) -> None:
    from collabsim.app.session import Settings, build, saved_scenario
    from collabsim.i18n import translator
    from collabsim.metrics import summarize

    settings = Settings(str(BASELINE), seed=4, values={**SHORT, "barriers.sop.intensity": 0.3})
    saved = tmp_path / "mine.toml"
    saved.write_text(saved_scenario(settings, translator("en"), "mine.toml"))
    assert "collabsim run mine.toml --seed 4" in saved.read_text()
    model = build(settings)
    model.advance(10_000)
    cli = collabsim.run(saved, 4).summary
    app = summarize(model)
    assert json.dumps(cli, sort_keys=True, default=str) == json.dumps(
        app, sort_keys=True, default=str
    )


def test_headline_numbers_are_the_summarys_cohort() -> None:
    """The watch page, the compare page and the command line count the same cases."""
    from collabsim.app.session import Settings, build
    from collabsim.app.watch import headline_rows
    from collabsim.i18n import translator

    t = translator("en")
    model = build(Settings(str(BASELINE), seed=2, values=SHORT))
    model.advance(10_000)
    summary = collabsim.run(BASELINE, 2, overrides=SHORT).summary
    rows = {label: value for label, value, _ in headline_rows(model, None, t)}
    for key in ("cases_arrived", "cases_closed", "handling_days_median", "interviews_per_child"):
        assert rows[term(key, t)] == t.value(summary[key]), key
    baseline = build(Settings(str(BASELINE), seed=2, values={}))
    baseline.advance(40)
    rows = headline_rows(model, baseline, t)
    assert any(beside.startswith("baseline: ") for _, _, beside in rows)
    assert any(beside.startswith("norm: ") for _, _, beside in rows)


def test_the_tracers_table_accounts_for_every_day_of_the_case() -> None:
    from collabsim.app.tracer import days_by_phase

    m = simulate(collabsim.load_scenario(BASELINE), 1)
    names = [a.name for a in m.agencies]
    closed = [c for c in m.cases if c.closed_at is not None][:200]
    for case in closed:
        table = timeline(case, names, m.now)
        spent = days_by_phase(table)
        assert spent["days"].sum() == pytest.approx(case.closed_at - case.reported_at, abs=1e-9)
        lost = spent.loc[spent["lost"], "days"].sum()
        assert lost == pytest.approx(sum(days_lost(table).values()), abs=1e-9)


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
def test_network_layouts_are_fixed_and_cover_every_agency(layout: charts.Layout) -> None:
    m = collabsim.CollaborationModel(collabsim.load_scenario(BASELINE), seed=1)
    pos = charts.network_positions(m, layout)
    assert set(pos) == {a.index for a in m.agencies}
    m.run_days(20)
    assert charts.network_positions(m, layout) == pos


def test_charts_are_valid_vega_lite_with_little_data_and_draw_as_png() -> None:
    import altair as alt

    from collabsim.app.session import Settings, build
    from collabsim.app.watch import LIVE
    from collabsim.i18n import translator

    m = build(Settings(str(BASELINE), seed=1))
    m.advance(700)
    for lang in ("en", "id"):
        t = translator(lang)
        pos = charts.network_positions(m, "city")
        built = [(name, *chart(m, t)) for name, chart in LIVE.items()]
        built.append(("network", *charts.network_chart(m, pos, "backlog", t)))
        for name, spec, _data in built:
            alt.Chart.from_dict(spec, validate=True)  # the schema Vega-Lite 5 reads
            rows = sum(len(v) for v in spec["datasets"].values())
            assert rows <= 2 * charts.MAX_POINTS + 2 * len(m.agencies) ** 2, name
            days = spec["datasets"].get("table", [])
            assert len(days) <= charts.MAX_POINTS + 1, name
            assert "NaN" not in json.dumps(spec), name  # JSON has no NaN: nulls
            for layer in spec.get("layer", [spec]):
                for step in layer.get("transform", []):
                    for field in step.get("fold", []):  # Vega reads these as access paths
                        assert not set(field) & set("'\".[]"), (name, field)
        assert spec["config"]["locale"]["number"]["decimal"] == ("," if lang == "id" else ".")
    image = charts.png(built[0][1])
    assert image[:8] == b"\x89PNG\r\n\x1a\n" and len(image) > 5_000


def test_drawing_the_views_does_not_change_the_run() -> None:
    """The views read the collaboration state without settling it: same run, drawn or not."""
    from collabsim.app.session import Settings, build
    from collabsim.app.watch import LIVE, headline_rows
    from collabsim.i18n import translator
    from collabsim.metrics import summarize

    t = translator("en")
    drawn, plain = (build(Settings(str(BASELINE), seed=3, values=SHORT)) for _ in range(2))
    pos = charts.network_positions(drawn, "city")
    while not drawn.finished:
        drawn.advance(3)
        charts.network_chart(drawn, pos, "load", t)
        for chart in LIVE.values():
            chart(drawn, t)
        headline_rows(drawn, None, t)
    plain.advance(10_000)
    assert json.dumps(summarize(drawn), sort_keys=True, default=str) == json.dumps(
        summarize(plain), sort_keys=True, default=str
    )


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
    from collabsim.app.session import Settings, read_upload

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
    from collabsim.app.session import MAX_UPLOAD_BYTES, read_upload

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
    from collabsim.app.session import MAX_UPLOAD_BYTES, Settings, scenario_files

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
