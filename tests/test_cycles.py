"""Collaboration dynamics that move (issue 11): neutral resting levels, capacity built and
lost, conferences that act, internal legitimacy, indices from named indicators set from a
survey, and cycles that emerge from a neutral start and outlast a shock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import collabsim
from collabsim.cases import EventKind
from collabsim.dynamics import Indicators, _grow
from collabsim.experiments.cycles import hysteresis
from collabsim.model import SERIES, CollaborationModel
from collabsim.scenario import SURVEY_INDICATORS, Scenario, Shock
from tests.conftest import BASELINE

SHORT = {"run.days": 400, "run.warmup_days": 100}


def _model(overrides: dict[str, object] | None = None, seed: int = 1) -> CollaborationModel:
    return CollaborationModel(collabsim.load_scenario(BASELINE, overrides or {}), seed=seed)


# ------------------------------------------------------- 1. neutral resting levels
def test_pairs_relax_toward_the_neutral_level_not_toward_where_they_started() -> None:
    m = _model({"dynamics.initial_trust": 0.9, "dynamics.same_sector_trust": 0.9})
    s = m.state
    i, j = next(iter(m.network.edges))
    assert s.trust(i, j) == 0.9
    m.clock.now = 2000.0  # years with no contact (no events run)
    neutral = m.params.dynamics.neutral_trust
    expected = neutral + (0.9 - neutral) * (1 - m.params.dynamics.decay_per_day) ** 2000
    assert s.trust(i, j) == pytest.approx(expected)
    assert abs(s.trust(i, j) - neutral) < 0.02
    assert s.understanding(i, j) == pytest.approx(m.params.dynamics.neutral_understanding, abs=0.01)


def test_history_stays_in_the_state_a_pair_that_failed_stays_below_neutral_for_a_while() -> None:
    m = _model()
    s = m.state
    i, j = next(iter(m.network.edges))
    for _ in range(10):
        s.handover(i, j, 0.0)
    m.clock.now = 200.0
    assert s.trust(i, j) < m.params.dynamics.neutral_trust - 0.1


# ------------------------------------------------------------ 2. capacity built and lost
def test_capacity_stocks_grow_with_engagement_and_erode_without() -> None:
    assert _grow(0.5, 0.01, 0.01, 1.0) > 0.5
    assert _grow(0.5, 0.01, 0.01, 0.0) < 0.5
    stock = 0.2
    for _ in range(20_000):  # to rest: build * d * (1 - X) = erosion * (1 - d) * X
        stock = _grow(stock, 0.002, 0.001, 0.4)
    assert stock == pytest.approx(0.002 * 0.4 / (0.002 * 0.4 + 0.001 * 0.6), abs=1e-6)


def test_procedural_arrangements_move_with_the_drive_and_change_reintakes() -> None:
    fast = {"dynamics.procedural_build": 0.02, "dynamics.procedural_erosion": 0.0, **SHORT}
    built = collabsim.run(BASELINE, 1, overrides=fast)
    static = collabsim.run(BASELINE, 1, overrides=SHORT)
    assert built.timeseries["procedural"].iloc[-1] > 0.9 > static.timeseries["procedural"].max()
    assert built.summary["barrier_events"]["sop"] < 0.5 * static.summary["barrier_events"]["sop"]


def test_conferences_both_ends_attend_formalise_links_and_missed_ones_let_them_lapse() -> None:
    m = _model({"dynamics.link_formalise": 0.5, "dynamics.link_lapse": 0.01})
    s = m.state
    edges = list(m.network.edges)
    start = np.array([s.formality(i, j) for i, j in edges])
    assert set(start) == {0.0, 1.0}  # the scenario's sop = true links
    absent = m.agencies[0].index  # misses the conference; everyone else attends
    attends = np.ones(len(m.agencies), dtype=bool)
    attends[absent] = False
    drive = float(np.prod(s.indicators().indices()[:2]))
    interval = 30
    s._formalise(attends, interval)  # as a monthly conference does, after its flows move
    lapse = 1 - (1 - 0.01 * (1 - drive)) ** interval
    for (i, j), f0 in zip(edges, start, strict=True):
        if absent in (i, j):  # either end missing: it erodes
            assert s.formality(i, j) == pytest.approx(f0 * (1 - lapse))
        else:  # both there: it grows toward 1
            assert s.formality(i, j) == pytest.approx(f0 + 0.5 * drive * (1 - f0))
    assert s.formality(absent, absent) == 0.0  # no link, no formality


def test_formal_links_follow_the_conferences_and_lower_reintakes() -> None:
    """Weekly conferences formalise more than monthly ones; formal links, fewer re-intakes."""
    moving = {"dynamics.link_formalise": 0.05, "dynamics.link_lapse": 0.0009, **SHORT}
    monthly = collabsim.run(BASELINE, 1, overrides=moving)
    weekly = collabsim.run(
        BASELINE, 1, overrides={**moving, "dynamics.conference_interval_days": 7}
    )
    assert weekly.timeseries["formal_links"].iloc[-1] > monthly.timeseries["formal_links"].iloc[-1]
    static = collabsim.run(BASELINE, 1, overrides=SHORT)
    assert static.timeseries["formal_links"].nunique() == 1  # the baseline keeps them as found
    signing = {"dynamics.link_formalise": 1.0, **SHORT}
    many = collabsim.run(BASELINE, 1, overrides=signing)
    assert (
        many.timeseries["formal_links"].iloc[-1] > static.timeseries["formal_links"].iloc[-1] + 0.2
    )
    assert many.summary["barrier_events"]["sop"] < 0.9 * static.summary["barrier_events"]["sop"]
    off = {"barriers.sop.intensity": 0.0, "dynamics.link_formalise": 1.0, **SHORT}
    assert collabsim.run(BASELINE, 1, overrides=off).timeseries["formal_links"].nunique() == 1


def test_knowledge_shortens_the_wait_for_an_unreported_service() -> None:
    def waited(knowledge: float) -> float:
        still = {"dynamics.knowledge_build": 0.0, "dynamics.knowledge_erosion": 0.0}
        m = _model({**SHORT, **still, "survey.knowledge": knowledge,
                    "dynamics.knowledge_effect": 0.9})  # fmt: skip
        m.run_days(300)
        days = [
            e.days for c in m.cases for e in c.log or [] if e.kind is EventKind.AWAITING_FOLLOW_UP
        ]
        return float(np.mean(days))

    assert waited(5.0) < 0.3 * waited(1.0)


# -------------------------------------------------------------- 3. conferences that act
def test_conferences_settle_held_up_cases_and_bring_them_forward() -> None:
    m = _model(SHORT)
    m.run_days(400)
    settled = [
        (c, e) for c in m.cases for e in c.log or [] if e.kind is EventKind.CONFERENCE_SETTLED
    ]
    assert m.conference_settled == len(settled) > 10
    assert all(e.time % 30 == 0 for _, e in settled)  # on conference days
    assert all(e.days > 0 for _, e in settled)  # each brought a step forward (or re-routed)
    never = _model({**SHORT, "dynamics.conference_action": 0.0})
    never.run_days(400)
    assert never.conference_settled == 0


def test_attendance_follows_commitment() -> None:
    m = _model()
    s = m.state
    s.commitment[:] = 0.0
    assert not s.attend().any()
    s.commitment[:] = 1.0
    assert s.attend().all()


def test_the_conference_interval_is_a_lever_on_understanding_and_settled_cases() -> None:
    monthly = collabsim.run(BASELINE, 1, overrides=SHORT)
    weekly = collabsim.run(
        BASELINE, 1, overrides={**SHORT, "dynamics.conference_interval_days": 7.0}
    )
    tm, tw = monthly.timeseries, weekly.timeseries
    assert tw["understanding"].iloc[-1] > tm["understanding"].iloc[-1] + 0.02
    assert tw["conference_settled"].iloc[-1] > 2 * tm["conference_settled"].iloc[-1]


# -------------------------------------------------------------- 4. internal legitimacy
def test_legitimacy_follows_outcomes_and_feeds_commitment() -> None:
    m = _model()
    s = m.state
    i, j = next(iter(m.network.edges))
    before = s.legitimacy[i], s.commitment[i]
    for _ in range(40):
        s.handover(i, j, 0.0)
    assert s.legitimacy[i] < before[0] - 0.5
    for _ in range(60):
        s.daily(1.0)
    assert s.commitment[i] < before[1] - 0.3


def test_commitment_governs_the_discretionary_barriers() -> None:
    m = _model()
    s = m.state
    j = int(np.argmax(s.ego))  # an agency with sectoral ego
    settled = m.params.dynamics.initial_legitimacy * (1 - s.ego[j])
    s.commitment[:] = settled  # as found: the barriers act at their intensity
    assert s.discretion(j) == pytest.approx(1.0)
    s.commitment[j] = 1 - (1 - settled) / 4
    assert s.discretion(j) == pytest.approx(0.25)

    def events(likert: float) -> dict[str, int]:
        # commitment follows legitimacy within weeks: count the first three weeks' events
        m = _model({**SHORT, "survey.commitment": likert, "dynamics.commitment_rate": 0.0})
        m.run_days(21)
        return dict(m.barriers.events.all)

    low, high = events(1.5), events(4.5)
    for barrier in ("sectoral_ego", "missing_reports", "task_duplication"):
        assert low[barrier] > 1.5 * high[barrier], (barrier, low, high)


# ------------------------------------------------- 6. indices from named indicators
def test_each_index_is_the_mean_of_its_four_named_indicators() -> None:
    r = collabsim.run(BASELINE, 1, overrides={**SHORT, "run.days": 200})
    ts = r.timeseries
    assert list(Indicators._fields) == list(SURVEY_INDICATORS)
    assert set(SURVEY_INDICATORS) <= set(SERIES)
    for name, cols in (("engagement", SURVEY_INDICATORS[0:4]),
                       ("motivation", SURVEY_INDICATORS[4:8]),
                       ("capacity", SURVEY_INDICATORS[8:12])):  # fmt: skip
        assert np.allclose(ts[name], ts[list(cols)].mean(axis=1))
        assert ts[list(cols)].stack().between(0, 1).all()
    assert set(r.summary["indicators_end"]) == set(SURVEY_INDICATORS)


def test_a_survey_sets_the_starting_values_on_the_likert_scale() -> None:
    survey = {f"survey.{name}": 2.0 for name in SURVEY_INDICATORS}
    m = _model(survey)
    start = m.state.indicators()
    assert all(v == pytest.approx(0.25) for v in start), start
    i, j = next(iter(m.network.edges))
    assert m.state.trust(i, j) == pytest.approx(0.25)  # same- and cross-sector pairs alike
    # procedural arrangements are one minus the re-intake chance: the survey overrides the SOP
    assert m.barriers.sop.integration == pytest.approx(0.25)


def test_a_survey_value_off_the_scale_is_refused_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{BASELINE}"\n[survey]\ntrust = 6.0\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "collabsim", "validate", str(bad)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n  ") == 1, done.stderr  # one field wrong: the survey's
    assert "survey.trust" in done.stderr and "Traceback" not in done.stderr


# --------------------------------------------------------------------------- shocks
def test_a_staffing_shock_cuts_staff_on_duty_for_its_spell_and_restores_them() -> None:
    shock = Shock(what="staffing", start_day=50, days=30, factor=0.5)
    scenario = collabsim.load_scenario(BASELINE, SHORT).model_copy(update={"shocks": [shock]})
    m = CollaborationModel(scenario, seed=1)
    hub = next(a for a in m.agencies if a.kind == "hub")
    before = hub.staff.servers
    m.run_days(60)
    assert hub.staff.servers == max(1, int(before * 0.5 + 0.5)) < before
    m.run_days(30)
    assert hub.staff.servers == before
    assert hub.staff.busy <= hub.staff.servers or not hub.staff.queue


def test_an_ego_shock_raises_holds_and_refusals_during_its_spell() -> None:
    scenario = collabsim.load_scenario(BASELINE, SHORT)
    shocked = scenario.model_copy(
        update={"shocks": [Shock(what="sectoral_ego", start_day=0, days=400, factor=3.0)]}
    )
    calm = collabsim.run(scenario, 1).summary
    rough = collabsim.run(shocked, 1).summary
    assert rough["referrals_refused"] > 1.5 * calm["referrals_refused"]


# ------------------------------------------------------------- 5. cycles that emerge
def test_hysteresis_counts_days_from_the_given_day_until_the_gap_is_back_for_good() -> None:
    days = pd.RangeIndex(1, 9, name="day")  # a daily series starts on day 1
    gap = pd.Series([0.0, -0.2, -0.1, -0.05, -0.001, -0.02, -0.004, 0.0], index=days)
    assert hysteresis(gap, 2, 0.01) == 5  # day 2 -> back for good on day 7
    assert hysteresis(gap, 7, 0.01) == 0
    assert hysteresis(gap.iloc[:3], 1, 0.01) is None


def _cycle_scenarios() -> tuple[Scenario, Scenario, Scenario]:
    """A neutral start (every pair at the neutral levels), a 150-day ego shock, weekly meetings."""
    neutral = collabsim.load_scenario(
        BASELINE,
        {"run.days": 900, "run.warmup_days": 350, "run.measure_days": 365,
         "dynamics.initial_trust": 0.5, "dynamics.same_sector_trust": 0.5,
         "dynamics.initial_understanding": 0.4},
    )  # fmt: skip
    shock = Shock(what="sectoral_ego", start_day=200, days=150, factor=4.0)
    shocked = neutral.model_copy(update={"shocks": [shock]})
    weekly = neutral.model_copy(
        update={"dynamics": neutral.dynamics.model_copy(update={"conference_interval_days": 7.0})}
    )
    return neutral, shocked, weekly


def test_an_ego_shock_tips_a_vicious_cycle_that_outlasts_it(tmp_path: Path) -> None:
    neutral, shocked, _ = _cycle_scenarios()
    c = collabsim.cycle(neutral, shocked, 4, since=350, out=tmp_path, workers=2)
    gap = c.gap
    # paired (common random numbers): the same cases in both arms, so the gap is sharp
    assert gap.loc[199, "motivation"] == 0.0
    at_end = gap.loc[350]
    assert at_end["motivation_high"] < -0.05
    later = gap.loc[530]  # half a year after the shock is over
    assert later["motivation_high"] < 0 and later["capacity_high"] < 0
    # the capacity stocks keep eroding after the shock: the cycle feeds itself
    assert gap["capacity"].iloc[-1] <= at_end["capacity"]
    assert c.hysteresis["motivation"] is None or c.hysteresis["motivation"] > 180
    assert c.comparison.table.loc["handling_days_median", "diff"] > 0


def test_sustained_weekly_conferences_tip_a_virtuous_cycle(tmp_path: Path) -> None:
    neutral, _, weekly = _cycle_scenarios()
    c = collabsim.cycle(neutral, weekly, 4, since=0, out=tmp_path, workers=2)
    end = c.gap.iloc[-1]
    assert end["motivation_low"] > 0.02
    assert end["capacity_low"] > 0
    assert end["capacity"] > c.gap.loc[300, "capacity"]  # and still growing
    table = c.comparison.table
    assert table.loc["conference_settled", "ci_low"] > 0
    assert table.loc["handling_days_median", "diff"] < 0


def test_sweeps_take_the_new_parameters(tmp_path: Path) -> None:
    from collabsim.experiments.sweep import sweep

    path = tmp_path / "exp.toml"
    path.write_text(
        f'name = "exp"\nscenario = "{BASELINE}"\ndesign = "factorial"\nreplications = 1\n'
        'outputs = ["indicators_end.procedural", "conference_settled"]\n'
        '[fixed]\n"run.days" = 200\n"run.warmup_days" = 20\n'
        '[levers]\n"dynamics.conference_interval_days" = [7.0, 30.0]\n'
        '[uncertainties]\n"dynamics.procedural_build" = { min = 0.0, max = 0.02, levels = 2 }\n',
        encoding="utf-8",
    )
    r = sweep(path, out=tmp_path / "out", workers=2)
    assert len(r.runs) == 4 and not r.failed
    points = r.points.set_index(["dynamics.conference_interval_days", "dynamics.procedural_build"])
    assert (
        points.loc[(30.0, 0.02), "indicators_end.procedural"]
        > (points.loc[(30.0, 0.0), "indicators_end.procedural"])
    )
    assert (
        points.loc[(7.0, 0.0), "conference_settled"] > points.loc[(30.0, 0.0), "conference_settled"]
    )


def test_the_cycle_command_follows_a_shock_and_writes_its_gap(tmp_path: Path) -> None:
    shock = tmp_path / "shock.toml"
    shock.write_text(
        f'extends = "{BASELINE}"\n[run]\ndays = 160\nwarmup_days = 60\n'
        '[[shocks]]\nwhat = "sectoral_ego"\nstart_day = 30\ndays = 30\nfactor = 4.0\n',
        encoding="utf-8",
    )
    calm = tmp_path / "calm.toml"
    calm.write_text(f'extends = "{BASELINE}"\n[run]\ndays = 160\nwarmup_days = 60\n')
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "collabsim", "cycle", str(calm), str(shock), "--reps", "2",
         "--workers", "2", "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "from day 60" in done.stdout  # the shock's end, by default
    assert "motivation" in done.stdout and "back within" in done.stdout
    gap = pd.read_csv(out / "gap.csv", index_col="day")
    assert gap.loc[29, "motivation"] == 0.0 and gap.loc[60, "motivation"] < 0
    assert (out / "gap.png").stat().st_size > 10_000
