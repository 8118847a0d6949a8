"""Collaboration dynamics: trust built slowly, lost quickly; conferences build understanding."""

from __future__ import annotations

import random

import numpy as np

import collabsim
from collabsim.model import CollaborationModel
from tests.conftest import BASELINE


def _model() -> CollaborationModel:
    return CollaborationModel(collabsim.load_scenario(BASELINE), seed=1)


def test_trust_is_lost_faster_than_it_is_built() -> None:
    m = _model()
    s = m.state
    s.T[0, 1] = 0.5
    s.handover(0, 1, 1.0)
    gain = s.T[0, 1] - 0.5
    s.T[0, 1] = 0.5
    s.handover(0, 1, 0.0)
    loss = 0.5 - s.T[0, 1]
    assert 0 < gain < loss


def test_conferences_raise_understanding_and_silence_decays_it() -> None:
    m = _model()
    s = m.state
    s.commitment[:] = 1.0
    before = s.U.mean()
    s.conference(random.Random(0))
    after = s.U.mean()
    assert after > before
    s.U[:] = 0.9
    for day in range(1, 30):  # no conference on these days
        s.daily(day, random.Random(day))
    assert s.U.mean() < 0.9


def test_indices_are_reported_daily_within_bounds() -> None:
    r = collabsim.run(BASELINE, 1, days=120)
    for col in ("engagement", "motivation", "capacity"):
        assert r.timeseries[col].between(0, 1).all()
    assert np.ptp(r.timeseries["motivation"]) > 0  # evolving state, not a label


def test_low_trust_and_strong_ego_make_handling_slower() -> None:
    low = collabsim.run(
        BASELINE,
        1,
        overrides={
            "dynamics.initial_trust": 0.1,
            "dynamics.same_sector_trust": 0.3,
            "agencies.police_ppa.sectoral_ego": 0.9,
            "agencies.hospital.sectoral_ego": 0.9,
        },
    ).summary
    high = collabsim.run(
        BASELINE, 1, overrides={"dynamics.initial_trust": 0.9, "dynamics.same_sector_trust": 0.95}
    ).summary
    assert low["motivation_end"] < high["motivation_end"]
    assert low["handling_days_mean"] > high["handling_days_mean"]
