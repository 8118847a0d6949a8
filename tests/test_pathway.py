"""Issue 10's mechanisms, each on a small scenario where its effect can be computed.

Parallel tracks and the urgent path, working time (calendar, on-call staff,
beds), background workload, attrition and repeat reports, rework with its own
wait, the Kaplan-Meier measurement, service norms and the levers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import collabsim
from collabsim.api import resolve_scenario
from collabsim.calendar import OfficeHours, RoundTheClock, working_time
from collabsim.loading import _merge, load_scenario, scenario_from_dict
from collabsim.scenario import BARRIER_NAMES, Calendar, Scenario
from collabsim.survival import kaplan_meier, quantile
from tests.conftest import BASELINE, SCENARIOS

FIXED = "fixed"


def _fixed(mean: float) -> dict[str, Any]:
    return {"dist": FIXED, "mean": mean}


TINY: dict[str, Any] = {
    "name": "tiny",
    "run": {"days": 240, "warmup_days": 30, "measure_days": 120},
    "arrivals": {
        "cases_per_year": {"all": 365.0},
        "case_types": {"t": 1.0},
        "risk": {"high": 0.5, "low": 0.5},
    },
    "services": {
        "intake": {"stage": "case_management", "duration": _fixed(0.1)},
        "assess": {"stage": "case_management", "duration": _fixed(0.1), "lag": _fixed(3.0)},
        "a": {"duration": _fixed(0.1), "lag": _fixed(10.0)},
        "b": {"duration": _fixed(0.1), "lag": _fixed(20.0)},
        "stay": {"kind": "stay", "duration": _fixed(5.0)},
    },
    "agencies": {
        "hub": {
            "sector": "x",
            "services": ["intake", "assess"],
            "per_city": {"all": 1},
            "staff": 5,
            "case_manager": True,
        },
        "pa": {"sector": "x", "services": ["a"], "per_city": {"all": 1}, "staff": 5},
        "pb": {"sector": "x", "services": ["b"], "per_city": {"all": 1}, "staff": 5},
        "house": {
            "sector": "x",
            "services": ["stay"],
            "per_city": {"all": 1},
            "staff": 1,
            "beds": 50,
        },
    },
    "pathway": {
        "kind": "plan",
        "entry_steps": ["intake"],
        "order": ["a", "b"],
        "plans": {"t": {"a": {"p": 1.0}, "b": {"p": 1.0}}},
    },
    "barriers": {b: {"intensity": 0.0} for b in BARRIER_NAMES},
    "dynamics": {"enabled": False},
}


def tiny(**extra: Any) -> Scenario:
    """The tiny scenario with ``extra`` merged into it (nested dictionaries merge)."""
    return scenario_from_dict(_merge(TINY, extra), "tiny")


def _run(scenario: Scenario, seed: int = 1) -> collabsim.RunResult:
    return collabsim.run(scenario, seed)


def _measured(result: collabsim.RunResult) -> Any:
    return result.cases[result.cases["measured"]]


# ------------------------------------------------------------ tracks and urgency
def test_parallel_tracks_take_the_longest_track_not_the_sum() -> None:
    sequential = _run(tiny()).summary["handling_days_median"]
    parallel = _run(tiny(pathway={"tracks": [["a"], ["b"]]})).summary["handling_days_median"]
    # intake 0.1, then a (0.1 + lag 10) and b (0.1 + lag 20): in turn or side by side
    assert sequential == pytest.approx(30.3, abs=0.01)
    assert parallel == pytest.approx(20.2, abs=0.01)


def test_a_sequential_plan_stays_expressible_with_tracks() -> None:
    one_track = _run(tiny(pathway={"tracks": [["a", "b"]]})).summary
    order = _run(tiny()).summary
    assert one_track["handling_days_median"] == order["handling_days_median"]


URGENT = {
    "pathway": {
        "entry_steps": ["intake", "assess"],
        "tracks": [["stay"], ["a"], ["b"]],
        "urgent": {"high": ["stay"]},
        "plans": {"t": {"stay": {"p": 1.0}}},
    },
    "norms": {"stay_service": "stay"},
}


def test_urgent_services_come_at_once_after_the_intake() -> None:
    result = _run(tiny(**URGENT))
    m = _measured(result)
    high, low = m[m["risk"] == "high"], m[m["risk"] == "low"]
    # high risk: placed right after the intake; low risk: after the assessment and its lag
    assert high["days_to_stay"].max() == pytest.approx(0.1, abs=1e-6)
    assert low["days_to_stay"].min() == pytest.approx(3.2, abs=1e-6)
    # the case goes on once the child is placed: the 5-day stay holds nothing up
    # (intake 0.1, assessment 0.1 and its lag 3, then b's 20.1 days)
    assert high["handling_days"].median() == pytest.approx(23.3, abs=1e-6)


def test_on_call_staff_take_urgent_work_out_of_hours() -> None:
    calendar = _merge(URGENT, {"calendar": {"enabled": True}})
    without = _measured(_run(tiny(**calendar)))
    with_on_call = _measured(_run(tiny(**_merge(calendar, {"agencies": {"hub": {"on_call": 1}}}))))
    high = with_on_call[with_on_call["risk"] == "high"]
    # the on-call rota starts the intake at once, day or night
    assert high["response_hours"].max() < 1.0
    waited = without[without["risk"] == "high"]["response_hours"]
    assert waited.max() > 12.0  # reported at night or at the weekend: the office opens later
    low = with_on_call[with_on_call["risk"] == "low"]["response_hours"]
    assert low.max() > 12.0  # on-call staff take only urgent work


# ------------------------------------------------------------ working time
def test_office_hours_skip_nights_weekends_holidays_and_leave() -> None:
    cal = Calendar(enabled=True, holidays=[7])  # day 7: the second Monday
    clock = OfficeHours(cal, 30)
    friday_3pm = 4 + 15 / 24
    # two hours of work started on Friday at 15:00: one hour then, one on Monday...
    # ...but Monday (day 7) is a holiday, so Tuesday at 09:00
    assert clock.finish(friday_3pm, 2 / 8) == pytest.approx(8 + 9 / 24)
    assert clock.opens(friday_3pm) == friday_3pm
    monday_8am = 7 + 8 / 24  # too little work to register: done at once, not back in time
    assert clock.finish(monday_8am, 3e-312) == monday_8am
    assert clock.opens(4 + 17 / 24) == pytest.approx(8 + 8 / 24)  # after closing on Friday
    assert clock.working_days(0, 14) == pytest.approx(9)  # two weeks, less the holiday
    leave = OfficeHours(Calendar(enabled=True, leave_days_per_year=26.1), 30)
    assert leave.available == pytest.approx(0.9)  # 261 working days, a tenth on leave
    assert leave.finish(0 + 8 / 24, 0.9) == pytest.approx(0 + 16 / 24)  # a day's work is 0.9
    rota = working_time(Calendar(enabled=True), "24h", 30)
    assert isinstance(rota, RoundTheClock)
    assert rota.finish(5.0, 1.0) == pytest.approx(5 + 8 / 24)  # 8 hours, at the weekend too
    off = working_time(Calendar(), "office", 30)
    assert off.finish(5.0, 1.0) == 6.0  # no calendar: the queueing-network reading


def test_a_calendar_lengthens_handling_and_counts_working_days() -> None:
    off = _run(tiny()).summary
    on = _run(tiny(calendar={"enabled": True})).summary
    assert on["handling_days_median"] > off["handling_days_median"]


def test_beds_are_capacity_not_staff() -> None:
    scenario = tiny(
        pathway={"order": ["a", "b", "stay"], "plans": {"t": {"stay": {"p": 1.0}}}},
        barriers={"resources": {"intensity": 1.0, "vacancy_rate": 0.5, "rework_scale": 0.0}},
    )
    result = _run(scenario)
    house = result.agencies.set_index("kind").loc["house"]
    hub = result.agencies.set_index("kind").loc["hub"]
    assert house["beds"] == 50  # vacancies leave beds alone
    assert hub["staff"] == 3  # 5 posts, half vacant, rounded
    assert house["utilisation"] == 0.0  # a stay takes a bed, not staff time
    assert house["bed_occupancy"] > 0.0
    stays = _measured(result)["stay_days"].dropna()
    assert (stays == 5.0).all()


def test_background_work_raises_utilisation_and_waits() -> None:
    quiet = _run(tiny()).agencies.set_index("kind").loc["pa"]
    busy_scenario = tiny(
        agencies={"pa": {"staff": 1, "background": {"jobs_per_year": 900.0, "work": _fixed(0.3)}}}
    )
    busy = _run(busy_scenario)
    pa = busy.agencies.set_index("kind").loc["pa"]
    assert pa["utilisation"] > 0.7 > quiet["utilisation"]
    assert pa["mean_queue"] > 0.0
    assert busy.summary["handling_days_median"] > 30.3  # child cases now queue behind it
    # background work is not a traced case
    assert busy.summary["cases_arrived"] == _run(tiny()).summary["cases_arrived"]


# ------------------------------------------------------------ attrition
def test_attrition_and_repeat_reports_have_their_own_counts() -> None:
    none = _run(tiny()).summary
    assert none["cases_withdrawn"] == none["cases_dropped"] == none["repeat_reports"] == 0
    s = _run(
        tiny(
            attrition={
                "withdrawal": 0.5,
                "withdrawal_service": "b",
                "lost_to_follow_up": 0.3,
                "repeat_report": 0.5,
                "repeat_after": _fixed(10.0),
            }
        )
    ).summary
    n = s["cases_arrived"]
    assert 0.2 * n < s["cases_withdrawn"] < 0.6 * n  # half of those who reach b
    assert 0.2 * n < s["cases_dropped"] < 0.4 * n
    assert s["repeat_reports"] > 0.3 * s["cases_closed"] * 0.5
    assert s["cases_closed"] + s["cases_dropped"] + s["cases_open"] + s["cases_stalled"] == n


def test_a_withdrawn_report_ends_the_investigation_only() -> None:
    s = _run(tiny(attrition={"withdrawal": 1.0, "withdrawal_service": "b"})).summary
    assert s["cases_withdrawn"] == s["cases_arrived"]
    assert s["cases_closed"] == s["cases_arrived"] - s["cases_open"]
    assert s["handling_days_median"] == pytest.approx(10.2, abs=0.01)  # b skipped


def test_a_track_that_ended_unreported_holds_up_the_next_phase() -> None:
    """The manager hears of a silent end only at its next follow-up, also across phases."""
    silent = {
        "pathway": {"tracks": [["a"], ["b"]], "closing_steps": ["assess"]},
        "services": {"a": {"lag": _fixed(1.0)}, "b": {"lag": _fixed(2.0)}},  # < a fortnight
        "agencies": {"pa": {"reporting_discipline": 0.0}, "pb": {"reporting_discipline": 0.0}},
    }
    on = _run(tiny(**_merge(silent, {"barriers": {"missing_reports": {"intensity": 1.0}}})))
    off = _run(tiny(**silent)).summary
    assert on.summary["follow_up_waits"] > 0
    # closure (0.1 + lag 3) after the tracks (2.2): without the barrier at once
    assert off["handling_days_median"] == pytest.approx(5.3, abs=0.01)
    assert on.summary["handling_days_median"] > off["handling_days_median"] + 1.0


# ------------------------------------------------------------ rework
def test_a_redo_waits_for_its_own_appointment_not_the_lag() -> None:
    rework = {"intensity": 1.0, "vacancy_rate": 0.0, "rework_scale": 1.0}
    agencies = {"pb": {"skill": 0.5}}
    full_lag = _run(tiny(barriers={"resources": rework}, agencies=agencies)).summary
    quick = _run(
        tiny(barriers={"resources": {**rework, "redo_wait": _fixed(1.0)}}, agencies=agencies)
    ).summary
    assert quick["reworks"] > 0
    assert quick["handling_days_median"] < full_lag["handling_days_median"]
    none = _run(
        tiny(barriers={"resources": {**rework, "rework_scale": 0.0}}, agencies=agencies)
    ).summary
    assert none["reworks"] == 0


# ------------------------------------------------------------ measurement
def test_kaplan_meier_matches_lifelines() -> None:
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(5, 300))
        t = np.round(rng.exponential(50.0, n), 1)  # ties too
        e = rng.random(n) < 0.7
        ours_t, ours_s = kaplan_meier(t, e)
        kmf = lifelines.KaplanMeierFitter().fit(t, e)
        theirs = kmf.survival_function_.iloc[:, 0]
        assert np.allclose(theirs.loc[ours_t].to_numpy(), ours_s)
        expected = float(kmf.median_survival_time_)
        got = quantile(t, e, 0.5)
        assert (np.isinf(expected) and np.isnan(got)) or got == pytest.approx(expected)


def test_open_cases_are_censored_not_dropped() -> None:
    # a horizon too short for most cohort cases to close: the median from
    # closed cases only would be biased down; Kaplan-Meier is not
    s = _run(tiny(run={"days": 160, "warmup_days": 30, "measure_days": 120})).summary
    assert 0.0 < s["open_share"] < 1.0
    assert s["handling_days_median"] == pytest.approx(30.3, abs=0.01)
    assert s["handling_days_mean_closed"] <= 30.3 + 1e-9


def test_the_cohort_is_the_cases_reported_in_the_measured_window() -> None:
    result = _run(tiny())
    m = _measured(result)
    assert m["reported_day"].min() >= 30 and m["reported_day"].max() < 150
    assert result.summary["cohort_end_day"] == 150


def test_norm_compliance_by_risk_and_breakdowns() -> None:
    s = _run(tiny(norms={"first_response_hours": {"high": 1.0}})).summary
    assert s["response_within_norm_share"]["high"] == 1.0  # intake at once, no calendar
    for key in ("by_type", "by_risk", "by_city", "by_channel"):
        for group in s[key].values():
            assert {"n", "open_share", "handling_days_median", "staff_hours_per_case"} <= set(group)
    assert s["staff_hours_per_case"] == pytest.approx(0.3 * 8)  # intake, a and b: 0.1 each


# ------------------------------------------------------------ levers
SHORT = {"run.days": 500, "run.warmup_days": 200, "run.measure_days": 150}


def _lever(name: str) -> dict[str, Any]:
    return collabsim.run(SCENARIOS / name, 2, overrides=SHORT).summary


def test_more_hub_staff_fills_every_post() -> None:
    result = collabsim.run(SCENARIOS / "more-hub-staff.toml", 2, overrides=SHORT)
    staff = result.agencies.set_index("kind")["staff"]
    params = load_scenario(SCENARIOS / "more-hub-staff.toml")
    for kind in ("hub", "hub_psychology", "hub_legal"):
        assert staff[kind] == params.agencies[kind].staff  # no vacancy at the hub
    assert staff["police_ppa"].max() <= params.agencies["police_ppa"].staff


def test_integrated_sops_act_on_duplication_and_miscommunication() -> None:
    base = _lever("jakarta-baseline.toml")
    sops = _lever("integrated-sops.toml")
    assert sops["barrier_events"]["sop"] == 0
    assert sops["barrier_events"]["task_duplication"] < base["barrier_events"]["task_duplication"]
    assert sops["barrier_events"]["miscommunication"] < base["barrier_events"]["miscommunication"]


def test_the_shared_case_system_has_partial_adoption() -> None:
    params = load_scenario(SCENARIOS / "shared-case-system.toml")
    assert 0 < params.shared_adoption < 1
    model = collabsim.simulate(resolve_scenario(params, SHORT), 2)
    assert 0 < len(model.adopters) < len(model.agencies)


def test_the_integrated_centre_interviews_the_child_fewer_times() -> None:
    base = _lever("jakarta-baseline.toml")
    centre = _lever("integrated-centre.toml")
    assert centre["interviews_per_child"] < base["interviews_per_child"] - 1.0
    assert centre["referrals"] < base["referrals"]


def test_the_baseline_values_lie_in_their_ranges() -> None:
    from collabsim.assumptions import uncertainties
    from collabsim.scenario import parameters

    params = load_scenario(BASELINE)
    assert "barriers.resources.rework_scale" in params.ranges
    values = parameters(params)
    for u in uncertainties(params):
        assert u.reason, u.name
        for key in u.keys:  # a relative range's factor 1 is the value itself
            assert u.low <= (1.0 if u.relative else values[key]) <= u.high, key


def test_a_range_must_name_a_number() -> None:
    from collabsim.errors import ScenarioError

    with pytest.raises(ScenarioError, match=r"ranges\.nothing\.here: no such parameter"):
        tiny(ranges={"nothing.here": {"low": 0.0, "high": 1.0}})
    with pytest.raises(ScenarioError, match=r"ranges\.name: not a number"):
        tiny(ranges={"name": {"low": 0.0, "high": 1.0}})


def test_attribution_across_an_assumption_ranks_at_both_ends(tmp_path: Any) -> None:
    scenario = tiny(
        agencies={"pb": {"skill": 0.5}, "pa": {"skill": 0.8}},
        barriers={
            "resources": {"intensity": 1.0, "rework_scale": 0.5},
            "sop": {"intensity": 1.0, "service": "intake"},
        },
        ranges={"barriers.resources.rework_scale": {"low": 0.0, "high": 1.0, "reason": "test"}},
    )
    across = collabsim.attribute_across(
        scenario,
        "barriers.resources.rework_scale",
        2,
        out=tmp_path,
        outputs=["handling_days_median"],
        barriers=("resources", "sop"),
        workers=1,
    )
    assert across.values == {"low": 0.0, "scenario": 0.5, "high": 1.0}
    table = across.table
    assert set(table["point"]) == {"low", "scenario", "high"}
    low = table[table["point"] == "low"].set_index("barrier")["days"]
    assert low["resources"] == pytest.approx(0.0)  # no rework at the low end
    high = table[table["point"] == "high"].set_index("barrier")["days"]
    assert high["resources"] > 0.0
    assert isinstance(across.stable["handling_days_median"], bool)
    with pytest.raises(ValueError, match="no range"):
        collabsim.attribute_across(scenario, "barriers.sop.intensity", 2, out=tmp_path / "x")
