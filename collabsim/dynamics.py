"""Collaboration dynamics (Emerson & Nabatchi 2015) as evolving state.

Per ordered pair of agencies (i refers to j): trust ``T[i, j]``, mutual
understanding ``U[i, j]`` and perceived facility readiness ``R[i, j]``; per
agency: commitment and the running share of good outcomes it sees. The
barriers read this state; handovers and case conferences write it, which
closes the virtuous and the vicious cycle:

* after each handover with outcome ``o`` in [0, 1] (1 = on time and right),
  ``T += trust_gain * (o - T)`` if ``o > T`` else ``trust_loss * (o - T)``
  (trust is built slowly and lost quickly), and ``U`` grows a little;
* joint case conferences every ``conference_interval_days``: each agency
  attends with probability equal to its commitment; attending pairs gain
  ``U += conference_gain * quality * leadership * (1 - U)``;
* every day ``T`` and ``U`` decay toward their starting values;
* commitment moves toward ``good_share * (1 - sectoral_ego)``.

Assumption (no source gives numbers): the rates and the outcome penalties
are illustrative; the structure follows the framework's feedbacks.
"""

from __future__ import annotations

import random

import networkx as nx
import numpy as np

from collabsim.scenario import Scenario

__all__ = ["CollaborationState", "Indices"]

Indices = tuple[float, float, float]


class CollaborationState:
    """Trust, understanding, perceived readiness and commitment, and their updates."""

    def __init__(
        self,
        scenario: Scenario,
        network: nx.DiGraph,
        sectors: list[str],
        readiness: list[float],
        ego: list[float],
    ) -> None:
        """Set the starting state.

        Args:
            scenario: the scenario (its ``dynamics`` section).
            network: the referral network (its edges are the "linked pairs").
            sectors: each agency's sector.
            readiness: each agency's true facility readiness.
            ego: each agency's effective sectoral ego (after the barrier's intensity).
        """
        d = scenario.dynamics
        self.p = d
        n = len(sectors)
        sec = np.array(sectors)
        same = sec[:, None] == sec[None, :]
        self.T0 = np.where(same, d.same_sector_trust, d.initial_trust)
        self.U0 = np.full((n, n), d.initial_understanding)
        self.T = self.T0.copy()
        self.U = self.U0.copy()
        self.R = np.tile(np.asarray(readiness, dtype=float), (n, 1))
        self.ego = np.asarray(ego, dtype=float)
        self.commitment = np.full(n, d.initial_commitment)
        self.good = np.full(n, d.initial_commitment)
        self.attendance = 0.0
        edges = list(network.edges)
        self._src = np.array([e[0] for e in edges], dtype=int)
        self._dst = np.array([e[1] for e in edges], dtype=int)
        cross = sec[self._src] != sec[self._dst] if edges else np.array([], dtype=bool)
        self._cross_src, self._cross_dst = self._src[cross], self._dst[cross]
        self.enabled = d.enabled

    def handover(self, i: int, j: int, outcome: float) -> None:
        """Update the pair (i referred to j) after a handover with ``outcome`` in [0, 1]."""
        if not self.enabled:
            return
        p = self.p
        for a, b in ((i, j), (j, i)):
            t = self.T[a, b]
            rate = p.trust_gain if outcome > t else p.trust_loss
            self.T[a, b] = t + rate * (outcome - t)
            u = self.U[a, b]
            self.U[a, b] = u + p.understanding_gain * (1.0 - u)
        self.good[i] += 0.05 * (outcome - self.good[i])
        self.good[j] += 0.05 * (outcome - self.good[j])

    def observe_quality(self, i: int, j: int, done_right: bool, rate: float) -> None:
        """Agency i updates its belief in j's facility readiness from one service."""
        if not self.enabled:
            return
        r = self.R[i, j]
        self.R[i, j] = r + rate * ((1.0 if done_right else 0.0) - r)

    def daily(self, day: int, rng: random.Random) -> None:
        """End-of-day update: decay, commitment, and a conference when one is due."""
        if not self.enabled:
            return
        p = self.p
        self.T += p.decay_per_day * (self.T0 - self.T)
        self.U += p.decay_per_day * (self.U0 - self.U)
        self.commitment += p.commitment_rate * (self.good * (1.0 - self.ego) - self.commitment)
        interval = p.conference_interval_days
        if day % max(1, round(interval)) == 0:
            self.conference(rng)

    def conference(self, rng: random.Random) -> None:
        """A joint case conference: attending pairs gain mutual understanding."""
        p = self.p
        att = np.array([rng.random() < c for c in self.commitment], dtype=float)
        self.attendance = float(att.mean()) if att.size else 0.0
        pair = np.outer(att, att)
        gain = p.conference_gain * p.conference_quality * p.hub_leadership
        self.U += gain * pair * (1.0 - self.U)

    def mean_over_links(self, matrix: np.ndarray) -> float:
        """Mean of a pair matrix over the network's edges (all pairs if it has none)."""
        if self._src.size:
            return float(matrix[self._src, self._dst].mean())
        return float(matrix.mean())

    def cross_sector_trust(self) -> float:
        """Mean trust over the linked pairs whose agencies are of different sectors."""
        if not self._cross_src.size:
            return float("nan")
        return float(self.T[self._cross_src, self._cross_dst].mean())

    def indices(self, sop_integration: float, knowledge: float, resources: float) -> Indices:
        """The three components of collaboration dynamics, each in [0, 1].

        Args:
            sop_integration: one minus the SOP barrier's intensity.
            knowledge: share of completed services reported so far.
            resources: one minus the share of agencies overloaded.

        Returns:
            (principled engagement, shared motivation, capacity for joint action).
        """
        p = self.p
        t, u = self.mean_over_links(self.T), self.mean_over_links(self.U)
        frequency = min(1.0, 30.0 / max(1, round(p.conference_interval_days)))
        engagement = frequency * (self.attendance + u) / 2.0
        motivation = (t + u + float(self.commitment.mean())) / 3.0
        capacity = (sop_integration + knowledge + p.hub_leadership + resources) / 4.0
        return engagement, motivation, capacity
