"""Collaboration dynamics (Emerson & Nabatchi 2015) as evolving state, held over pairs that meet.

Per ordered pair of agencies (i refers to j, or i has seen j's work): trust
``T``, mutual understanding ``U`` and perceived facility readiness ``R``; per
agency: commitment and the running share of good outcomes it sees. Pairs are
held only for agencies that are linked or have met, so the state grows with
the network's links, not with the square of its agencies. The barriers read
this state; handovers and case conferences write it, which closes the
virtuous and the vicious cycle:

* after each handover with outcome ``o`` in [0, 1] (1 = on time and right),
  ``T += trust_gain * (o - T)`` if ``o > T`` else ``trust_loss * (o - T)``
  (trust is built slowly and lost quickly), and ``U`` grows a little;
* joint case conferences every ``conference_interval_days``: each agency
  attends with probability equal to its commitment; attending pairs gain
  ``U += conference_gain * quality * leadership * (1 - U)``;
* ``T`` and ``U`` relax toward their resting values by ``decay_per_day`` per
  day; the relaxation is applied lazily, from the time a pair last changed;
* commitment moves toward ``good_share * (1 - sectoral_ego)`` every day.

Assumption (no source gives numbers): the rates and the outcome penalties
are illustrative; the structure follows the framework's feedbacks.
"""

from __future__ import annotations

import random
from array import array
from typing import NamedTuple, Protocol

import networkx as nx
import numpy as np

from collabsim.scenario import Dynamics

__all__ = ["Clock", "CollaborationState", "Indices"]


class Clock(Protocol):
    """Anything with the current time in days (the model's event queue)."""

    now: float


class Indices(NamedTuple):
    """The three components of collaboration dynamics, each in [0, 1]."""

    engagement: float
    motivation: float
    capacity: float


class CollaborationState:
    """Trust, understanding, perceived readiness and commitment, and their updates.

    Args:
        params: the scenario's ``dynamics`` section.
        network: the referral network (its edges are the linked pairs).
        sectors: each agency's sector.
        readiness: each agency's true facility readiness (what others start believing).
        ego: each agency's effective sectoral ego (after the barrier's intensity).
        clock: the model's clock, for the lazy relaxation.
    """

    def __init__(
        self,
        params: Dynamics,
        network: nx.DiGraph,
        sectors: list[str],
        readiness: list[float],
        ego: list[float],
        clock: Clock,
    ) -> None:
        """Set the starting state: every linked pair, both ways, at its resting values."""
        self.p = params
        self.enabled = params.enabled
        self._clock = clock
        self._sectors = sectors
        self._readiness = readiness
        self._keep = 1.0 - params.decay_per_day
        self.ego = np.asarray(ego, dtype=float)
        self.commitment = np.full(len(sectors), params.initial_commitment)
        self.good = [params.initial_commitment] * len(sectors)
        self.attendance = 0.0
        self._index: dict[tuple[int, int], int] = {}
        self._i: list[int] = []
        self._j: list[int] = []
        self._t = array("d")  # trust, as of _since
        self._t0 = array("d")  # resting trust
        self._u = array("d")  # understanding, as of _since
        self._r = array("d")  # perceived readiness of j by i
        self._since = array("d")
        for i, j in network.edges:
            self.pair(i, j)
            self.pair(j, i)
        edges = list(network.edges)
        self._links = np.array([self._index[e] for e in edges], dtype=np.intp)
        cross = [self._index[(i, j)] for i, j in edges if sectors[i] != sectors[j]]
        self._cross = np.array(cross, dtype=np.intp)

    # ------------------------------------------------------------ pairs
    def pair(self, i: int, j: int) -> int:
        """The index of the pair (i, j), created at its resting values when first met."""
        k = self._index.get((i, j))
        if k is None:
            k = self._index[(i, j)] = len(self._i)
            self._i.append(i)
            self._j.append(j)
            p = self.p
            rest = p.same_sector_trust if self._sectors[i] == self._sectors[j] else p.initial_trust
            self._t.append(rest)
            self._t0.append(rest)
            self._u.append(p.initial_understanding)
            self._r.append(self._readiness[j])
            self._since.append(self._clock.now)
        return k

    def _settle(self, k: int) -> None:
        """Apply the relaxation toward rest since the pair last changed."""
        now = self._clock.now
        dt = now - self._since[k]
        if dt > 0.0 and self.enabled:
            f = self._keep**dt
            t0 = self._t0[k]
            self._t[k] = t0 + (self._t[k] - t0) * f
            u0 = self.p.initial_understanding
            self._u[k] = u0 + (self._u[k] - u0) * f
        self._since[k] = now

    def trust(self, i: int, j: int) -> float:
        """I's trust in j now."""
        k = self._index.get((i, j))
        if k is None:
            return (
                self.p.same_sector_trust
                if self._sectors[i] == self._sectors[j]
                else self.p.initial_trust
            )
        self._settle(k)
        return self._t[k]

    def understanding(self, i: int, j: int) -> float:
        """Mutual understanding of i with j now."""
        k = self._index.get((i, j))
        if k is None:
            return self.p.initial_understanding
        self._settle(k)
        return self._u[k]

    def readiness(self, i: int, j: int) -> float:
        """I's belief in j's facility readiness."""
        k = self._index.get((i, j))
        return self._readiness[j] if k is None else self._r[k]

    # ---------------------------------------------------------- updates
    def handover(self, i: int, j: int, outcome: float) -> None:
        """Update the pair (i referred to j) after a handover with ``outcome`` in [0, 1]."""
        if not self.enabled:
            return
        p = self.p
        for a, b in ((i, j), (j, i)):
            k = self.pair(a, b)
            self._settle(k)
            t = self._t[k]
            rate = p.trust_gain if outcome > t else p.trust_loss
            self._t[k] = t + rate * (outcome - t)
            u = self._u[k]
            self._u[k] = u + p.understanding_gain * (1.0 - u)
        s = p.outcome_smoothing
        self.good[i] += s * (outcome - self.good[i])
        self.good[j] += s * (outcome - self.good[j])

    def observe_quality(self, i: int, j: int, done_right: bool, rate: float) -> None:
        """Agency i updates its belief in j's facility readiness from one service."""
        if not self.enabled:
            return
        k = self.pair(i, j)
        r = self._r[k]
        self._r[k] = r + rate * ((1.0 if done_right else 0.0) - r)

    def daily(self, day: int, rng: random.Random) -> None:
        """End-of-day update: commitment, and a conference when one is due."""
        if not self.enabled:
            return
        p = self.p
        good = np.asarray(self.good)
        self.commitment += p.commitment_rate * (good * (1.0 - self.ego) - self.commitment)
        if day % max(1, round(p.conference_interval_days)) == 0:
            self.conference(rng)

    def conference(self, rng: random.Random) -> None:
        """A joint case conference: pairs whose two agencies attend gain mutual understanding."""
        p = self.p
        attends = np.array([rng.random() < c for c in self.commitment], dtype=bool)
        self.attendance = float(attends.mean()) if attends.size else 0.0
        if not self._i:
            return
        both = attends[np.asarray(self._i)] & attends[np.asarray(self._j)]
        gain = p.conference_gain * p.conference_quality * p.hub_leadership
        u = np.frombuffer(self._u, dtype=float)
        u[:] = self._relaxed(u, p.initial_understanding)
        u[both] += gain * (1.0 - u[both])
        t = np.frombuffer(self._t, dtype=float)
        t[:] = self._relaxed(t, np.frombuffer(self._t0, dtype=float))
        np.frombuffer(self._since, dtype=float)[:] = self._clock.now
        del u, t  # release the buffers: the arrays may grow again

    def _relaxed(self, values: np.ndarray, rest: np.ndarray | float) -> np.ndarray:
        """Every pair's value now, relaxed toward ``rest`` since it last changed."""
        if not self.enabled:
            return values.copy()
        age = self._clock.now - np.frombuffer(self._since, dtype=float)
        return np.asarray(rest + (values - rest) * self._keep**age)

    # -------------------------------------------------------- observables
    def _mean_now(self, which: str, pairs: np.ndarray) -> float:
        if not pairs.size:
            return float("nan")
        values = np.frombuffer(self._t if which == "T" else self._u, dtype=float)[pairs]
        rest = (
            np.frombuffer(self._t0, dtype=float)[pairs]
            if which == "T"
            else self.p.initial_understanding
        )
        if self.enabled:
            age = self._clock.now - np.frombuffer(self._since, dtype=float)[pairs]
            values = rest + (values - rest) * self._keep**age
        return float(values.mean())

    def mean_trust(self) -> float:
        """Mean trust over the network's linked pairs."""
        return self._mean_now("T", self._links)

    def mean_understanding(self) -> float:
        """Mean understanding over the network's linked pairs."""
        return self._mean_now("U", self._links)

    def cross_sector_trust(self) -> float:
        """Mean trust over the linked pairs whose agencies are of different sectors."""
        return self._mean_now("T", self._cross)

    def indices(self, sop_integration: float, knowledge: float, resources: float) -> Indices:
        """The three components of collaboration dynamics.

        Args:
            sop_integration: one minus the SOP barrier's intensity.
            knowledge: share of completed services reported so far.
            resources: one minus the share of agencies overloaded.
        """
        p = self.p
        t, u = self.mean_trust(), self.mean_understanding()
        if t != t:  # no links: the resting values
            t, u = p.initial_trust, p.initial_understanding
        frequency = min(1.0, p.conference_norm_days / max(1, round(p.conference_interval_days)))
        engagement = frequency * (self.attendance + u) / 2.0
        motivation = (t + u + float(self.commitment.mean())) / 3.0
        capacity = (sop_integration + knowledge + p.hub_leadership + resources) / 4.0
        return Indices(engagement, motivation, capacity)
