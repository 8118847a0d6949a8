"""The best mix for a budget: composing interventions, and the search over mixes and posts."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from collabsim.cli import app
from collabsim.errors import InputError
from collabsim.experiments.mix import Mix, compose, evolve, search_mix
from collabsim.loading import load_scenario
from collabsim.scenario import parameters

ROOT = Path(__file__).resolve().parents[1]
JACKSON = ROOT / "scenarios" / "jackson-network.toml"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def case(tmp_path: Path) -> dict[str, Path]:
    """A short Jackson network, a post at station a costing Rp 100 million a year, and two levers.

    ``slow`` makes station b slower for nothing (it only hurts); ``fast`` makes
    station a's service 2.5 times faster for Rp 400-600 million a year.
    """
    base = _write(
        tmp_path,
        "base.toml",
        f"""extends = "{JACKSON}"
[run]
days = 300
warmup_days = 50
[agencies.station_a]
staff_cost_per_year = 1e8
[ranges."services.*.duration.mean"]
low = 0.9
high = 1.1
relative = true
reason = "test: every service's length, together"
""",
    )
    slow = _write(
        tmp_path,
        "slow.toml",
        """extends = "base.toml"
[services.b]
duration = { dist = "exponential", mean = 0.6 }
""",
    )
    fast = _write(
        tmp_path,
        "fast.toml",
        """extends = "base.toml"
[services.a]
duration = { dist = "exponential", mean = 0.1 }
[agencies.station_a]
staff = 3
[costs]
yearly = 5e8
[ranges."costs.yearly"]
low = 4e8
high = 6e8
reason = "test: its running cost"
""",
    )
    return {"base": base, "slow": slow, "fast": fast}


def _runs(folder: Path) -> int:
    with sqlite3.connect(folder / "results.sqlite") as db:
        return int(db.execute("SELECT count(*) FROM runs WHERE status = 'done'").fetchone()[0])


def test_mixed_interventions_add_their_counts_and_costs(
    case: dict[str, Path], tmp_path: Path
) -> None:
    base = load_scenario(case["base"])
    levers = {n: load_scenario(case[n]) for n in ("slow", "fast")}
    also = load_scenario(
        _write(
            tmp_path,
            "also.toml",
            'extends = "base.toml"\n[agencies.station_a]\nstaff = 4\n'
            "[costs]\nyearly = 1e8\none_off = 5e8\n",
        )
    )
    mixed = parameters(compose(base, levers | {"also": also}, {"station_a": 1, "station_c": 2}))
    assert mixed["agencies.station_a.staff"] == 2 + 1 + 2 + 1  # fast +1, also +2, the search +1
    assert mixed["agencies.station_c.staff"] == 3 + 2
    assert mixed["costs.yearly"] == pytest.approx(5e8 + 1e8)
    assert mixed["costs.one_off"] == pytest.approx(5e8)
    assert mixed["services.a.duration.mean"] == 0.1
    assert mixed["services.b.duration.mean"] == 0.6
    assert parameters(compose(base, {})) == parameters(base)


def test_interventions_that_set_one_thing_differently_cannot_be_mixed(
    case: dict[str, Path], tmp_path: Path
) -> None:
    base = load_scenario(case["base"])
    other = load_scenario(
        _write(
            tmp_path,
            "other.toml",
            'extends = "base.toml"\n[services.a]\n'
            'duration = { dist = "exponential", mean = 0.2 }\n',
        )
    )
    with pytest.raises(InputError, match=r"services\.a\.duration\.mean: fast sets 0\.1 and other"):
        compose(base, {"fast": load_scenario(case["fast"]), "other": other})
    with pytest.raises(InputError, match="'nowhere' is no agency kind"):
        compose(base, {}, {"nowhere": 1})


def test_the_search_finds_the_known_best_mix_and_never_runs_one_over_budget(
    case: dict[str, Path], tmp_path: Path
) -> None:
    levers = {"slow": case["slow"], "fast": case["fast"]}
    out = tmp_path / "out"
    # Rp 250 million: fast (Rp 500 million and one post) is out of reach; two posts at a are best
    poor = search_mix(case["base"], levers, 2.5e8, 4, staff={"station_a": 2}, reps=2, out=out)
    assert poor.method == "all" and poor.allocation.choice == "station_a+2"
    assert (poor.proposed, poor.too_dear, len(poor.mixes)) == (12, 6, 6)
    assert _runs(out) == 6 * 4 * 2
    assert not poor.mixes["fast"].any()
    # the cost known before the runs is the one the runs report
    assert poor.mixes.set_index("policy").loc["station_a+2", "cost_p90"] == pytest.approx(2e8)
    # Rp 1 billion: everything is affordable; the fast service with two more posts is best
    rich = search_mix(case["base"], levers, 1e9, 4, staff={"station_a": 2}, reps=2, out=out)
    assert rich.allocation.choice == "fast & station_a+2"
    assert _runs(out) == 12 * 4 * 2  # the six mixes run before were not run again
    table = rich.mixes.set_index("policy")
    assert table.loc["fast", "cost_p90"] > 5e8  # its own cost range, drawn in each future
    assert not table.loc[["slow", "slow & station_a+1"], "frontier"].any()


def test_differential_evolution_finds_the_optimum_of_a_small_knapsack() -> None:
    value = np.array([6, 5, 4, 3, 7])
    price = np.array([4, 3, 3, 2, 5])
    bounds = [(0, 1)] * 5 + [(0, 6)]

    def score(x: np.ndarray) -> float:
        v = np.round(x).astype(int)
        return -float(value @ v[:5] + 2.5 * np.sqrt(v[5]))

    def cost(x: np.ndarray) -> float:
        v = np.round(x).astype(int)
        return float(price @ v[:5] + v[5])

    space = [np.array(v) for v in itertools.product(*(range(lo, hi + 1) for lo, hi in bounds))]
    best = min((v for v in space if cost(v) <= 10), key=score)
    scored: dict[tuple[int, ...], float] = {}

    def batch(xs: list[np.ndarray]) -> list[float]:
        assert all(cost(x) <= 10 for x in xs)  # nothing over the budget is scored
        scored.update({tuple(np.round(x).astype(int)): score(x) for x in xs})
        return [score(x) for x in xs]

    evolve(bounds, batch, cost, 10, generations=10, population=4, seed=0)
    assert min(scored.values()) == score(best)
    assert len(scored) < len(space) / 2  # a search, not an enumeration


def test_an_evolved_search_agrees_with_running_every_mix_and_resumes(
    case: dict[str, Path], tmp_path: Path
) -> None:
    levers = {"slow": case["slow"], "fast": case["fast"]}
    options = {"staff": {"station_a": 4}, "reps": 1, "seed": 3}
    every = search_mix(case["base"], levers, 6e8, 3, out=tmp_path / "all", **options)
    assert every.method == "all" and len(every.mixes) == every.proposed - every.too_dear
    searched = search_mix(case["base"], levers, 6e8, 3, out=tmp_path / "evolve", method="evolve",
                          generations=4, population=3, **options)  # fmt: skip
    assert searched.method == "evolve"
    assert searched.allocation.choice == every.allocation.choice
    ran = _runs(tmp_path / "evolve")
    assert ran == len(searched.mixes) * 3  # each mix ran once, however often it was proposed
    again = search_mix(case["base"], levers, 6e8, 3, out=tmp_path / "evolve", method="evolve",
                       generations=4, population=3, **options)  # fmt: skip
    assert _runs(tmp_path / "evolve") == ran
    pd.testing.assert_frame_equal(again.mixes, searched.mixes)


def test_mix_command_writes_its_tables_and_refuses_bad_input(
    case: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "cli"
    args = ["mix", str(case["base"]), str(case["slow"]), "--budget", "2.5e8",
            "--staff", "station_a=1", "--futures", "2", "--out", str(out)]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "The best mix by the worst rule: station_a+1" in done.output
    assert {p.name for p in out.iterdir()} >= {
        "mixes-handling_days_median.csv", "effects.csv", "futures.csv",
        "mix-frontier-handling_days_median.png",
    }  # fmt: skip
    # allocate re-chooses among the mixes that ran, for another budget, without running
    poorer = CliRunner().invoke(app, ["allocate", str(out), "--budget", "0"])
    assert poorer.exit_code == 0 and "The best buy by the worst rule: baseline" in poorer.output
    bad = CliRunner().invoke(app, [*args[:-2], "--staff", "station_a=x"])
    assert bad.exit_code == 2 and "expected KIND=MOST" in bad.output
    empty = CliRunner().invoke(app, ["mix", str(case["base"]), "--budget", "1", "--futures", "2"])
    assert empty.exit_code == 2 and "nothing to mix" in empty.output
    assert Mix().name == "baseline"
