"""Collaboration dynamics: trust built slowly, lost quickly; conferences build understanding."""

from __future__ import annotations

import numpy as np

import collabsim
from collabsim.model import CollaborationModel
from tests.conftest import BASELINE


def _model() -> CollaborationModel:
    return CollaborationModel(collabsim.load_scenario(BASELINE), seed=1)


def _linked_pair(m: CollaborationModel) -> tuple[int, int]:
    return next(iter(m.network.edges))


def test_trust_is_lost_faster_than_it_is_built() -> None:
    m = _model()
    s = m.state
    i, j = _linked_pair(m)
    before = s.trust(i, j)
    s.handover(i, j, 1.0)
    gain = s.trust(i, j) - before
    m2 = _model()
    m2.state.handover(i, j, 0.0)
    loss = before - m2.state.trust(i, j)
    assert 0 < gain < loss


def test_conferences_raise_understanding_and_silence_lets_it_relax() -> None:
    m = _model()
    s = m.state
    s.commitment[:] = 1.0
    before = s.mean_understanding()
    s.meet(s.attend(), 0, 0)
    after = s.mean_understanding()
    assert after > before
    m.clock.now = 60.0  # sixty days without contact (no events run)
    assert before < s.mean_understanding() < after


def test_state_is_held_over_linked_pairs_only() -> None:
    m = _model()
    n = len(m.agencies)
    assert len(m.state._i) == 2 * m.network.number_of_edges() < n * n / 10
    i, j = _linked_pair(m)
    m.state.handover(j, i, 1.0)  # a pair that meets is added
    far = next(k for k in range(n) if (i, k) not in m.network.edges and k != i)
    assert m.state.trust(i, far) == m.state.trust(i, far)  # read without creating it
    assert len(m.state._i) == 2 * m.network.number_of_edges()


def test_indices_are_reported_daily_within_bounds() -> None:
    r = collabsim.run(BASELINE, 1, days=120, overrides={"run.warmup_days": 20})
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
    assert low["handling_days_median"] > high["handling_days_median"]
