"""The model's clock: an event queue in the spirit of SimPy's ``Environment``.

Events are handlers scheduled at exact (continuous) times; ``run_until``
runs them in time order, ties in the order they were scheduled. The Mesa
step drives it one day at a time.

Most events lie days ahead (a session next week, an investigation next
month). They wait in one bucket per day and enter the time-ordered heap only
on their day, so the heap holds about a day's events however large the
network (a calendar queue): scheduling is then constant-time, and running an
event costs the logarithm of a day's events, not of all events pending.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heapify, heappop, heappush
from typing import Any

__all__ = ["EventQueue"]

Handler = Callable[..., object]
_Event = tuple[float, int, Handler, tuple[Any, ...]]


class EventQueue:
    """A time-ordered queue of handlers.

    Attributes:
        now: the current time (the time of the event being run, else the
            time the queue was last run until).
    """

    __slots__ = ("_buckets", "_heap", "_horizon", "_seq", "now")

    def __init__(self, start: float = 0.0) -> None:
        """An empty queue whose clock reads ``start``."""
        self.now = start
        self._heap: list[_Event] = []  # events up to the horizon
        self._buckets: dict[int, list[_Event]] = {}  # later events, by the day that runs them
        self._horizon = math.ceil(start)  # the heap holds every event up to this time
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap) + sum(len(b) for b in self._buckets.values())

    def schedule(self, time: float, handler: Handler, *args: Any) -> None:
        """Run ``handler(*args)`` at ``time`` (not before ``now``; an infinite time never runs)."""
        if time == math.inf:
            return
        self._seq += 1
        event = (time, self._seq, handler, args)
        if time <= self._horizon:
            heappush(self._heap, event)
        else:
            day = math.ceil(time)
            bucket = self._buckets.get(day)
            if bucket is None:
                self._buckets[day] = [event]
            else:
                bucket.append(event)

    def run_until(self, end: float) -> None:
        """Run every event at or before ``end``, in time order; the clock then reads ``end``."""
        if self._horizon < end:
            self._advance(end)
        heap = self._heap
        while heap and heap[0][0] <= end:
            time, _, handler, args = heappop(heap)
            self.now = time
            handler(*args)
        self.now = end

    def _advance(self, end: float) -> None:
        """Move the horizon up to ``end`` (a whole day), bringing those days' events in."""
        last = math.ceil(end)
        if len(self._buckets) < last - self._horizon:
            days = sorted(d for d in self._buckets if d <= last)
        else:
            days = [d for d in range(self._horizon + 1, last + 1) if d in self._buckets]
        for day in days:
            self._heap.extend(self._buckets.pop(day))
        if days:
            heapify(self._heap)
        self._horizon = last
