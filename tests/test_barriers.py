"""Every barrier's switch shows its effect: on vs off, same seeds (common random numbers)."""

from __future__ import annotations

import pytest

from collabsim.scenario import BARRIER_NAMES
from tests.conftest import BASELINE, cached_run

SEEDS = (1, 2, 3, 4)


def _pooled_mean_handling(overrides: tuple[tuple[str, object], ...]) -> float:
    """Mean handling time of the closed cases of all seeds together."""
    total, n = 0.0, 0
    for seed in SEEDS:
        r = cached_run(str(BASELINE), seed, overrides)
        closed = r.cases[(r.cases["measured"]) & (r.cases["status"] == "closed")]
        total += float(closed["handling_days"].sum())
        n += len(closed)
    return total / n


@pytest.mark.parametrize("barrier", BARRIER_NAMES)
def test_switching_a_barrier_off_removes_its_events_and_shortens_handling(barrier: str) -> None:
    off = ((f"barriers.{barrier}.intensity", 0.0),)
    on_events = sum(cached_run(str(BASELINE), s).summary["barrier_events"][barrier] for s in SEEDS)
    off_events = sum(
        cached_run(str(BASELINE), s, off).summary["barrier_events"][barrier] for s in SEEDS
    )
    assert on_events > 0
    assert off_events == 0
    on_days = _pooled_mean_handling(())
    off_days = _pooled_mean_handling(off)
    assert on_days > off_days, f"{barrier}: {on_days:.2f} days on vs {off_days:.2f} off"


def test_every_barrier_off_is_faster_than_baseline() -> None:
    off = tuple((f"barriers.{b}.intensity", 0.0) for b in BARRIER_NAMES)
    r_on = cached_run(str(BASELINE), 1)
    r_off = cached_run(str(BASELINE), 1, off)
    assert sum(r_off.summary["barrier_events"].values()) == 0
    assert r_off.summary["handling_days_median"] < r_on.summary["handling_days_median"]
    assert r_off.summary["interviews_per_child"] < r_on.summary["interviews_per_child"]
    assert r_off.summary["duplicated_staff_hours"] == 0.0


def test_missing_reports_leave_cases_out_of_the_record() -> None:
    on = cached_run(str(BASELINE), 1).summary
    off = cached_run(str(BASELINE), 1, (("barriers.missing_reports.intensity", 0.0),)).summary
    assert on["cases_recorded"] < on["cases_registered"] <= on["cases_arrived"]
    assert off["cases_recorded"] == off["cases_registered"]
    assert on["follow_up_waits"] > off["follow_up_waits"] == 0


def test_shared_case_system_removes_missing_reports_and_most_miscommunication() -> None:
    base = cached_run(str(BASELINE), 1).summary
    shared = cached_run(str(BASELINE), 1, (("shared_case_system", True),)).summary
    assert shared["barrier_events"]["missing_reports"] == 0
    assert (
        shared["barrier_events"]["miscommunication"]
        < base["barrier_events"]["miscommunication"] / 2
    )


def test_vacancies_reduce_staff_on_duty() -> None:
    on = cached_run(str(BASELINE), 1)
    off = cached_run(str(BASELINE), 1, (("barriers.resources.intensity", 0.0),))
    assert on.agencies["staff"].sum() < off.agencies["staff"].sum()
    assert on.summary["vacant_posts"] > 0 == off.summary["vacant_posts"]


def test_more_hub_staff_lowers_hub_utilisation() -> None:
    base = cached_run(str(BASELINE), 1).summary
    more = cached_run(str(BASELINE), 1, (("agencies.hub.staff", 24),)).summary
    assert more["utilisation_by_kind"]["hub"] < base["utilisation_by_kind"]["hub"]
