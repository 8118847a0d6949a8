"""The browser app under load: several sessions stepping at once (run on demand, never a test).

Usage: .venv/bin/python benchmarks/app_load.py [--sessions 1 8] [--clicks 20] [--after 30 150]

Starts ``python -m collabsim ui`` on a free loopback port, opens SESSIONS
browser sessions (contexts of one headless Debian Chromium, each its own app
session), then has all of them click "Step 1 day" CLICKS times at once, each
session clicking again as soon as its clock shows the new day. It reports the
time from each click to the clock showing the new day (measured in the page:
from the click to the DOM change) over all clicks, and the server's resident
memory (VmRSS of its process tree): fresh, after one warm-up session has come
and gone, at the peak while the sessions run, and AFTER seconds after they
all closed (one reading per AFTER value), and the CPU the server and the rest
of the machine used while stepping. Targets: p95 <= 1 s with 8 sessions
stepping at once; memory back near its start after the sessions close.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.chromium import CHROMIUM, CHROMIUM_ARGS, LAPTOP  # noqa: E402

TIMEOUT = 120_000  # ms, for opening a page

# Click "Step 1 day" and resolve with the milliseconds until the clock shows ``day``
# (-1 after 60 s); the bar is observed, since the clock may be replaced, not edited.
CLICK = """async (day) => {
    const bar = document.querySelector('.collabsim-bar');
    const clock = () => (bar.querySelector('.collabsim-clock') || {}).textContent || '';
    const want = 'Day ' + day.toLocaleString('en-US') + ' of';
    const button = [...bar.querySelectorAll('button')]
        .find((b) => b.textContent.trim() === 'Step 1 day');
    return await new Promise((resolve) => {
        const start = performance.now();
        const done = (ms) => { observer.disconnect(); clearTimeout(timer); resolve(ms); };
        const observer = new MutationObserver(() => {
            if (clock().startsWith(want)) done(performance.now() - start);
        });
        observer.observe(bar, {subtree: true, childList: true, characterData: true});
        const timer = setTimeout(() => done(-1), 60000);
        button.click();
    });
}"""


# ------------------------------------------------------------------ the server
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(parents.get(p, []))
    return tree


def rss_mib(pid: int) -> float:
    """The resident memory of ``pid``'s process tree (VmRSS summed), in MiB."""
    total = 0
    for p in _children(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) of ``pid``'s process tree so far, in seconds."""
    ticks = 0
    for p in _children(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """The CPU time every core of the machine has spent busy so far, in seconds."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Peak(threading.Thread):
    """Samples a process tree's RSS every 0.2 s; ``peak`` is the highest seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            self.stop.wait(0.2)


def start_server(log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, COLLABSIM_LANG="en")
    cmd = [sys.executable, "-m", "collabsim", "ui", "--port", str(port), "--host", "127.0.0.1"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return url, proc
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    stop_server(proc)
    raise SystemExit(f"the app did not answer on {url}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ------------------------------------------------------------------ the sessions
async def open_session(browser: Browser, url: str) -> tuple[BrowserContext, Page, float]:
    """A new context and page showing the app at day 0; the seconds it took."""
    start = time.perf_counter()
    context = await browser.new_context(viewport=LAPTOP)
    page = await context.new_page()
    await page.goto(url)
    clock = page.locator(".collabsim-clock")
    await clock.filter(has_text="Day 0 of").wait_for(timeout=TIMEOUT)
    await page.locator(".vega-embed").first.wait_for(timeout=TIMEOUT)
    return context, page, time.perf_counter() - start


async def step(page: Page, clicks: int, go: asyncio.Event) -> list[float]:
    """Click "Step 1 day" ``clicks`` times, each once the clock shows the last click's day."""
    await go.wait()
    times = []
    for day in range(1, clicks + 1):
        ms = await page.evaluate(CLICK, day)
        if ms < 0:
            raise SystemExit(f"the clock did not show day {day} within 60 s")
        times.append(ms / 1000)
    return times


async def measure(sessions: int, clicks: int, after: list[float], log: Path) -> dict[str, object]:
    url, proc = start_server(log)
    try:
        fresh = rss_mib(proc.pid)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            # a warm-up session imports and caches what every session shares; then goes
            context, page, _ = await open_session(browser, url)
            await step(page, 3, _set(asyncio.Event()))
            await context.close()
            await asyncio.sleep(10)
            warm = rss_mib(proc.pid)

            peak = Peak(proc.pid)
            peak.start()
            opened = [await open_session(browser, url) for _ in range(sessions)]
            go = asyncio.Event()
            tasks = [asyncio.create_task(step(p, clicks, go)) for _, p, _ in opened]
            began, cpu0, busy0 = time.perf_counter(), cpu_seconds(proc.pid), machine_busy_seconds()
            go.set()
            times = [t for per in await asyncio.gather(*tasks) for t in per]
            wall = time.perf_counter() - began
            server_cpu = cpu_seconds(proc.pid) - cpu0
            other_cpu = machine_busy_seconds() - busy0 - server_cpu
            for context, _, _ in opened:
                await context.close()
            closed = time.perf_counter()
            peak.stop.set()
            peak.join()
            later = []
            for wait in after:
                await asyncio.sleep(max(0.0, closed + wait - time.perf_counter()))
                later.append(rss_mib(proc.pid))
            await browser.close()
    finally:
        stop_server(proc)
    arr = np.array(times)
    return {
        "sessions": sessions,
        "clicks": len(arr),
        "open_s": max(o for _, _, o in opened),
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "max": float(arr.max()),
        "days_per_s": len(arr) / wall,
        "server_cpu": 100 * server_cpu / wall,
        "other_cpu": 100 * other_cpu / wall,
        "fresh": fresh,
        "warm": warm,
        "peak": peak.peak,
        "after": later,
    }


def _set(event: asyncio.Event) -> asyncio.Event:
    event.set()
    return event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[8], help="e.g. 1 8")
    parser.add_argument("--clicks", type=int, default=20, help="Step 1 day clicks per session")
    parser.add_argument(
        "--after", type=float, nargs="+", default=[30, 150], help="seconds after closing"
    )
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    rows = []
    for n in args.sessions:
        log = Path(f"/tmp/collabsim-app-load-{n}.log")
        rows.append(asyncio.run(measure(n, args.clicks, args.after, log)))
    print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    print()
    after = " ".join(f"{f'{a:g} s after':>11}" for a in args.after)
    print(
        f"{'sessions':>8} {'clicks':>6} {'open s':>7} {'p50 s':>6} {'p95 s':>6} {'max s':>6}"
        f" {'days/s':>7} {'server CPU':>10} {'other CPU':>9} |"
        f" RSS MiB: {'fresh':>6} {'warm':>6} {'peak':>6} {after}"
    )
    for r in rows:
        later = " ".join(f"{m:>11.0f}" for m in r["after"])  # type: ignore[attr-defined]
        print(
            f"{r['sessions']:>8} {r['clicks']:>6} {r['open_s']:>7.1f} {r['p50']:>6.2f}"
            f" {r['p95']:>6.2f} {r['max']:>6.2f} {r['days_per_s']:>7.1f}"
            f" {r['server_cpu']:>9.0f}% {r['other_cpu']:>8.0f}% |"
            f"          {r['fresh']:>6.0f} {r['warm']:>6.0f} {r['peak']:>6.0f} {later}"
        )
    print()
    print("p50/p95/max: from a click on Step 1 day to that session's clock showing the new day.")
    print("open s: the slowest session to show its clock and first chart (opened one by one).")
    print("days/s: all sessions' clicks per second of wall time while stepping together.")
    cores = os.cpu_count()
    print(f"CPU: while stepping; 100% = one core of {cores}; other = the rest of the machine")
    print("  (mostly Chromium drawing the pages).")
    print("RSS: the server's process tree; warm = after a warm-up session came and went.")
    print(
        "  The app drops a closed tab's session at once, one gone silent after --idle-minutes (2)."
    )
    print("target: p95 <= 1 s with 8 sessions stepping at once; RSS after near warm.")
    sessions = " ".join(str(n) for n in args.sessions)
    print(
        f"reproduce: .venv/bin/python benchmarks/app_load.py --sessions {sessions}"
        f" --clicks {args.clicks} --after {' '.join(f'{a:g}' for a in args.after)}"
    )


if __name__ == "__main__":
    main()
