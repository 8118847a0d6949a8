"""The rebuilt core: random streams that stay in step, one barrier count, lean = full, no cycles."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import collabsim
from collabsim.api import simulate
from collabsim.cases import EventKind
from collabsim.metrics import case_table
from collabsim.scenario import BARRIER_NAMES
from tests.conftest import BASELINE, ROOT, cached_run

EARLY = {"run.warmup_days": 50}


def _durations_by_step(model: collabsim.CollaborationModel) -> dict[tuple[int, int, int], float]:
    """(case key, track, step) -> the first attempt's drawn service duration, from the trail."""
    out: dict[tuple[int, int, int], float] = {}
    for case in model.cases:
        assert case.log is not None
        for track in {e.track for e in case.log}:
            out.update(_track_durations(case.key, track, [e for e in case.log if e.track == track]))
    return out


def _track_durations(key: int, track: int, log: list[Any]) -> dict[tuple[int, int, int], float]:
    out = {}
    step, first = 0, True
    for e in log:
        if e.kind is EventKind.STARTED and first:
            out[(key, track, step)] = e.days
            first = False
        elif e.kind is EventKind.REWORK:
            first = False
        elif e.kind is EventKind.COMPLETED:
            step, first = step + 1, True
    return out


def test_the_two_arms_of_a_comparison_stay_in_step() -> None:
    base = collabsim.load_scenario(BASELINE, {"run.days": 300, "run.warmup_days": 60})
    # arm B: no refusals or holds, no rework: other referrals, other steps redone in A
    other = collabsim.load_scenario(
        BASELINE,
        {"run.days": 300, "run.warmup_days": 60, "barriers.sectoral_ego.intensity": 0.0,
         "barriers.resources.intensity": 0.0},
    )  # fmt: skip
    a, b = simulate(base, 5), simulate(other, 5)
    # repeat reports come at other times in the two arms: compare first reports by key
    first_a = [(c.key, c.plan) for c in a.cases if c.repeat_of is None][:500]
    first_b = [(c.key, c.plan) for c in b.cases if c.repeat_of is None][:500]
    assert first_a == first_b
    events_a = sum(a.barriers.events.all[k] for k in ("sectoral_ego", "resources"))
    assert events_a > 500  # arm A has many refusals, holds and reworks that B has not
    da, db = _durations_by_step(a), _durations_by_step(b)
    shared = set(da) & set(db)
    assert len(shared) > 2000
    assert all(da[k] == db[k] for k in shared)  # every first attempt drew the same duration


def test_one_barrier_count_for_summary_series_and_cases() -> None:
    r = cached_run(str(BASELINE), 1)
    model = simulate(r.scenario, 1)
    events = model.barriers.events
    last = model.timeseries().iloc[-1]
    everything = case_table(model)
    for b in BARRIER_NAMES:
        assert r.summary["barrier_events"][b] == events.measured[b], b
        assert last[f"events_{b}_measured"] == events.measured[b], b
        assert last[f"events_{b}"] == events.all[b] == everything[f"events_{b}"].sum(), b
    assert sum(events.all.values()) > sum(events.measured.values()) > 0


def test_the_lean_trail_gives_the_same_outputs() -> None:
    full = collabsim.run(BASELINE, 3, days=200, overrides=EARLY, trail="full")
    lean = collabsim.run(BASELINE, 3, days=200, overrides=EARLY, trail="lean")
    assert json.dumps(full.summary, sort_keys=True) == json.dumps(lean.summary, sort_keys=True)
    pd.testing.assert_frame_equal(full.cases, lean.cases)
    pd.testing.assert_frame_equal(full.timeseries, lean.timeseries)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    return {m.removeprefix("collabsim.").split(".")[0] for m in names if m.startswith("collabsim.")}


def test_the_model_modules_import_each_other_without_cycles() -> None:
    modules = {p.stem: p for p in (ROOT / "collabsim").glob("*.py") if p.stem != "__init__"}
    graph = {name: _imports(path) & set(modules) for name, path in modules.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start]
        )

    cycles = [m for m in graph if reaches(m, m, {m})]
    assert not cycles, cycles
    assert "model" not in graph["agency"] and "model" not in graph["barriers"]


def _two_regions() -> collabsim.Scenario:
    from collabsim.loading import load_raw, scenario_from_dict
    from collabsim.scenario import PROVINCE

    raw = load_raw(BASELINE)
    cities = list(raw["arrivals"]["cases_per_year"])
    raw["run"]["days"] = 200
    raw["run"]["warmup_days"] = 50
    raw["arrivals"]["cases_per_year"] = {
        f"{c} #{r}": v for r in range(2) for c, v in raw["arrivals"]["cases_per_year"].items()
    }
    raw["regions"] = {f"R{r}": [f"{c} #{r}" for c in cities] for r in range(2)}
    for tpl in raw["agencies"].values():
        tpl["per_city"] = {
            (f"R{r}" if p == PROVINCE else f"{p} #{r}"): n
            for r in range(2)
            for p, n in tpl["per_city"].items()
        }
    return scenario_from_dict(raw, "two regions")


def test_a_region_serves_its_own_cities_only() -> None:
    s = _two_regions()
    model = simulate(s, 2)
    copy_of = {a.index: a.city.split("#")[-1].lstrip("R") for a in model.agencies}
    served = 0
    for case in model.cases:
        assert case.log is not None
        mine = case.city.split("#")[-1].strip()
        for e in case.log:
            if e.kind is EventKind.STARTED and e.agency is not None:
                assert copy_of[e.agency].strip() == mine, (case.city, model.agencies[e.agency].name)
                served += 1
    assert served > 5000


def test_regions_are_checked() -> None:
    from collabsim.errors import ScenarioError
    from collabsim.loading import scenario_from_dict

    raw = _two_regions().model_dump(by_alias=True)
    raw["regions"]["R0"].append("Nowhere")
    raw["regions"]["Jakarta Timur #0"] = []
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw, "bad regions")
    text = str(info.value)
    assert "regions.R0: unknown city 'Nowhere'" in text
    assert "regions.Jakarta Timur #0: a region cannot be named like a city" in text
