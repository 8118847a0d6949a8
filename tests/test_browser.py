"""The browser app in a real browser: start ``collabsim ui`` and drive it with Chromium.

These tests start the app as a user would (``python -m collabsim ui``) on a free
loopback port and drive Debian's Chromium through Playwright. Without
/usr/bin/chromium they are skipped, except on CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import base64
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
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from solara.server.settings import assets

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ON_CI = bool(os.environ.get("CI"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 60.0  # seconds until GET / answers
CDN_CACHE = Path(assets.proxy_cache_dir)  # what tools/fetch-solara-assets fills
CDN_PATH = "/_solara/cdn/"
RENDER_INTERVAL = 5  # steps per Step click and per drawn frame (app/page.py's SolaraViz call)
UI_TIMEOUT = 45_000  # ms: each render draws matplotlib figures; the machine may be slow

if not ON_CI:
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

expect.set_options(timeout=UI_TIMEOUT)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() and not ON_CI, reason=f"{CHROMIUM} is not installed"),
]


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
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT)
    return context


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (its own cookies, so its own app session)."""
    ctx = _new_context(browser)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# ------------------------------------------------------------------ helpers
def _open(page: Page, url: str) -> None:
    """Load the app and wait until the first page's cards and their figures are there."""
    page.goto(url)
    expect(_card(page, "Referral network")).to_be_visible(timeout=60_000)
    expect(_card(page, "Key numbers")).to_be_visible()
    expect(_card(page, "Live charts").locator("img")).to_be_visible()
    expect(_day_cell(page)).to_have_text(re.compile(r"^\s*\d+\s*$"))


def _card(page: Page, title: str) -> Locator:
    """The card whose title is ``title``."""
    title_el = page.locator(".v-card__title", has_text=title)
    return page.locator(".v-card", has=title_el).last


def _day_cell(page: Page) -> Locator:
    """The value cell of the "day" row in Key numbers."""
    day = page.get_by_role("cell", name="day", exact=True)
    row = _card(page, "Key numbers").get_by_role("row").filter(has=day)
    return row.get_by_role("cell").nth(1)


def _day(page: Page) -> int:
    return int(_day_cell(page).inner_text().strip().replace(",", ""))


def _until(page: Page, condition: Callable[[], bool], what: str, timeout: float = 45) -> None:
    """Poll ``condition`` (letting the page run) until it holds, or fail with ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for: {what}")
        page.wait_for_timeout(100)


def _step(page: Page) -> int:
    """Click Step and wait for the new day; return it."""
    before = _day(page)
    step = page.get_by_role("button", name="Step", exact=True)
    expect(step).to_be_enabled()
    step.click()
    _until(page, lambda: _day(page) > before, f"the day to pass {before} after Step")
    return _day(page)


def _settled_day(page: Page, quiet: float = 1.0, timeout: float = 20) -> int:
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


def _img_src(locator: Locator) -> str:
    return locator.first.get_attribute("src") or ""


# ------------------------------------------------------------------ tests
class Traffic:
    """What a page asked for and what went wrong: requests, failures, JavaScript errors."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("websocket", lambda ws: self.urls.append(ws.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
        page.on(
            "response", lambda r: r.status >= 400 and self.failed.append(f"{r.url}: {r.status}")
        )
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))

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
        assert any(path.endswith("/mermaid.min.js") for path in cdn), sorted(cdn)
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


@pytest.mark.timeout(300)
def test_every_page_renders_offline(server: str, page: Page, tmp_path: Path) -> None:
    traffic = Traffic(page)
    _open(page, server)
    page.wait_for_load_state("networkidle")
    for title in ("Scenario", "Controls", "Referral network", "Live charts", "Key numbers"):
        expect(_card(page, title)).to_be_visible()
    expect(page.get_by_text("miscommunication: 1.00", exact=True)).to_be_visible()
    assert _day(page) == 0

    # page 0 after stepping, with every layout and colouring of the network
    for _ in range(3):
        _step(page)
    network = _card(page, "Referral network").locator("img")
    for option in ("kind", "spring", "backlog"):
        before = _img_src(network)
        page.get_by_role("button", name=option, exact=True).click()
        _until(page, lambda before=before: _img_src(network) != before, f"the {option} network")
    shot = tmp_path / "app.png"
    page.screenshot(path=str(shot), full_page=True)

    # page 1 with a case chosen
    page.get_by_role("tab", name="PAGE 1").click()
    tracer = _card(page, "Case tracer")
    tracer.get_by_role("button", name="case (the 40 longest so far)").click()
    page.get_by_role("option").first.click()
    expect(tracer.get_by_role("columnheader", name="where days were lost")).to_be_visible()
    expect(tracer.locator("img")).to_be_visible()

    # page 2 after a comparison
    page.get_by_role("tab", name="PAGE 2").click()
    compare = _card(page, "Compare two scenarios")
    compare.get_by_role("button", name="Run comparison").click()
    expect(compare.get_by_role("columnheader", name=re.compile(r"^B: "))).to_be_visible(
        timeout=90_000
    )
    expect(compare.locator("img")).to_be_visible()
    page.get_by_role("tab", name="PAGE 0").click()
    expect(_card(page, "Key numbers")).to_be_visible()
    page.wait_for_load_state("networkidle")
    traffic.check()

    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width >= 1000 and height >= 600, (width, height)
    assert len(data) > 30_000, f"screenshot suspiciously small: {len(data)} bytes"


@pytest.mark.timeout(180)
def test_step_play_pause(server: str, page: Page) -> None:
    _open(page, server)
    charts = _card(page, "Live charts").locator("img")
    start = _day(page)
    assert start == 0

    after_step = _step(page)
    assert after_step == start + RENDER_INTERVAL  # one Step click runs a render interval
    src_before_play = _img_src(charts)
    assert src_before_play

    page.get_by_role("button", name="▶", exact=True).click()
    pause = page.get_by_role("button", name="❚❚", exact=True)
    expect(pause).to_be_visible()
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_disabled()
    _until(page, lambda: _day(page) >= after_step + 10, "the day to advance while playing")
    shown_at_pause = _day(page)
    pause.click()
    expect(page.get_by_role("button", name="▶", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled()

    # the batch of steps in flight when pausing still finishes and is drawn (late on a
    # loaded machine): wait for the day to settle, then it must stay put
    paused_day = _settled_day(page)
    assert paused_day >= after_step + 10
    assert paused_day - shown_at_pause <= 4 * RENDER_INTERVAL, "pause was late"
    assert _img_src(charts) != src_before_play, "the live charts did not change while playing"
    page.wait_for_timeout(1200)
    assert _day(page) == paused_day, "the model kept running after pause"


@pytest.mark.timeout(180)
def test_barrier_slider_rebuilds_model(server: str, page: Page) -> None:
    _open(page, server)
    assert _step(page) > 0

    slider = page.get_by_role("slider", name="miscommunication: 1.00")
    slider.focus()
    slider.press("Home")

    expect(page.get_by_text("miscommunication: 0.00", exact=True)).to_be_visible()
    moved = page.get_by_role("slider", name="miscommunication: 0.00")
    expect(moved).to_have_attribute("aria-valuenow", "0")
    _until(page, lambda: _day(page) == 0, "the model to be rebuilt (day back to 0)")
    # the other barriers keep their values
    expect(page.get_by_text("task duplication: 1.00", exact=True)).to_be_visible()
    # the rebuilt model runs
    assert _step(page) > 0


@pytest.mark.timeout(180)
def test_case_tracer(server: str, page: Page) -> None:
    _open(page, server)
    for _ in range(3):
        _step(page)

    page.get_by_role("tab", name="PAGE 1").click()
    tracer = _card(page, "Case tracer")
    expect(tracer).to_be_visible()
    expect(tracer.get_by_text("Choose a case to see its referral trail.")).to_be_visible()

    tracer.get_by_role("button", name="case (the 40 longest so far)").click()
    first = page.get_by_role("option").first
    expect(first).to_be_visible()
    label = first.inner_text().strip()
    assert re.match(r"^#\d+ ", label), label
    first.click()

    expect(tracer.get_by_text(label, exact=True)).to_be_visible()
    expect(tracer.get_by_role("columnheader", name="where days were lost")).to_be_visible()
    expect(tracer.get_by_role("cell", name="waiting for staff", exact=True)).to_be_visible()
    figure = tracer.locator("img")
    expect(figure).to_have_count(1)
    expect(figure).to_be_visible()
    assert _img_src(figure).startswith(("blob:", "data:image/png"))
    expect(tracer.get_by_text(re.compile(r"^Plan: "))).to_be_visible()


@pytest.mark.timeout(180)
def test_compare_scenarios(server: str, page: Page) -> None:
    _open(page, server)
    page.get_by_role("tab", name="PAGE 2").click()
    compare = _card(page, "Compare two scenarios")
    expect(compare).to_be_visible()
    expect(compare.get_by_text("A: the current model's scenario")).to_be_visible()

    compare.get_by_role("button", name="Run comparison").click()
    header_a = compare.get_by_role("columnheader", name=re.compile(r"^A: "))
    header_b = compare.get_by_role("columnheader", name=re.compile(r"^B: "))
    expect(header_a).to_be_visible(timeout=60_000)
    expect(header_b).to_be_visible()
    expect(compare.get_by_role("columnheader", name="output", exact=True)).to_be_visible()
    assert len(compare.get_by_role("row").all()) > 5
    figure = compare.locator("img")
    expect(figure).to_be_visible()
    assert _img_src(figure).startswith(("blob:", "data:image/png"))


@pytest.mark.timeout(180)
def test_sessions_are_isolated(server: str, browser: Browser) -> None:
    ctx_a = _new_context(browser)
    ctx_b = _new_context(browser)
    try:
        page_a = ctx_a.new_page()
        page_b = ctx_b.new_page()
        _open(page_a, server)
        _open(page_b, server)

        for _ in range(3):
            _step(page_a)
        day_a = _day(page_a)
        assert day_a > 0
        page_b.wait_for_timeout(1000)  # give a (wrongly) shared model time to show up in B
        assert _day(page_b) == 0

        day_b = _step(page_b)
        assert day_b == RENDER_INTERVAL < day_a
        page_a.wait_for_timeout(1000)
        assert _day(page_a) == day_a

        # a fresh page in A's context is a new session too: it starts at day 0
        page_a2 = ctx_a.new_page()
        _open(page_a2, server)
        assert _day(page_a2) == 0
        assert _day(page_a) == day_a
    finally:
        ctx_a.close()
        ctx_b.close()


# ------------------------------------------------------------------ uploads
def _drop(page: Page, path: Path) -> None:
    """Drop the file ``path`` on the scenario file drop, through Chromium's drag and drop input."""
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
    return _card(page, "Scenario").locator(".v-alert")


@pytest.mark.timeout(180)
def test_an_uploaded_scenario_rebuilds_the_model(server: str, page: Page, tmp_path: Path) -> None:
    upload = tmp_path / "my-hub.toml"
    upload.write_text(
        'extends = "jakarta-baseline.toml"\nname = "My hub"\n'
        "[agencies.hub]\nstaff = 7\n[barriers.miscommunication]\nintensity = 0.35\n"
    )
    _open(page, server)
    assert _step(page) > 0
    _drop(page, upload)
    _until(page, lambda: _day(page) == 0, "the model to be rebuilt (day back to 0)")
    expect(page.get_by_text("miscommunication: 0.35", exact=True)).to_be_visible()
    expect(page.get_by_text("hub staff: 7", exact=True)).to_be_visible()
    expect(page.get_by_text("my-hub.toml (uploaded)", exact=True)).to_be_visible()
    expect(_alert(page)).to_have_count(0)
    assert _step(page) > 0  # the rebuilt model runs


@pytest.mark.timeout(180)
def test_a_bad_upload_shows_a_clean_error(server: str, page: Page, tmp_path: Path) -> None:
    _open(page, server)
    day = _step(page)
    bad = {
        "picture.toml": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "file: not UTF-8"),
        "escape.toml": (b'extends = "../../../../etc/passwd"\n', "extends: must name a file"),
        "broken.toml": (b'[run\ndays = "a secret"\n', "TOML syntax error on line 1"),
    }
    for name, (content, problem) in bad.items():
        (tmp_path / name).write_bytes(content)
        _drop(page, tmp_path / name)
        alert = _alert(page)
        expect(alert).to_contain_text(f"{name}: invalid scenario")
        expect(alert).to_contain_text(problem)
        text = alert.inner_text()
        for leak in ("Traceback", "IHDR", "passwd", "a secret", 'File "'):
            assert leak not in text, text
    assert _day(page) == day  # the running model is kept
    expect(page.get_by_text("jakarta-baseline.toml", exact=True)).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)


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
    with _serve(tmp_path, "--idle-minutes", str(IDLE_MINUTES)) as (url, proc):
        warm = _new_context(browser)  # the first session imports and caches what all share
        page = warm.new_page()
        _open(page, url)
        _step(page)
        warm.close()
        time.sleep(IDLE_MINUTES * 60 + 5)
        before = _rss_mib(proc.pid)

        contexts = []
        for _ in range(SESSIONS):
            context = _new_context(browser)
            # a tab that goes away without saying goodbye (crash, sleep, lost network):
            # only the idle timeout can drop its session
            context.add_init_script("navigator.sendBeacon = () => true;")
            page = context.new_page()
            _open(page, url)
            for _ in range(3):
                _step(page)
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
        assert added > 40, f"{SESSIONS} sessions added too little to measure: {report}"
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
