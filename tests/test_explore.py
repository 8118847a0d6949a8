"""Assumptions with ranges, futures over them, and the robust comparison of interventions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from collabsim.assumptions import assumed, future, lacking, uncertainties
from collabsim.cli import app
from collabsim.experiments.explore import _effects, _summary, explore, sample_futures
from collabsim.loading import ScenarioError, load_scenario
from collabsim.scenario import parameters

ROOT = Path(__file__).resolve().parents[1]
JACKSON = ROOT / "scenarios" / "jackson-network.toml"
BASELINE = ROOT / "scenarios" / "jakarta-baseline.toml"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def network(tmp_path: Path) -> Path:
    """The Jackson network, short, with one pattern range and one single range."""
    return _write(
        tmp_path,
        "base.toml",
        f"""extends = "{JACKSON}"
[run]
days = 300
warmup_days = 50
[ranges."services.*.duration.mean"]
low = 0.8
high = 1.2
relative = true
reason = "test: every service's length, together"
[ranges."services.c.duration.mean"]
low = 0.4
high = 0.6
reason = "test: station c's own"
[agencies.station_c]
staff_cost_per_year = 1e8
[ranges."agencies.*.staff"]
low = 0.9
high = 1.6
relative = true
reason = "test: staff, rounded"
""",
    )


def test_a_pattern_moves_its_parameters_together_and_a_specific_entry_wins(network: Path) -> None:
    s = load_scenario(network)
    dims = {u.name: u for u in uncertainties(s)}
    assert dims["services.*.duration.mean"].keys == (
        "services.a.duration.mean",
        "services.b.duration.mean",
    )
    assert dims["services.c.duration.mean"].keys == ("services.c.duration.mean",)
    values = future(s, {"services.*.duration.mean": 1.2, "services.c.duration.mean": 0.45})
    assert values["services.a.duration.mean"] == pytest.approx(0.25 * 1.2)
    assert values["services.b.duration.mean"] == pytest.approx(0.4 * 1.2)
    assert values["services.c.duration.mean"] == 0.45
    staff = future(s, {"agencies.*.staff": 1.6})
    assert staff == {
        "agencies.station_a.staff": 3,
        "agencies.station_b.staff": 3,
        "agencies.station_c.staff": 5,
    }
    assert all(isinstance(v, int) for v in staff.values())


def test_shares_a_future_moves_keep_summing_to_one() -> None:
    s = load_scenario(BASELINE)
    before = parameters(s)
    risk = {k: v for k, v in before.items() if k.startswith("arrivals.risk.")}
    assert len(risk) == 3
    ranged = s.model_copy(
        update={"ranges": {"arrivals.risk.high": s.ranges[next(iter(s.ranges))].model_copy(
            update={"low": 0.1, "high": 0.4, "relative": False})}}
    )  # fmt: skip
    values = future(ranged, {"arrivals.risk.high": 0.4})
    assert values["arrivals.risk.high"] == 0.4
    assert sum(v for k, v in values.items() if k.startswith("arrivals.risk.")) == pytest.approx(1)
    rest = before["arrivals.risk.medium"] / before["arrivals.risk.low"]
    assert values["arrivals.risk.medium"] / values["arrivals.risk.low"] == pytest.approx(rest)
    load_scenario(BASELINE, overrides=values)  # a valid scenario


def test_ranges_and_sources_must_name_numbers(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.toml", f'extends = "{JACKSON}"\n'
                 '[ranges."services.*.nothing"]\nlow = 1.0\nhigh = 2.0\n'
                 '[sources]\n"agencies.nobody.staff" = "a study"\n')  # fmt: skip
    with pytest.raises(ScenarioError) as exc:
        load_scenario(bad)
    text = str(exc.value)
    assert "ranges.services.*.nothing: matches no number" in text
    assert "sources.agencies.nobody.staff: no such parameter" in text


def test_a_cited_source_and_a_range_each_take_an_assumption_off_the_list(network: Path) -> None:
    s = load_scenario(network)
    assert "services.a.duration.mean" in assumed(s)
    assert "services.a.duration.mean" not in lacking(s)  # it has a range
    assert "run.stall_days" in lacking(s)
    cited = load_scenario(
        _write(network.parent, "cited.toml",
               f'extends = "{network}"\n[sources]\n"run.stall_days" = "test: a cited rule"\n')
    )  # fmt: skip
    assert "run.stall_days" not in assumed(cited)
    assert "run.days" not in assumed(s)  # a design choice, not an assumption
    # the barriers are off in this network: their parameters are not assumptions of it
    assert not [k for k in assumed(s) if k.startswith("barriers.miscommunication.")]


def test_validate_reports_the_assumptions_without_a_range(network: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(network), "--all"])
    assert result.exit_code == 0, result.output
    s = load_scenario(network)
    missing = lacking(s)
    assert f"{len(missing)} without one" in result.output
    assert all(f"no range: {k}" in result.output for k in missing)
    strict = CliRunner().invoke(app, ["validate", str(network), "--strict"])
    assert strict.exit_code == 2


def test_the_baseline_gives_every_assumption_a_range_or_a_source() -> None:
    s = load_scenario(BASELINE)
    assert lacking(s) == []
    assert all(r.reason for r in s.ranges.values())
    dims = uncertainties(s)
    assert all(u.keys for u in dims), [u.name for u in dims if not u.keys]
    for point in ({u.name: u.low for u in dims}, {u.name: u.high for u in dims}):
        load_scenario(BASELINE, overrides=future(s, point))  # every corner is a valid scenario


def test_latin_hypercube_futures_cover_each_range_once_per_stratum(network: Path) -> None:
    dims = uncertainties(load_scenario(network))
    table = sample_futures(dims, 20, seed=4)
    assert list(table.columns) == ["future", *(u.name for u in dims)]
    for u in dims:
        strata = ((table[u.name] - u.low) / (u.high - u.low) * 20).astype(int)
        assert sorted(strata) == list(range(20))
    assert table.equals(sample_futures(dims, 20, seed=4))


def test_regret_and_best_choice_on_a_problem_whose_answer_is_known() -> None:
    # baseline 10 everywhere; A is 8 in futures 0-1 and 11 in 2-3; B is 9 everywhere
    values = {"baseline": [10, 10, 10, 10], "A": [8, 8, 11, 11], "B": [9, 9, 9, 9]}
    runs = pd.DataFrame(
        [
            {"arm": f"f{f:05d}/{p}", "replication": 0, "status": "done", "days": float(v[f])}
            for p, v in values.items()
            for f in range(4)
        ]
    )
    effects = _effects(runs, 4, ["baseline", "A", "B"], {"days": "min"})
    a = effects[effects["policy"] == "A"]
    assert list(a["days"]) == [-2, -2, 1, 1]
    assert list(a["regret_days"]) == [0, 0, 2, 2]
    summary = _summary(effects, {"days": "min"}).set_index("policy")
    assert summary.loc["A", "best_share"] == 0.5
    assert summary.loc["B", "best_share"] == 0.5
    assert summary.loc["baseline", "best_share"] == 0.0
    assert summary.loc["A", "regret_mean"] == 1.0
    assert summary.loc["B", "regret_mean"] == 0.5
    assert summary.loc["baseline", "regret_mean"] == 1.5
    # the other way round: more is better
    flipped = _summary(_effects(runs, 4, ["baseline", "A", "B"], {"days": "max"}), {"days": "max"})
    assert flipped.set_index("policy").loc["baseline", "best_share"] == 0.5  # A's 11 in 2-3


def test_explore_runs_each_policy_in_each_future_with_common_random_numbers(
    network: Path, tmp_path: Path
) -> None:
    more = _write(tmp_path, "more.toml",
                  f'extends = "{network}"\n[agencies.station_c]\nstaff = 6\n')  # fmt: skip
    same = _write(tmp_path, "same.toml",
                  f'extends = "{network}"\n[agencies.station_a]\nstaff = 2\n')  # fmt: skip
    goals = {"handling_days_mean_closed": "min"}
    policies = {"more": more, "same": same}
    result = explore(network, policies, 4, reps=2, seed=5, out=tmp_path / "x", goals=goals,
                     workers=1)  # fmt: skip
    assert not result.failed
    effects = result.effects.set_index(["future", "policy"])["handling_days_mean_closed"]
    # same as the baseline, same seeds: no difference at all in any future
    assert (effects.xs("same", level="policy") == 0.0).all()
    # more servers at a station: shorter stays in every future
    assert (effects.xs("more", level="policy") < 0.0).all()
    summary = result.summary[result.summary["output"] == "handling_days_mean_closed"]
    assert summary.set_index("policy").loc["more", "best_share"] == 1.0
    # a policy that adds staff adds them to each future's staff: 3 more posts at station c
    # cost 3e8 a year in every future; its value for money is that over the days it saves
    cost = result.effects.set_index(["future", "policy"])["cost_per_year"].xs("more", level=1)
    assert list(cost) == pytest.approx([3e8] * 4)
    staff = (3 * result.futures["agencies.*.staff"]).round()
    assert staff.nunique() > 1  # the futures did move the baseline's staff
    more_rows = result.effects[result.effects["policy"] == "more"]
    assert (more_rows["cost_per_day_saved"].dropna() > 0).all()
    assert result.effects.loc[result.effects["policy"] == "same", "cost_per_day_saved"].isna().all()
    again = explore(network, policies, 4, reps=2, seed=5, out=tmp_path / "x", goals=goals,
                    workers=1)  # fmt: skip
    pd.testing.assert_frame_equal(again.effects, result.effects)  # resumed from the store


def test_explore_command_writes_the_report_with_the_command_that_reproduces_it(
    network: Path, tmp_path: Path
) -> None:
    more = _write(tmp_path, "more.toml",
                  f'extends = "{network}"\n[agencies.station_c]\nstaff = 6\n')  # fmt: skip
    out = tmp_path / "report"
    args = ["explore", str(network), str(more), "--futures", "3", "--seed", "2", "--workers",
            "1", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "handling_days_median" in result.output
    report = (out / "report.md").read_text()
    assert "3 futures" in report and "--futures 3" in report
    for name in ("report.html", "effects.png", "regret.png", "summary.csv", "futures.csv"):
        assert (out / name).stat().st_size > 0
    no_ranges = CliRunner().invoke(app, ["explore", str(JACKSON), str(more), "--out",
                                         str(tmp_path / "none")])  # fmt: skip
    assert no_ranges.exit_code == 2
    assert "none to draw futures from" in no_ranges.output


def test_prim_finds_the_box_of_a_synthetic_problem_whose_answer_is_known() -> None:
    import numpy as np

    from collabsim.experiments.discovery import discover, parse_question

    rng = np.random.default_rng(1)
    n = 300
    futures = pd.DataFrame({"future": range(n), "a": rng.uniform(0, 1, n),
                            "b": rng.uniform(0, 10, n), "c": rng.uniform(0, 1, n)})  # fmt: skip
    inside = (futures["a"] > 0.7) & (futures["b"] < 3.0)
    levels = pd.concat([
        pd.DataFrame({"future": futures["future"], "policy": "baseline", "days": 1.0}),
        pd.DataFrame({"future": futures["future"], "policy": "A",
                      "days": np.where(inside, 0.5, 2.0)}),
    ])  # fmt: skip
    found = discover(futures, levels, parse_question("A < baseline", "days"))
    assert found.true == int(inside.sum())
    box = found.box.set_index("uncertainty")
    assert set(box.index) == {"a", "b"}  # c does not matter
    assert box.loc["a", "low"] == pytest.approx(0.7, abs=0.05)
    assert box.loc["b", "high"] == pytest.approx(3.0, abs=0.5)
    assert found.density >= 0.8 and found.coverage >= 0.8
    assert list(found.importance["uncertainty"])[-1] == "c"
    assert (box["qp"] < 0.01).all()


def test_questions_are_read_or_refused_clearly() -> None:
    from collabsim.errors import InputError
    from collabsim.experiments.discovery import parse_question

    q = parse_question("shared-case-system < more-hub-staff")
    assert q.left == ("shared-case-system", "handling_days_median") and q.op == "<"
    assert q.right == ("more-hub-staff", "handling_days_median")
    n = parse_question("baseline:follow_up_within_norm_share <= 0.8")
    assert n.left == ("baseline", "follow_up_within_norm_share") and n.number == 0.8
    with pytest.raises(InputError, match=r"expected e\.g\."):
        parse_question("more staff is better")
    levels = pd.DataFrame({"future": [0], "policy": ["baseline"], "days": [1.0]})
    with pytest.raises(InputError, match="no policy 'nobody'"):
        parse_question("nobody < baseline", "days").holds(levels)
    # a median not reached lies beyond the run: longer than any number of days
    reached = pd.DataFrame({"future": [0, 1], "policy": "baseline",
                            "handling_days_median": [100.0, float("nan")]})  # fmt: skip
    assert list(parse_question("baseline > 150").holds(reached)) == [False, True]


def test_discover_command_reads_an_exploration_folder(network: Path, tmp_path: Path) -> None:
    more = _write(tmp_path, "more.toml",
                  f'extends = "{network}"\n[agencies.station_c]\nstaff = 4\n')  # fmt: skip
    out = tmp_path / "x"
    question = "more:handling_days_mean_closed < 0.9"
    args = ["explore", str(network), str(more), "--futures", "12", "--workers", "1", "--out",
            str(out), "--question", question]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"When does {question} hold?" in result.output
    assert f"When does {question} hold?" in (out / "report.md").read_text()
    again = CliRunner().invoke(app, ["discover", str(out), question])
    assert again.exit_code == 0, again.output
    assert "coverage" in again.output
    missing = CliRunner().invoke(app, ["discover", str(tmp_path), question])
    assert missing.exit_code == 2 and "no futures.csv" in missing.output
    buy = CliRunner().invoke(app, ["allocate", str(out), "--budget", "2e8"])
    assert buy.exit_code == 0, buy.output
    assert "The best buy by the worst rule: more" in buy.output  # one post more, 1e8 a year
    poor = CliRunner().invoke(app, ["allocate", str(out), "--budget", "5e7"])
    assert "The best buy by the worst rule: baseline" in poor.output
    assert (out / "frontier-handling_days_median.png").stat().st_size > 0


def test_a_policy_draws_its_own_ranges_and_not_the_ones_it_inherits(
    network: Path, tmp_path: Path
) -> None:
    base = _write(tmp_path, "base2.toml", f'extends = "{network}"\n'
                  '[agencies.station_b]\nstaff_cost_per_year = 1e8\n'
                  '[ranges."agencies.station_b.staff"]\nlow = 2\nhigh = 3\n')  # fmt: skip
    policy = _write(tmp_path, "hire.toml", f'extends = "{base}"\n'
                    '[agencies.station_b]\nstaff = 4\n[costs]\none_off = 1e9\n'
                    '[ranges."costs.one_off"]\nlow = 5e8\nhigh = 2e9\n')  # fmt: skip
    result = explore(base, {"hire": policy}, 6, seed=1, out=tmp_path / "x", workers=1,
                     goals={"handling_days_mean_closed": "min"})  # fmt: skip
    columns = list(result.futures.columns)
    assert "hire:costs.one_off" in columns
    assert "hire:agencies.station_b.staff" not in columns  # inherited: the baseline's range
    one_off = result.futures["hire:costs.one_off"]
    assert one_off.between(5e8, 2e9).all() and one_off.nunique() == 6
    # two posts more than the future's baseline, whatever it is, plus the one-off over 5 years
    cost = result.effects.loc[result.effects["policy"] == "hire", "cost_per_year"]
    assert list(cost) == pytest.approx(list(2e8 + one_off / 5.0))


def test_the_allocator_finds_the_known_best_buy_of_a_small_case() -> None:
    from collabsim.experiments.allocate import allocate

    effects = {  # policy: (extra cost a year, effect on days in futures 0-9)
        "baseline": (0.0, [0.0] * 10),
        "A": (1e9, [-5.0] * 10),
        "B": (3e9, [-8.0] * 10),
        "C": (0.5e9, [-1.0, -6.0] * 5),  # good on average, poor in half the futures
        "D": (2e9, [-4.0] * 10),  # dearer than A and worse: off the frontier
    }
    table = pd.DataFrame(
        [{"future": f, "policy": p, "cost_per_year": cost, "days": e[f]}
         for p, (cost, e) in effects.items() for f in range(10)]
    )  # fmt: skip
    assert allocate(table, "days", "min", 2e9).choice == "A"
    assert allocate(table, "days", "min", 5e9).choice == "B"
    assert allocate(table, "days", "min", 0.1e9).choice == "baseline"
    assert allocate(table, "days", "min", 0.6e9).choice == "C"
    by_regret = allocate(table, "days", "min", 2e9, rule="regret")
    assert by_regret.choice == "A"
    regret = by_regret.table.set_index("policy")["regret_mean"]
    assert regret["A"] == 0.5 and regret["C"] == 2.0  # against baseline, A, C and D only
    frontier = by_regret.table.set_index("policy")["frontier"]
    assert list(frontier[frontier].index) == ["baseline", "A", "B", "C"]


def test_barrier_priority_over_futures_adds_up_and_names_the_first_to_fix(
    tmp_path: Path,
) -> None:
    from collabsim.experiments.priority import priority

    short = _write(tmp_path, "short.toml", f'extends = "{BASELINE}"\n'
                   "[run]\ndays = 150\nwarmup_days = 30\nmeasure_days = 60\n")  # fmt: skip
    result = priority(short, 3, seed=2, out=tmp_path / "p", workers=2,
                      output="handling_days_mean_closed")  # fmt: skip
    per = result.per_future
    assert len(per) == 3 * 7 and not result.failed
    for _, g in per.groupby("future"):
        assert g["share"].sum() == pytest.approx(1.0)  # the steps add up to all on - all off
        assert g["first"].sum() == 1
        assert g.loc[g["first"], "alone"].iloc[0] == g["alone"].max()
    table = result.table
    assert (table["futures"] == 3).all()
    assert table["first_share"].sum() == pytest.approx(1.0)
    assert table["share"].sum() == pytest.approx(1.0)
    # the command: the same experiment, resumed from the store
    args = ["attribute", str(short), "--futures", "3", "--reps", "1", "--seed", "2",
            "--out", str(tmp_path / "p"), "--workers", "2"]  # fmt: skip
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "first to fix in" in shown.output
    assert (tmp_path / "p" / "priority-by-future.csv").stat().st_size > 0
