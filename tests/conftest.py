"""Shared fixtures (paths, cached runs) and two rules for the whole suite.

* On CI (``CI`` set) nothing may be skipped: a skip is reported as a failure.
* No test may fork from a multi-threaded process. CPython warns of it
  (``DeprecationWarning: This process ... is multi-threaded, use of fork() may
  lead to deadlocks in the child``) but clears the exception that an ``error``
  warnings filter raises there, so pyproject.toml makes pytest record the
  warning every time and the hooks below fail the run, naming the tests.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import collabsim
from collabsim.api import RunResult

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "jakarta-baseline.toml"


@functools.cache
def cached_run(path: str, seed: int, overrides: tuple[tuple[str, object], ...] = ()) -> RunResult:
    """Run once per (scenario, seed, overrides) for the whole session."""
    return collabsim.run(path, seed, overrides=dict(overrides))


@pytest.fixture
def baseline() -> Path:
    return BASELINE


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On CI (``CI`` set) nothing may be skipped: a skip is reported as a failure."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped on CI, where every test must run: {report.longrepr}"


_FORK_WARNING = re.compile(r"This process .*is multi-threaded, use of fork\(\)")
_forked: dict[str, None] = {}  # node ids, in order


def pytest_warning_recorded(warning_message: warnings.WarningMessage, nodeid: str) -> None:
    """Note the test that forked from a multi-threaded process."""
    message = warning_message.message
    if isinstance(message, DeprecationWarning) and _FORK_WARNING.match(str(message)):
        _forked[nodeid or "(outside any test)"] = None


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A run with such a fork fails, even if every test passed."""
    if _forked and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List the tests that forked from a multi-threaded process."""
    if _forked:
        terminalreporter.section("fork() from a multi-threaded process", red=True)
        for nodeid in _forked:
            terminalreporter.line(nodeid)


def ctrl_c_enabled() -> None:
    """``preexec_fn`` for a child that must take Ctrl-C: a shell's background job ignores it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
