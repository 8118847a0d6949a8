"""Working time: when staff work, and how long a piece of work takes on the clock.

Work is measured in staff-days of eight working hours. An office agency's
staff work its office hours on working days (Monday to Friday, not public
holidays or collective leave); a 24-hour agency's staff on duty work every
hour (their ``staff`` is the number on duty at any time, on shifts). Staff
leave takes a share of everyone's working time. Stays (a bed in a safe house
or shelter) and waits (a test result, an investigation) run on the calendar
clock. Day 0 is Monday 1 January (as 2024); holidays repeat every 365 days.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from typing import Literal, Protocol

from collabsim.scenario import Calendar

__all__ = [
    "Clockwork",
    "Continuous",
    "OfficeHours",
    "RoundTheClock",
    "round_the_clock",
    "working_time",
]

Hours = Literal["office", "24h"]


class Clockwork(Protocol):
    """How a pool of servers turns work (staff-days) into time on the clock (days).

    Attributes:
        always_open: work taken at any time begins at once (``opens(t) == t``).
    """

    always_open: bool

    def finish(self, start: float, work: float) -> float:
        """When work started at ``start`` is done."""
        ...

    def worked(self, t0: float, t1: float) -> float:
        """Staff-days one server can work between two times."""
        ...

    def opens(self, t: float) -> float:
        """The first working time at or after ``t`` (when work taken at ``t`` begins)."""
        ...


class Continuous:
    """No calendar: one staff-day of work takes one day (the queueing-network reading)."""

    always_open = True

    def finish(self, start: float, work: float) -> float:
        """``start + work``."""
        return start + work

    def worked(self, t0: float, t1: float) -> float:
        """``t1 - t0``."""
        return max(0.0, t1 - t0)

    def opens(self, t: float) -> float:
        """Always working: ``t``."""
        return t


class RoundTheClock:
    """Every hour is working time: a staff-day of work takes 8 hours, less the leave."""

    always_open = True

    def __init__(self, available: float) -> None:
        """``available``: the share of working time not lost to leave."""
        self.rate = 3.0 * available  # staff-days per day

    def finish(self, start: float, work: float) -> float:
        """Work goes on round the clock."""
        return start + work / self.rate

    def worked(self, t0: float, t1: float) -> float:
        """Staff-days between two times."""
        return max(0.0, t1 - t0) * self.rate

    def opens(self, t: float) -> float:
        """Always working: ``t``."""
        return t


class OfficeHours:
    """Office hours on working days; work waits overnight, over weekends and holidays.

    Args:
        calendar: the scenario's calendar.
        days: the horizon (the run's length), in days.
    """

    always_open = False

    def __init__(self, calendar: Calendar, days: int) -> None:
        """Lay out the working days up to the horizon."""
        self.open, self.close = calendar.office_hours
        holidays = set(calendar.holidays)
        self.available = available = _available(calendar)
        self.per_day = (self.close - self.open) / 8.0 * available  # staff-days per working day
        self.working = [d % 7 < calendar.week and d % 365 not in holidays for d in range(days + 2)]
        self.credit = array("d", [0.0])  # staff-days up to the start of each day
        for works in self.working:
            self.credit.append(self.credit[-1] + (self.per_day if works else 0.0))

    def _at(self, t: float) -> float:
        """Staff-days of working time from day 0 to time ``t``."""
        d = int(t)
        if d >= len(self.working):
            d = len(self.working) - 1
        if not self.working[d]:
            return self.credit[d]
        hour = (t - d) * 24.0
        if hour <= self.open:
            return self.credit[d]
        if hour >= self.close:
            return self.credit[d] + self.per_day
        return self.credit[d] + (hour - self.open) / (self.close - self.open) * self.per_day

    def worked(self, t0: float, t1: float) -> float:
        """Staff-days between two times."""
        return max(0.0, self._at(t1) - self._at(t0))

    def opens(self, t: float) -> float:
        """``t`` in office hours on a working day, else the next opening."""
        d = int(t)
        n = len(self.working)
        if d < n and self.working[d]:
            hour = (t - d) * 24.0
            if hour < self.open:
                return d + self.open / 24.0
            if hour < self.close:
                return t
        d += 1
        while d < n and not self.working[d]:
            d += 1
        return d + self.open / 24.0 if d < n else math.inf

    def finish(self, start: float, work: float) -> float:
        """When work started at ``start`` is done, counting only office hours."""
        at = self._at(start)
        target = at + work
        if target <= at:  # no work, or too little to register in floating point
            return start
        d = bisect_left(self.credit, target) - 1  # the day in which the credit reaches it
        if d >= len(self.working):
            return math.inf
        used = (target - self.credit[d]) / self.per_day
        return d + (self.open + used * (self.close - self.open)) / 24.0

    def working_days(self, t0: float, t1: float) -> float:
        """Working days between two times (whole working days count one, in proportion)."""
        return self.worked(t0, t1) / self.per_day if self.per_day else 0.0


def working_time(calendar: Calendar, hours: Hours, days: int) -> Clockwork:
    """The clockwork of a pool of staff with these hours under the scenario's calendar."""
    if not calendar.enabled:
        return Continuous()
    if hours == "24h":
        return RoundTheClock(_available(calendar))
    return OfficeHours(calendar, days)


def _available(calendar: Calendar) -> float:
    """The share of working time a staff member is not on leave."""
    holidays = set(calendar.holidays)
    working = sum(1 for d in range(365) if d % 7 < calendar.week and d not in holidays)
    return max(0.0, 1.0 - calendar.leave_days_per_year / max(1, working))


def round_the_clock(clockwork: Clockwork) -> Clockwork:
    """The same staff's time worked round the clock (on-call staff of an office agency)."""
    if isinstance(clockwork, OfficeHours):
        return RoundTheClock(clockwork.available)
    return clockwork
