"""The browser app in a real browser: start ``collabsim ui`` and drive it with Chromium.

These tests start the app as a user would (``python -m collabsim ui``) on a free
loopback port and drive Debian's Chromium through Playwright, in a laptop's
1366x768 window, in both of the app's languages. Without /usr/bin/chromium they
are skipped, except on CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from solara.server.settings import assets

import collabsim
from collabsim.app.session import CONTROLS, Settings
from collabsim.i18n import Translator, translator
from collabsim.terms import term
from tests.chromium import CHROMIUM, CHROMIUM_ARGS, LAPTOP

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "jakarta-baseline.toml"
ON_CI = bool(os.environ.get("CI"))
SERVER_START_TIMEOUT = 60.0  # seconds until GET / answers
CDN_CACHE = Path(assets.proxy_cache_dir)  # what tools/fetch-solara-assets fills
CDN_PATH = "/_solara/cdn/"
UI_TIMEOUT = 45_000  # ms: this machine has 2 cores and may be busy
CHART = ".vega-embed .chart-wrapper > .marks"  # a drawn Vega chart (svg or canvas)
TOOLTIP = "#vg-tooltip-element.visible"
FRAMEWORK = ("Play Interval", "Render Interval", "Use Threads", "Model Parameters", "PAGE 0")
"""Cards and tabs of Mesa's SolaraViz (the old app), which the app must not show."""
LANGS = ("en", "id")
T = {lang: translator(lang) for lang in LANGS}

# what a user reads, written out (not only looked up in the catalogues)
CLOCK = {
    "en": ("Day 0 of 1,095 · 1 January 2024", "Day 7 of 1,095 · 8 January 2024"),
    "id": ("Hari ke-0 dari 1.095 · 1 Januari 2024", "Hari ke-7 dari 1.095 · 8 Januari 2024"),
}
PAGES = {
    "en": ("Watch a run", "Trace a case", "Compare scenarios", "Explore uncertainty"),
    "id": ("Amati simulasi", "Lacak satu kasus", "Bandingkan skenario", "Jelajahi ketidakpastian"),
}
ASK = {"en": "Start a new run?", "id": "Mulai simulasi baru?"}
NORM = {"en": "norm: ", "id": "standar: "}
BASELINE_BESIDE = {"en": "baseline: ", "id": "pembanding: "}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

if not ON_CI:
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Response,
    expect,
    sync_playwright,
)

expect.set_options(timeout=UI_TIMEOUT)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() and not ON_CI, reason=f"{CHROMIUM} is not installed"),
]
each_language = pytest.mark.parametrize("lang", LANGS)


# ------------------------------------------------------------------ fixtures
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the server and everything it started (it runs in its own process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@contextmanager
def _serve(log_dir: Path, *options: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``collabsim ui`` on a free loopback port; yield its URL and process."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    # a front-end file missing from the cache must fail here, never come from a CDN
    cdn = f"http://127.0.0.1:{_free_port()}/"
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="False", SOLARA_ASSETS_CDN=cdn)
    env["COLLABSIM_LANG"] = "en"  # the app starts in English; the tests switch to Indonesian
    env.pop("COLLABSIM_SCENARIO", None)  # start with the baseline from ./scenarios
    env.pop("COLLABSIM_SCENARIOS", None)
    log_path = log_dir / "server.log"
    cmd = [sys.executable, "-m", "collabsim", "ui", "--port", str(port), "--host", "127.0.0.1"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*cmd, *options],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the app exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not answer on {url}:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield url, proc
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by ``collabsim ui`` on a free loopback port; yields its URL."""
    with _serve(tmp_path_factory.mktemp("server")) as (url, _):
        yield url


@pytest.fixture(scope="module", autouse=True)
def _require_chromium() -> None:
    """On CI a missing browser is an error (the skip mark above covers the other case)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing (CI is set, so the browser tests must run)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    pw: Playwright = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        pw.stop()


def _new_context(browser: Browser) -> BrowserContext:
    """A laptop's window, with its own cookies (so its own app session)."""
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    context.set_default_timeout(UI_TIMEOUT)
    return context


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = _new_context(browser)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# ------------------------------------------------------------------ traffic
class Traffic:
    """What a page asked for and what went wrong: requests, failures, JavaScript errors."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("websocket", lambda ws: self.urls.append(ws.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
        page.on("response", self._response)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", self._console)

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url}: {response.status}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def check(self) -> None:
        """Nothing left the machine, failed, or raised; every front-end file is in the cache."""
        remote = [
            url
            for url in self.urls
            if urlsplit(url).scheme not in ("data", "blob")
            and urlsplit(url).hostname != "127.0.0.1"
        ]
        assert self.urls, "no request was recorded"
        assert not remote, f"requests left the machine: {remote}"
        cdn = {urlsplit(url).path for url in self.urls if urlsplit(url).path.startswith(CDN_PATH)}
        for script in (
            "/mermaid.min.js",
            "/vega.min.js",
            "/vega-lite.min.js",
            "/vega-embed.min.js",
        ):
            assert any(path.endswith(script) for path in cdn), (script, sorted(cdn))
        missing = [path for path in sorted(cdn) if not _cached(path)]
        assert not missing, f"not in {CDN_CACHE} (run tools/fetch-solara-assets): {missing}"
        assert not self.failed, f"requests failed: {self.failed}"
        assert not self.errors, f"JavaScript errors: {self.errors}"


def _cached(path: str) -> bool:
    """Whether solara's CDN proxy serves ``path`` from its cache (never fetching it)."""
    name = unquote(path.removeprefix(CDN_PATH))
    if "/" not in name:  # solara stores a bare package request as <package>/__main.js
        name += "/__main.js"
    return (CDN_CACHE / name).is_file()


# ------------------------------------------------------------------ helpers
def _clock(page: Page) -> Locator:
    return page.locator(".collabsim-clock")


def _day(page: Page) -> int:
    """The day the clock shows (``Day 1,095 of ...``, ``Hari ke-1.095 dari ...``)."""
    found = re.search(r"\d[\d.,]*", _clock(page).inner_text())
    assert found, _clock(page).inner_text()
    return int(re.sub(r"[.,]", "", found.group()))


def _number(text: str, lang: str) -> float:
    """A number as the app shows it: ``1,148.5`` (English), ``1.148,5`` (Indonesian)."""
    text = text.strip()
    text = text.replace(".", "").replace(",", ".") if lang == "id" else text.replace(",", "")
    return float(text)


def _button(page: Page | Locator, label: str) -> Locator:
    return page.get_by_role("button", name=label, exact=True)


def _open(page: Page, url: str, lang: str = "en") -> Translator:
    """Load the app in ``lang``; wait for the clock and the first chart. Returns the language."""
    page.goto(url)
    expect(_clock(page)).to_have_text(CLOCK["en"][0], timeout=90_000)
    if lang != "en":
        _switch_language(page, lang)
    expect(page.locator(CHART).first).to_be_visible()
    return T[lang]


def _switch_language(page: Page, lang: str) -> None:
    _button(page, lang.upper()).click()
    expect(_clock(page)).to_have_text(re.compile(r"^Hari ke-" if lang == "id" else r"^Day "))
    expect(page.get_by_role("tab", name=PAGES[lang][0])).to_be_visible()


def _until(page: Page, condition: Callable[[], bool], what: str, timeout: float = 45) -> None:
    """Poll ``condition`` (letting the page run) until it holds, or fail with ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for: {what}")
        page.wait_for_timeout(100)


def _step(page: Page, t: Translator, days: int = 7) -> int:
    """Click "Step 1 day" or "Step 7 days" and wait for the clock's new day; return it."""
    before = _day(page)
    label = t._("Step 1 day") if days == 1 else t._("Step 7 days")
    button = _button(page, label)
    expect(button).to_be_enabled()
    button.click()
    _until(page, lambda: _day(page) == before + days, f"day {before + days} after {label!r}")
    return before + days


def _settled_day(page: Page, quiet: float = 1.5, timeout: float = 30) -> int:
    """The day once it has not changed for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    day, since = _day(page), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            pytest.fail(f"the day did not settle within {timeout} s (last {day})")
        page.wait_for_timeout(100)
        now = _day(page)
        if now != day:
            day, since = now, time.monotonic()
    return day


def _card(page: Page, title: str) -> Locator:
    """The card whose title is ``title``."""
    title_el = page.locator(".v-card__title", has_text=re.compile(f"^{re.escape(title)}$"))
    return page.locator(".v-card", has=title_el).last


def _tab(page: Page, t: Translator, name: str) -> None:
    tab = page.get_by_role("tab", name=t._(name))
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")


def _choose(page: Page, scope: Locator, label: str, option: str) -> None:
    """Pick ``option`` in the select labelled ``label`` inside ``scope``."""
    field = _select(page, scope, label)
    field.locator(".v-input__slot").click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(field.locator(".v-select__selection")).to_have_text(option)


def _select(page: Page, scope: Locator, label: str) -> Locator:
    name = page.locator("label", has_text=re.compile(f"^{re.escape(label)}$"))
    return scope.locator(".v-select", has=name)


def _control(page: Page, t: Translator, key: str) -> Locator:
    """The sidebar's control (label, slider, help) of the scenario parameter ``key``."""
    label = page.locator(
        ".collabsim-label", has_text=re.compile(f"^{re.escape(t.marked(CONTROLS[key].label))}: ")
    )
    return page.locator(".collabsim-control", has=label)


def _control_label(t: Translator, key: str, value: float) -> str:
    c = CONTROLS[key]
    return f"{t.marked(c.label)}: {t.number(value, 0) if c.integer else t.number(value, 2)}"


def _headline(page: Page, t: Translator) -> dict[str, tuple[str, str]]:
    """The headline numbers card's rows: label -> (this run, the norm or the baseline)."""
    header = page.locator("th", has_text=re.compile(f"^{re.escape(t._('norm or baseline'))}$"))
    table = page.locator("table", has=header)
    expect(table).to_have_count(1)
    rows = {}
    for row in table.locator("tbody tr").all():
        label, value, beside = (c.strip() for c in row.locator("td").all_inner_texts())
        rows[label] = (value, beside)
    return rows


def _chart_width(chart: Locator) -> dict[str, float]:
    """A chart's width and how much of it can be seen (inside the clipping boxes and window)."""
    width: dict[str, float] = chart.evaluate(
        """e => {
            const r = e.getBoundingClientRect();
            let left = Math.max(r.left, 0);
            let right = Math.min(r.right, document.documentElement.clientWidth);
            for (let p = e.parentElement; p; p = p.parentElement) {
                if (getComputedStyle(p).overflowX !== 'visible') {
                    const q = p.getBoundingClientRect();
                    left = Math.max(left, q.left);
                    right = Math.min(right, q.right);
                }
            }
            return {width: r.width, visible: Math.max(0, right - left), left: left};
        }"""
    )
    return width


def _readable(page: Page, chart: Locator, what: str, least: float = 400) -> None:
    """Wait until ``chart`` is at least ``least`` px wide in view (it redraws on each step)."""
    deadline = time.monotonic() + UI_TIMEOUT / 1000
    while (width := _chart_width(chart))["visible"] < least:
        if time.monotonic() > deadline:
            pytest.fail(f"{what} is not {least} px wide in a 1366x768 window: {width}")
        page.wait_for_timeout(200)


_HOVER_SPOT = """(chart, step) => {
    // the first point of the chart where Vega shows a tooltip, found with synthetic
    // pointer events (fast); the test then hovers there with the real mouse
    const tip = () => document.getElementById('vg-tooltip-element');
    const r = chart.getBoundingClientRect();
    for (let x = r.left + 1; x < r.right - 1; x += step[0]) {
        for (let y = r.top + 1; y < r.bottom - 1; y += step[1]) {
            const target = document.elementFromPoint(x, y);
            if (!target || !(target === chart || chart.contains(target))) continue;  // covered
            if (tip()) tip().classList.remove('visible');
            const init = {clientX: x, clientY: y, bubbles: true, cancelable: true, view: window};
            target.dispatchEvent(new PointerEvent('pointermove', init));
            target.dispatchEvent(new MouseEvent('mousemove', init));
            if (tip() && tip().classList.contains('visible')) {
                tip().classList.remove('visible');
                return [x, y];
            }
        }
    }
    return null;
}"""


def _tooltip(page: Page, chart: Locator) -> str:
    """Hover with the mouse where the chart shows a value; return the tooltip's text."""
    chart.scroll_into_view_if_needed()
    page.mouse.move(1, 1)
    spot = chart.evaluate(_HOVER_SPOT, [2, 1])
    if spot is None:
        pytest.fail(f"no value shows on hover anywhere over the chart at {chart.bounding_box()}")
    x, y = spot
    page.mouse.move(x, y - 6)
    page.mouse.move(x, y, steps=6)
    tip = page.locator(TOOLTIP)
    expect(tip).to_be_visible()
    return tip.inner_text()


def _download(page: Page, button: Locator, timeout: float = 90_000) -> tuple[str, bytes]:
    """Click a download button; return the file's suggested name and its content."""
    expect(button).to_be_enabled()
    with page.expect_download(timeout=timeout) as info:
        button.click()
    download = info.value
    path = download.path()
    assert path is not None, download.failure()
    return download.suggested_filename, Path(path).read_bytes()


def _csv(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert len(rows) >= 2 and len(rows[0]) >= 2, rows[:3]
    return rows


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, data[:16]
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _five_charts(page: Page, errors: list[str]) -> Locator:
    """The watch page's charts (the network and four live charts), once all five are drawn."""
    charts = page.locator(CHART)
    try:
        expect(charts).to_have_count(5)
    except AssertionError:
        pytest.fail(f"{charts.count()} of 5 charts drawn; JavaScript errors: {errors}")
    return charts


def _no_framework_cards(page: Page) -> None:
    for name in FRAMEWORK:
        expect(page.get_by_text(name)).to_have_count(0)


# ------------------------------------------------------------------ pages
@pytest.mark.timeout(300)
@each_language
def test_every_page_renders_offline(server: str, page: Page, lang: str) -> None:
    traffic = Traffic(page)
    t = _open(page, server, lang)
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_text(list(PAGES[lang]))
    for title in (t._("Scenario"), t._("Barriers"), t._("Levers"), t._("Referral network")):
        expect(_card(page, title)).to_be_visible()
    _no_framework_cards(page)

    # the watch page after a week: the network and the four live charts, all drawn
    _step(page, t, 7)
    for chart in _five_charts(page, traffic.errors).all():
        expect(chart).to_be_visible()

    _tab(page, t, "Trace a case")
    trace = _card(page, t._("Trace a case"))
    expect(trace.locator(CHART)).to_be_visible()
    _tab(page, t, "Compare scenarios")
    compare = _card(page, t._("Compare scenarios"))
    expect(_button(compare, t._("Run {n} paired replications").format(n=5))).to_be_enabled()
    _tab(page, t, "Explore uncertainty")
    explore = _card(page, t._("Explore uncertainty"))
    expect(_button(explore, t._("Run {n} futures").format(n=5))).to_be_enabled()
    _no_framework_cards(page)
    _tab(page, t, "Watch a run")
    expect(_card(page, t._("Referral network")).locator(CHART)).to_be_visible()
    page.wait_for_load_state("networkidle")
    traffic.check()


@pytest.mark.timeout(180)
@each_language
def test_the_clock_steps_by_day_and_week(server: str, page: Page, lang: str) -> None:
    t = _open(page, server, lang)
    day0, day7 = CLOCK[lang]
    expect(_clock(page)).to_have_text(day0)
    _button(page, t._("Step 7 days")).click()
    expect(_clock(page)).to_have_text(day7)
    assert _step(page, t, 1) == 8
    expect(_clock(page)).to_contain_text("9 " + ("January" if lang == "en" else "Januari"))
    _button(page, t._("Restart")).click()
    expect(_clock(page)).to_have_text(day0)


def _play_rate(page: Page, t: Translator, speed: int, window: float = 8.0) -> tuple[float, int]:
    """Play at ``speed`` days per second; the rate seen over ``window`` s and the paused day.

    The rate is measured between the first and the last change of the clock in the
    window (so that the frames' steps of several days do not blur it).
    """
    bar = page.locator(".collabsim-bar")
    label = t._("{n} days per second").format(n=speed)
    bar.locator(".v-select .v-input__slot").click()
    page.get_by_role("option", name=label, exact=True).click()
    expect(bar.locator(".v-select__selection")).to_have_text(label)
    start = _day(page)
    _button(page, t._("Play")).click()
    pause = _button(page, t._("Pause"))
    expect(pause).to_be_visible()
    expect(_button(page, t._("Step 1 day"))).to_be_disabled()
    _until(page, lambda: _day(page) > start, "the day to advance while playing")
    changes = [(time.monotonic(), _day(page))]
    while time.monotonic() - changes[0][0] < window:
        page.wait_for_timeout(50)
        day = _day(page)
        if day != changes[-1][1]:
            changes.append((time.monotonic(), day))
    pause.click()
    assert len(changes) >= 3, f"the clock hardly moved while playing: {changes}"
    (t0, d0), (t1, d1) = changes[0], changes[-1]
    rate = (d1 - d0) / (t1 - t0)
    expect(_button(page, t._("Play"))).to_be_visible()
    expect(_button(page, t._("Step 1 day"))).to_be_enabled()
    shown = _day(page)
    # a frame in flight when pausing still finishes and is drawn: the day settles, then stays
    settled = _settled_day(page)
    frame = max(1, round(speed * 0.5))  # days per frame of half a second (app/page.py)
    assert settled - shown <= 2 * frame, f"pause was late: {shown} when paused, then {settled}"
    page.wait_for_timeout(2000)
    assert _day(page) == settled, "the model kept running after Pause"
    return rate, settled


@pytest.mark.timeout(240)
@each_language
def test_play_runs_at_the_chosen_speed_and_pause_stops_it(
    server: str, page: Page, lang: str
) -> None:
    t = _open(page, server, lang)
    slow, _ = _play_rate(page, t, 1)
    fast, day = _play_rate(page, t, 20)
    rates = f"{slow:.2f} days/s at 1 day/s, {fast:.2f} days/s at 20 days/s"
    # never faster than asked; slower (a busy machine) within reason
    assert slow <= 1 * 1.15, f"faster than chosen: {rates}"
    assert fast <= 20 * 1.15, f"faster than chosen: {rates}"
    assert slow >= 1 * 0.4, f"much slower than chosen: {rates}"
    assert fast >= 20 * 0.3, f"much slower than chosen: {rates}"
    assert day > 20


@pytest.mark.timeout(180)
@each_language
def test_the_run_controls_stay_in_view_when_scrolling(server: str, page: Page, lang: str) -> None:
    t = _open(page, server, lang)
    _step(page, t, 7)
    page.mouse.move(700, 500)
    page.mouse.wheel(0, 5000)
    _until(page, lambda: page.evaluate("window.scrollY") > 600, "the page to scroll down")
    scrolled = page.evaluate("window.scrollY")
    bar = page.locator(".collabsim-bar")
    parts = {
        "clock": _clock(page),
        **{
            label: _button(page, t._(label))
            for label in ("Step 1 day", "Step 7 days", "Play", "Restart")
        },
        "speed": bar.locator(".v-select"),
        "language": _button(bar, "ID"),
    }
    for name, part in parts.items():
        box = part.bounding_box()
        assert box is not None, name
        inside = (
            box["x"] >= 0
            and box["y"] >= 0
            and box["x"] + box["width"] <= LAPTOP["width"]
            and box["y"] + box["height"] <= LAPTOP["height"]
        )
        assert inside, f"{name} is out of view after scrolling {scrolled} px: {box}"
        # and nothing covers it
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        on_top = part.evaluate(
            "(e, [x, y]) => e.contains(document.elementFromPoint(x, y))", list(centre)
        )
        assert on_top, f"{name} is covered by the page after scrolling"
    # they work from there, and the page stays where it was
    _button(page, t._("Step 1 day")).click()
    _until(page, lambda: _day(page) == 8, "day 8 after Step 1 day, clicked while scrolled down")
    assert abs(page.evaluate("window.scrollY") - scrolled) < 50


@pytest.mark.timeout(240)
@each_language
def test_charts_are_large_enough_and_show_values_on_hover(
    server: str, page: Page, lang: str
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    t = _open(page, server, lang)
    _step(page, t, 7)
    charts = _five_charts(page, errors)
    for n in range(5):
        _readable(page, charts.nth(n), f"chart {n + 1} of 5")

    decimal = r"\d,\d" if lang == "id" else r"\d\.\d"
    other = r"\d\.\d" if lang == "id" else r"\d,\d"
    network = _card(page, t._("Referral network")).locator(CHART)
    indices = charts.last  # the collaboration indices, between 0 and 1
    for chart in (network, indices):
        text = _tooltip(page, chart)
        assert re.search(r"\d", text), text
        assert re.search(decimal, text), f"no decimal {decimal!r} in the tooltip: {text!r}"
        assert not re.search(other, text), f"a number in the wrong language: {text!r}"


def _pixels(chart: Locator) -> str:
    """What a drawn chart shows, as text: its canvas as a data URL, or its SVG."""
    text: str = chart.evaluate("e => e.toDataURL ? e.toDataURL() : e.outerHTML")
    return text


@pytest.mark.timeout(180)
def test_a_chart_out_of_view_waits_and_catches_up_when_scrolled_to(server: str, page: Page) -> None:
    """A step redraws only the charts in view; one below the fold shows the run once seen."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    t = _open(page, server)
    _step(page, t, 7)
    indices = _five_charts(page, errors).last  # the lowest chart on the page
    page.evaluate("window.scrollTo(0, 0)")
    box = indices.bounding_box()
    assert box is not None and box["y"] > LAPTOP["height"] + 200, box
    before = _pixels(indices)
    _step(page, t, 7)
    page.wait_for_timeout(2000)  # time enough to draw the new days, were it drawn
    assert _pixels(indices) == before, "a chart out of view was drawn anew on a step"

    indices.scroll_into_view_if_needed()
    _until(page, lambda: _pixels(indices) != before, "the chart to show days 8-14 once in view")
    seen = _pixels(indices)
    _step(page, t, 7)
    _until(page, lambda: _pixels(indices) != seen, "the chart in view to follow the next step")
    assert not errors, errors


@pytest.mark.timeout(180)
@each_language
def test_sliders_say_what_they_mean_and_the_numbers_their_norms(
    server: str, page: Page, lang: str
) -> None:
    t = _open(page, server, lang)
    controls = page.locator(".collabsim-control")
    expect(controls).to_have_count(len(CONTROLS))
    for key, c in CONTROLS.items():
        control = _control(page, t, key)
        expect(control).to_have_count(1)
        slider = control.get_by_role("slider")
        help_text = control.locator(".collabsim-help")
        expect(help_text).to_have_text(f"{t.marked(c.help)} ({t.marked(c.unit)})")
        expect(help_text).to_be_visible()
        help_box, slider_box = help_text.bounding_box(), slider.bounding_box()
        assert help_box and slider_box and help_box["y"] >= slider_box["y"] + 5, key

    norms = ("response_within_norm_share", "follow_up_within_norm_share", "stay_within_norm_share")
    rows = _headline(page, t)
    for key in norms:
        assert rows[term(key, t)][1].startswith(NORM[lang]), (key, rows[term(key, t)])
    # nothing changed yet: the baseline is this run
    for label, (value, beside) in rows.items():
        if label not in {term(k, t) for k in norms}:
            assert beside == BASELINE_BESIDE[lang] + value, (label, value, beside)

    # a setting changed: each number beside the baseline's, run in step with this one
    key = "barriers.miscommunication.intensity"
    slider = _control(page, t, key).get_by_role("slider")
    slider.focus()
    slider.press("Home")
    expect(_control(page, t, key).locator(".collabsim-label")).to_have_text(
        _control_label(t, key, 0.0)
    )
    _step(page, t, 7)
    rows = _headline(page, t)
    for label, (_value, beside) in rows.items():
        expected = NORM[lang] if label in {term(k, t) for k in norms} else BASELINE_BESIDE[lang]
        assert beside.startswith(expected), (label, beside)
        assert len(beside) > len(expected), (label, beside)
    said = t._("Baseline: the scenario as loaded, with the same seed, on the same day.")
    expect(page.get_by_text(said)).to_be_visible()


@pytest.mark.timeout(180)
@each_language
def test_a_slider_moved_mid_run_asks_first(server: str, page: Page, lang: str) -> None:
    t = _open(page, server, lang)
    key = "barriers.miscommunication.intensity"
    _step(page, t, 7)
    dialog = page.locator(".v-dialog--active")

    def move(day: int) -> None:
        slider = _control(page, t, key).get_by_role("slider")
        expect(slider).to_have_attribute("aria-valuenow", "1")
        slider.focus()
        slider.press("Home")
        expect(dialog).to_be_visible()
        expect(dialog.locator(".v-card__title")).to_have_text(ASK[lang])
        expect(dialog).to_contain_text(re.compile(rf"\b{day}\b"))

    move(7)
    _button(dialog, t._("Keep this run")).click()
    expect(dialog).to_have_count(0)
    expect(_clock(page)).to_have_text(CLOCK[lang][1])
    control = _control(page, t, key)
    expect(control.locator(".collabsim-label")).to_have_text(_control_label(t, key, 1.0))
    expect(control.get_by_role("slider")).to_have_attribute("aria-valuenow", "1")
    assert _step(page, t, 1) == 8  # the run goes on

    move(8)
    _button(dialog, t._("Start a new run")).click()
    expect(dialog).to_have_count(0)
    expect(_clock(page)).to_have_text(CLOCK[lang][0])
    control = _control(page, t, key)
    expect(control.locator(".collabsim-label")).to_have_text(_control_label(t, key, 0.0))
    expect(control.get_by_role("slider")).to_have_attribute("aria-valuenow", "0")
    assert _step(page, t, 1) == 1


# ------------------------------------------------------------------ downloads
@pytest.mark.timeout(240)
@each_language
def test_charts_and_headline_numbers_download(server: str, page: Page, lang: str) -> None:
    t = _open(page, server, lang)
    _step(page, t, 7)
    backlog = page.locator(".collabsim-downloads").nth(1)  # network, backlog, ...
    name, data = _download(page, _button(backlog, t._("CSV")))
    assert name == "backlog.csv"
    rows = _csv(data)
    assert rows[0] == ["day", t._("open cases (backlog)"), t._("jobs waiting for staff")]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 8)), rows
    name, data = _download(page, _button(backlog, t._("PNG")))
    assert name == "backlog.png"
    width, height = _png_size(data)
    assert width >= 800 and height >= 400, (width, height)  # drawn at twice the size

    name, data = _download(page, _button(_card(page, t._("Referral network")), t._("PNG")))
    assert name == "network.png" and _png_size(data)[0] >= 800

    card = page.locator(".v-card", has=page.locator("th", has_text=t._("norm or baseline")))
    name, data = _download(page, _button(card, t._("CSV")))
    assert name == "headline.csv"
    rows = _csv(data)
    assert rows[0] == ["output", "value", "norm_or_baseline"]
    shown = _headline(page, t)
    assert {r[0]: (r[1], r[2]) for r in rows[1:]} == shown


@pytest.mark.timeout(240)
@each_language
def test_the_saved_scenario_file_runs_the_same_on_the_command_line(
    server: str, page: Page, lang: str, tmp_path: Path
) -> None:
    t = _open(page, server, lang)
    seed = page.get_by_label(t._("seed (the same seed gives the same run)"))
    seed.fill("4")
    seed.press("Enter")
    expect(seed).to_have_value("4")
    values: dict[str, Any] = {}
    for key, keys in (("barriers.sop.intensity", "Home"), ("agencies.hub.staff", "ArrowRight")):
        slider = _control(page, t, key).get_by_role("slider")
        before = slider.get_attribute("aria-valuenow")
        slider.focus()
        slider.press(keys)
        expect(slider).not_to_have_attribute("aria-valuenow", before or "")
        values[key] = float(slider.get_attribute("aria-valuenow") or "nan")
    values["agencies.hub.staff"] = int(values["agencies.hub.staff"])
    expect(_clock(page)).to_have_text(CLOCK[lang][0])  # day 0: no question asked
    _step(page, t, 7)

    name, data = _download(page, _button(page, t._("Save as a scenario file")))
    assert name == "jakarta-baseline-app.toml"
    saved = tmp_path / name
    saved.write_bytes(data)
    text = data.decode("utf-8")
    command = t._("The same run as the app's: collabsim run {file} --seed {seed}")
    assert command.format(file=name, seed=4) in text, text[:500]
    # the file is the settings the app ran, in full
    in_app = Settings(str(BASELINE), seed=4, values=values).scenario()
    assert collabsim.load_scenario(saved).model_dump() == in_app.model_dump()
    assert in_app.agencies["hub"].staff == values["agencies.hub.staff"] != 22

    # and runs to the app's numbers: its first week's backlog, day by day
    _, shown = _download(page, _button(page.locator(".collabsim-downloads").nth(1), t._("CSV")))
    model = collabsim.CollaborationModel(collabsim.load_scenario(saved), seed=4)
    model.run_days(7)
    ts = model.timeseries()
    days = ts[["day", "backlog", "waiting"]].itertuples(index=False)
    expected = [[str(int(d)), str(int(b)), str(int(w))] for d, b, w in days]
    assert _csv(shown)[1:] == expected

    # the command line takes it (a short run)
    out = tmp_path / "cli"
    short = ["--days", "40", "--set", "run.warmup_days=10", "--set", "run.measure_days=20"]
    cmd = [sys.executable, "-m", "collabsim", "run", str(saved), "--seed", "4", *short]
    done = subprocess.run(
        [*cmd, "--out", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cases_arrived"] > 0, summary


# ------------------------------------------------------------------ trace a case
@pytest.mark.timeout(240)
@each_language
def test_trace_the_longest_case(server: str, page: Page, lang: str) -> None:
    t = _open(page, server, lang)
    for _ in range(9):
        _step(page, t, 7)
    assert _day(page) == 63
    _tab(page, t, "Trace a case")
    card = _card(page, t._("Trace a case"))
    picker = _select(page, card, t._("case (the {n} longest so far)").format(n=40))
    expect(picker).to_be_visible()
    days_of = re.compile(r"^#\d+ .+ \(.+, ([\d.,]+) " + re.escape(t._("days")) + r"\)$")
    label = picker.locator(".v-select__selection").inner_text().strip()
    match = days_of.match(label)
    assert match, label
    days = _number(match.group(1), lang)
    assert 0 < days <= 63

    picker.locator(".v-input__slot").click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    offered = options.all_inner_texts()
    page.keyboard.press("Escape")
    assert offered[0].strip() == label, (label, offered[:3])
    longest = max(_number(days_of.match(o.strip()).group(1), lang) for o in offered)  # type: ignore[union-attr]
    assert days == longest, (label, offered)

    chart = card.locator(CHART)
    expect(chart).to_be_visible()
    _readable(page, chart, "the chart")

    header = page.locator("th", has_text=re.compile(f"^{re.escape(t._('where the days went'))}$"))
    table = card.locator("table", has=header)
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    total = rows.last
    cells = total.locator("td")
    expect(cells.nth(0).locator("strong")).to_have_text(t._("all the days of the case"))
    total_days = _number(cells.nth(1).locator("strong").inner_text(), lang)
    assert abs(total_days - days) <= 0.5 + 0.05, (total_days, label)
    phases = [_number(r.locator("td").nth(1).inner_text(), lang) for r in rows.all()[:-1]]
    assert len(phases) >= 2
    assert abs(sum(phases) - total_days) <= 0.05 * len(phases) + 0.05, (phases, total_days)


# ------------------------------------------------------------------ experiments
@pytest.mark.timeout(420)
def test_compare_scenarios_with_progress_a_table_a_chart_and_a_brief(
    server: str, page: Page
) -> None:
    t = _open(page, server, "en")
    _tab(page, t, "Compare scenarios")
    card = _card(page, t._("Compare scenarios"))
    expect(card).to_contain_text("jakarta-baseline.toml, seed 1")
    _choose(page, card, t._("B"), "jackson-network.toml")  # a small network: fast
    _choose(page, card, t._("paired replications"), "3")
    traffic = Traffic(page)
    _button(card, t._("Run {n} paired replications").format(n=3)).click()
    expect(card.locator(".v-progress-linear")).to_be_visible()
    expect(card.get_by_text(re.compile(r"^[1-5] of 6 runs done$"))).to_be_visible(timeout=180_000)

    header = page.locator("th", has_text=re.compile(f"^{re.escape(t._('95% CI'))}$"))
    table = card.locator("table", has=header)
    expect(table).to_be_visible(timeout=240_000)
    expect(card.locator(".v-progress-linear")).to_have_count(0)
    heads = table.locator("thead th").all_inner_texts()
    assert [h.strip() for h in heads] == [t._("output"), "A", "B", "B - A", t._("95% CI")]
    rows = table.locator("tbody tr")
    assert rows.count() >= 5
    first = [c.strip() for c in rows.first.locator("td").all_inner_texts()]
    assert first[0] == term("handling_days_median", t), first
    a, b, diff = (_number(v, "en") for v in first[1:4])
    assert abs((b - a) - diff) <= 0.011, first
    assert re.fullmatch(r"-?[\d,.]+ … -?[\d,.]+", first[4]), first
    chart = card.locator(CHART)
    expect(chart).to_be_visible()
    _readable(page, chart, "the chart")

    name, data = _download(page, _button(card, t._("Policy brief (PDF)")), timeout=240_000)
    assert name == "brief.pdf" and data[:5] == b"%PDF-", data[:20]
    assert not traffic.failed and not traffic.errors, (traffic.failed, traffic.errors)


@pytest.mark.timeout(600)
def test_explore_uncertainty_in_the_background(server: str, page: Page) -> None:
    lang = "id"  # the comparison runs in English
    t = _open(page, server, lang)
    _tab(page, t, "Explore uncertainty")
    card = _card(page, t._("Explore uncertainty"))
    chosen = _select(page, card, t._("interventions"))
    chosen.locator(".v-input__slot").click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    for n in range(options.count()):  # keep integrated-centre only
        option = options.nth(n)
        selected = option.get_attribute("aria-selected") == "true"
        if selected != (option.inner_text().strip() == "integrated-centre.toml"):
            option.click()
    page.keyboard.press("Escape")
    expect(chosen.locator(".v-select__selection")).to_have_text("integrated-centre.toml")
    _choose(page, card, t._("futures"), "3")
    traffic = Traffic(page)
    _button(card, t._("Run {n} futures").format(n=3)).click()
    expect(card.locator(".v-progress-linear")).to_be_visible()
    done = t._("{done} of {total} runs done").format(done="[1-5]", total="6")
    expect(card.get_by_text(re.compile(f"^{done}$"))).to_be_visible(timeout=300_000)

    header = page.locator("th", has_text=re.compile(f"^{re.escape(t._('intervention'))}$"))
    table = card.locator("table", has=header)
    expect(table).to_be_visible(timeout=400_000)
    policies = [r.strip() for r in table.locator("tbody tr td:first-child").all_inner_texts()]
    assert "integrated-centre" in policies, policies
    effect = table.locator("tbody tr", has_text="integrated-centre").locator("td").nth(1)
    assert re.fullmatch(r"-?[\d.]+,\d\d", effect.inner_text().strip()), effect.inner_text()
    chart = card.locator(CHART)
    expect(chart).to_be_visible()
    _readable(page, chart, "the chart")

    name, data = _download(page, _button(card, t._("Policy brief (PDF)")), timeout=240_000)
    assert name == "brief.pdf" and data[:5] == b"%PDF-", data[:20]
    assert not traffic.failed and not traffic.errors, (traffic.failed, traffic.errors)


# ------------------------------------------------------------------ sessions
@pytest.mark.timeout(180)
def test_sessions_are_isolated(server: str, browser: Browser) -> None:
    t = T["en"]
    ctx_a = _new_context(browser)
    ctx_b = _new_context(browser)
    try:
        page_a = ctx_a.new_page()
        page_b = ctx_b.new_page()
        _open(page_a, server)
        _open(page_b, server)

        _step(page_a, t, 7)
        _step(page_a, t, 7)
        page_b.wait_for_timeout(1000)  # give a (wrongly) shared model time to show up in B
        assert _day(page_b) == 0

        assert _step(page_b, t, 1) == 1
        page_a.wait_for_timeout(1000)
        assert _day(page_a) == 14

        # a fresh page in A's context is a new session too: it starts at day 0
        page_a2 = ctx_a.new_page()
        _open(page_a2, server)
        assert _day(page_a2) == 0
        assert _day(page_a) == 14
    finally:
        ctx_a.close()
        ctx_b.close()


# ------------------------------------------------------------------ uploads
def _drop(page: Page, path: Path) -> None:
    """Drop the file ``path`` on the scenario file drop, through Chromium's drag and drop input.

    (Solara's FileDrop has no file input: it reads what is dropped on it.)
    """
    zone = page.locator(".solara-file-drop")
    zone.scroll_into_view_if_needed()
    box = zone.bounding_box()
    assert box is not None
    at = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
    data = {"items": [], "files": [str(path)], "dragOperationsMask": 1}
    cdp = page.context.new_cdp_session(page)
    for kind in ("dragEnter", "dragOver", "drop"):
        cdp.send("Input.dispatchDragEvent", {"type": kind, **at, "data": data})
    cdp.detach()


def _alert(page: Page) -> Locator:
    return _card(page, T["en"]._("Scenario")).locator(".v-alert")


@pytest.mark.timeout(180)
def test_an_uploaded_scenario_rebuilds_the_model(server: str, page: Page, tmp_path: Path) -> None:
    upload = tmp_path / "my-hub.toml"
    upload.write_text(
        'extends = "jakarta-baseline.toml"\nname = "My hub"\n'
        "[agencies.hub]\nstaff = 7\n[barriers.miscommunication]\nintensity = 0.35\n"
    )
    t = _open(page, server)
    _step(page, t, 7)
    _drop(page, upload)
    dialog = page.locator(".v-dialog--active")
    expect(dialog).to_contain_text(ASK["en"])  # mid-run: it asks first
    _button(dialog, t._("Start a new run")).click()
    expect(_clock(page)).to_have_text(CLOCK["en"][0])
    for key, value in (("barriers.miscommunication.intensity", 0.35), ("agencies.hub.staff", 7)):
        expect(_control(page, t, key).locator(".collabsim-label")).to_have_text(
            _control_label(t, key, value)
        )
    picker = _select(page, _card(page, t._("Scenario")), t._("scenario file"))
    expect(picker.locator(".v-select__selection")).to_have_text("my-hub.toml (uploaded)")
    expect(_alert(page)).to_have_count(0)
    assert _step(page, t, 7) == 7  # the rebuilt model runs


BAD_UPLOADS = {
    "picture.toml": (PNG_SIGNATURE + b"\x00\x00\x00\rIHDR", "file: not UTF-8"),
    "escape.toml": (b'extends = "../../../../etc/passwd"\n', "extends: must name a file"),
    "broken.toml": (b'[run\ndays = "a secret"\n', "TOML syntax error on line 1"),
}


def _clean_error(page: Page, name: str, problem: str) -> None:
    alert = _alert(page)
    expect(alert).to_contain_text(f"{name}: invalid scenario")
    expect(alert).to_contain_text(problem)
    text = alert.inner_text()
    for leak in ("Traceback", "IHDR", "passwd", "a secret", 'File "'):
        assert leak not in text, text
    expect(page.get_by_text("Traceback")).to_have_count(0)


@pytest.mark.timeout(180)
def test_a_bad_upload_shows_a_clean_error(server: str, page: Page, tmp_path: Path) -> None:
    t = _open(page, server)
    for name, (content, problem) in BAD_UPLOADS.items():
        (tmp_path / name).write_bytes(content)
        _drop(page, tmp_path / name)
        _clean_error(page, name, problem)
    # the model is kept
    picker = _select(page, _card(page, t._("Scenario")), t._("scenario file"))
    expect(picker.locator(".v-select__selection")).to_have_text("jakarta-baseline.toml")
    assert _step(page, t, 7) == 7


def _answered(page: Page, name: str) -> bool:
    """Whether the app has answered the drop of ``name``: with its error or with a question."""
    if page.locator(".v-dialog--active").count():
        return True
    return any(f"{name}: invalid" in text for text in _alert(page).all_inner_texts())


@pytest.mark.timeout(180)
def test_a_bad_upload_mid_run_shows_its_error_and_keeps_the_run(
    server: str, page: Page, tmp_path: Path
) -> None:
    t = _open(page, server)
    _step(page, t, 7)
    dialog = page.locator(".v-dialog--active")
    for name in ("picture.toml", "broken.toml"):
        content, problem = BAD_UPLOADS[name]
        (tmp_path / name).write_bytes(content)
        _drop(page, tmp_path / name)
        _until(page, partial(_answered, page, name), f"an error for {name}, or a question")
        assert dialog.count() == 0, (
            f"dropping {name}, a file the app cannot load, asks {ASK['en']!r} (discard the run) "
            "instead of showing its error"
        )
        _clean_error(page, name, problem)
        assert _day(page) == 7


# ------------------------------------------------------------- idle sessions
IDLE_MINUTES = 0.05  # 3 s, so the test need not wait long
SESSIONS = 8


def _rss_mib(pid: int) -> float:
    """The resident memory of process ``pid``, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


@pytest.mark.timeout(600)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_idle_sessions_are_dropped_and_give_memory_back(browser: Browser, tmp_path: Path) -> None:
    t = T["en"]
    with _serve(tmp_path, "--idle-minutes", str(IDLE_MINUTES)) as (url, proc):
        warm = _new_context(browser)  # the first session imports and caches what all share
        page = warm.new_page()
        _open(page, url)
        _step(page, t, 7)
        warm.close()
        time.sleep(IDLE_MINUTES * 60 + 8)
        before = _rss_mib(proc.pid)

        contexts = []
        for _ in range(SESSIONS):
            context = _new_context(browser)
            # a tab that goes away without saying goodbye (crash, sleep, lost network):
            # only the idle timeout can drop its session
            context.add_init_script("navigator.sendBeacon = () => true;")
            page = context.new_page()
            _open(page, url)
            for _ in range(5):
                _step(page, t, 7)
            contexts.append(context)
        busy = _rss_mib(proc.pid)
        for context in contexts:
            context.close()
        added = busy - before
        target = busy - added / 2
        deadline = time.monotonic() + IDLE_MINUTES * 60 + 90
        while (after := _rss_mib(proc.pid)) > target and time.monotonic() < deadline:
            time.sleep(1)
        report = f"RSS {before:.0f} MiB, {busy:.0f} with {SESSIONS} sessions, {after:.0f} after"
        print(report)
        assert added > 30, f"{SESSIONS} sessions added too little to measure: {report}"
        assert after <= target, f"closed sessions gave back less than half: {report}"


# ------------------------------------------------------------- other sites
def _ws_handshake(url: str, origin: str | None, host: str | None = None) -> str:
    """The status line the app answers a websocket handshake with."""
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET /jupyter/api/kernels/{os.urandom(8).hex()}/channels?session_id=t HTTP/1.1",
        f"Host: {host or parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *([f"Origin: {origin}"] if origin else []),
    ]
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return sock.recv(200).split(b"\r\n")[0].decode()


@pytest.mark.timeout(120)
def test_another_sites_page_cannot_drive_the_app(server: str) -> None:
    own = server.rstrip("/")
    assert _ws_handshake(server, "http://evil.example").endswith("403 Forbidden")
    assert _ws_handshake(server, "http://evil.example", host="evil.example:80").endswith(
        "403 Forbidden"
    )
    assert _ws_handshake(server, own).endswith("101 Switching Protocols")
    request = urllib.request.Request(server, headers={"Origin": "http://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    rebinding = urllib.request.Request(server, headers={"Host": "evil.example"})  # DNS rebinding
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(rebinding, timeout=30)
    assert refused.value.code == 403
    with urllib.request.urlopen(urllib.request.Request(server, headers={"Origin": own})) as ok:
        assert ok.status == 200
