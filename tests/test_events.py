"""The clock: events run in time order, ties in scheduling order, wherever they were kept."""

from __future__ import annotations

import random

from collabsim.events import EventQueue


def test_events_run_in_time_order_then_in_scheduling_order() -> None:
    q = EventQueue()
    seen: list[tuple[float, int]] = []
    rng = random.Random(1)
    times = [round(rng.uniform(0, 40), 1) for _ in range(500)]  # many ties, many days ahead
    for n, t in enumerate(times):
        q.schedule(t, lambda t=t, n=n: seen.append((t, n)))
    for day in range(1, 41):
        q.run_until(float(day))
        assert q.now == day
        assert all(t <= day for t, _ in seen)
    assert seen == sorted(seen)
    assert len(seen) == 500 and len(q) == 0


def test_events_scheduled_while_running_keep_the_order() -> None:
    q = EventQueue()
    seen: list[float] = []

    def chain(t: float, left: int) -> None:
        seen.append(t)
        if left:
            gap = [0.0, 0.3, 2.5, 9.0][left % 4]
            q.schedule(t + gap, chain, t + gap, left - 1)

    q.schedule(0.5, chain, 0.5, 40)
    q.schedule(3.0, seen.append, 3.0)
    for day in range(1, 200):
        q.run_until(float(day))
    assert seen == sorted(seen) and len(seen) == 42


def test_running_past_several_days_at_once() -> None:
    q = EventQueue()
    seen: list[float] = []
    for t in (5.5, 0.2, 17.0, 17.0, 3.0):
        q.schedule(t, seen.append, t)
    q.run_until(16.0)
    assert seen == [0.2, 3.0, 5.5]
    q.run_until(17.0)
    assert seen == [0.2, 3.0, 5.5, 17.0, 17.0]
