"""Collaboration dynamics (Emerson & Nabatchi 2015) as evolving state, read by the barriers.

The framework's three components each rest on four indicators, and every
indicator is a number in [0, 1] that the run moves:

* **principled engagement**: *discovery* (the share of completed services
  reported to the case manager), *definition* (the share of referrals that
  reach the right agency the first time), *deliberation* (conference
  frequency against the norm, times attendance) and *determination* (the
  share of blocked cases a conference settles);
* **shared motivation**: *trust* and mutual *understanding* (means over the
  linked pairs), internal *legitimacy* (each agency's belief that the
  collaboration is worth its effort, fed by the outcomes it sees) and
  *commitment* (legitimacy tempered by sectoral ego);
* **capacity for joint action**: *procedural* arrangements (joint SOPs: one
  minus the SOP barrier's chance of a re-intake), *leadership*, *knowledge*
  and *resources* (posts filled, agencies not overloaded).

Procedural arrangements also include formal links: how far a referral link
is under a formal SOP or MoU (its formality: 1 on a scenario's ``sop = true``
link at the start, else 0) lowers the re-intake chance toward
``formal_link_factor`` and adds to the referrer's preference; conferences
that both ends attend formalise a link further, and it erodes when the
parties stop meeting (``link_formalise``, ``link_lapse``; 0 in the baseline).

Each component is the mean of its four indicators. The flows (discovery,
definition, deliberation, determination, resources) are smoothed over about
``1 / indicator_smoothing`` days. Procedural arrangements, leadership and
knowledge are stocks: each day they grow with the drive of engagement and
motivation and erode without it,
``X += build * d * (1 - X) - erosion * (1 - d) * X`` with ``d`` the product
of engagement and shared motivation (for knowledge, the mean of discovery
and deliberation: what reports and conferences share). Pair trust and
understanding relax toward neutral levels, not toward where they started,
so a run's history stays in its state until engagement changes it.

The barriers read the state (trust, understanding, readiness, procedural
arrangements, knowledge); handovers, reports, referrals and case conferences
write it, which closes the virtuous and the vicious cycle.

Assumption (no source gives numbers): every rate is a scenario parameter
with a plausible range; the structure follows the framework's feedbacks.
"""

from __future__ import annotations

from array import array
from typing import NamedTuple, Protocol

import networkx as nx
import numpy as np

from collabsim.scenario import Dynamics, Survey
from collabsim.streams import Purpose, uniform

__all__ = ["Clock", "CollaborationState", "Indicators", "Indices"]


class Clock(Protocol):
    """Anything with the current time in days (the model's event queue)."""

    now: float


class Indices(NamedTuple):
    """The three components of collaboration dynamics, each in [0, 1]."""

    engagement: float
    motivation: float
    capacity: float


class Indicators(NamedTuple):
    """The twelve indicators, four per component, each in [0, 1] (see the module's docstring)."""

    discovery: float
    definition: float
    deliberation: float
    determination: float
    trust: float
    understanding: float
    legitimacy: float
    commitment: float
    procedural: float
    leadership: float
    knowledge: float
    resources: float

    def indices(self) -> Indices:
        """Each component: the mean of its four indicators."""
        return Indices(sum(self[0:4]) / 4.0, sum(self[4:8]) / 4.0, sum(self[8:12]) / 4.0)


def _start(survey: Survey, indicator: str, default: float) -> float:
    value = survey.start(indicator)
    return default if value is None else value


class CollaborationState:
    """The collaboration's state (pairs, agencies, the regime's capacity) and its updates.

    Pairs hold trust, understanding and perceived readiness; agencies their
    legitimacy and commitment; the regime its procedural arrangements,
    leadership and knowledge.

    Args:
        params: the scenario's ``dynamics`` section.
        network: the referral network (its edges are the linked pairs).
        sectors: each agency's sector.
        readiness: each agency's true facility readiness (what others start believing).
        ego: each agency's effective sectoral ego (after the barrier's intensity).
        clock: the model's clock, for the lazy relaxation.
        survey: starting values from interviews (override the defaults).
        procedural: procedural arrangements at the start (SOP integration); ``None``:
            full and kept so (the SOP barrier is off).
        key: the run's key for conference attendance draws.

    Attributes:
        ego_factor: what a shock multiplies sectoral ego by (1 outside shocks).
        procedural: procedural arrangements (joint SOPs) now.
        leadership: leadership now.
        knowledge: shared knowledge now.
        attendance: the share of agencies at the last conference.
    """

    def __init__(
        self,
        params: Dynamics,
        network: nx.DiGraph,
        sectors: list[str],
        readiness: list[float],
        ego: list[float],
        clock: Clock,
        survey: Survey | None = None,
        procedural: float | None = None,
        key: int = 0,
    ) -> None:
        """Set the starting state: every linked pair, both ways, at its starting values."""
        survey = survey or Survey()
        p = self.p = params
        self.enabled = params.enabled
        self._clock = clock
        self._sectors = sectors
        self._readiness = readiness
        self._key = key
        self._keep = 1.0 - params.decay_per_day
        self._trust0 = _start(survey, "trust", p.initial_trust)
        self._same0 = p.same_sector_trust if survey.trust is None else self._trust0
        self._understanding0 = _start(survey, "understanding", p.initial_understanding)
        self.ego = np.asarray(ego, dtype=float)
        self.ego_factor = 1.0
        n = len(sectors)
        self.legitimacy = np.full(n, _start(survey, "legitimacy", p.initial_legitimacy))
        self._room = np.maximum(1e-9, 1.0 - self.legitimacy * (1.0 - self.ego))  # 1 - c0_j
        self.commitment = np.full(n, _start(survey, "commitment", p.initial_commitment))
        self._procedural_moves = procedural is not None
        self.procedural = (
            _start(survey, "procedural", procedural) if procedural is not None else 1.0
        )
        self.leadership = _start(survey, "leadership", p.hub_leadership)
        self.knowledge = _start(survey, "knowledge", p.initial_knowledge)
        frequency = min(1.0, p.conference_norm_days / max(1, round(p.conference_interval_days)))
        self.attendance = float(self.commitment.mean()) if n else 0.0
        self._flows = {
            "discovery": _start(survey, "discovery", 1.0),
            "definition": _start(survey, "definition", 1.0),
            "deliberation": _start(survey, "deliberation", frequency * self.attendance),
            "determination": _start(survey, "determination", p.initial_determination),
            "resources": _start(survey, "resources", 1.0),
        }
        self._day = {"due": 0, "made": 0, "sent": 0, "astray": 0}
        self._reviewed = self._acted = 0.0  # smoothed conference agenda and acts
        self._index: dict[tuple[int, int], int] = {}
        self._i: list[int] = []
        self._j: list[int] = []
        self._t = array("d")  # trust, as of _since
        self._u = array("d")  # understanding, as of _since
        self._r = array("d")  # perceived readiness of j by i
        self._since = array("d")
        for i, j in network.edges:
            self.pair(i, j)
            self.pair(j, i)
        edges = self._edges = {e: k for k, e in enumerate(network.edges)}
        self._links = np.array([self._index[e] for e in edges], dtype=np.intp)
        self._ends = np.array(list(edges), dtype=np.intp).reshape(-1, 2).T
        self._formality = array("d", (1.0 if sop else 0.0 for *_, sop in network.edges(data="sop")))
        self._formal_share = self._mean_formality()
        cross = [self._index[(i, j)] for i, j in edges if sectors[i] != sectors[j]]
        self._cross = np.array(cross, dtype=np.intp)
        self._conferences = 0

    # ------------------------------------------------------------ pairs
    def pair(self, i: int, j: int) -> int:
        """The index of the pair (i, j), created at its starting values when first met."""
        k = self._index.get((i, j))
        if k is None:
            k = self._index[(i, j)] = len(self._i)
            self._i.append(i)
            self._j.append(j)
            self._t.append(self._same0 if self._sectors[i] == self._sectors[j] else self._trust0)
            self._u.append(self._understanding0)
            self._r.append(self._readiness[j])
            self._since.append(self._clock.now)
        return k

    def _settle(self, k: int) -> None:
        """Apply the relaxation toward the neutral levels since the pair last changed."""
        now = self._clock.now
        dt = now - self._since[k]
        if dt > 0.0 and self.enabled:
            f = self._keep**dt
            t0, u0 = self.p.neutral_trust, self.p.neutral_understanding
            self._t[k] = t0 + (self._t[k] - t0) * f
            self._u[k] = u0 + (self._u[k] - u0) * f
        self._since[k] = now

    def trust(self, i: int, j: int) -> float:
        """I's trust in j now."""
        k = self._index.get((i, j))
        if k is None:
            return self._same0 if self._sectors[i] == self._sectors[j] else self._trust0
        self._settle(k)
        return self._t[k]

    def understanding(self, i: int, j: int) -> float:
        """Mutual understanding of i with j now."""
        k = self._index.get((i, j))
        if k is None:
            return self._understanding0
        self._settle(k)
        return self._u[k]

    def standing(self, i: int, js: list[int]) -> list[tuple[float, float, float]]:
        """What referrer i knows of each provider in ``js``: (formality, trust, readiness).

        The same values as :meth:`formality`, :meth:`trust` and
        :meth:`readiness` one pair at a time, in one pass (provider choice
        scores every provider a referrer can reach).
        """
        index, edges, formality = self._index, self._edges, self._formality
        t, u, r, since = self._t, self._u, self._r, self._since
        now, enabled, keep = self._clock.now, self.enabled, self._keep
        t0, u0 = self.p.neutral_trust, self.p.neutral_understanding
        same0, trust0, sectors = self._same0, self._trust0, self._sectors
        mine = sectors[i]
        out = []
        for j in js:
            e = edges.get((i, j))
            f = 0.0 if e is None else formality[e]
            k = index.get((i, j))
            if k is None:
                out.append((f, same0 if mine == sectors[j] else trust0, self._readiness[j]))
                continue
            dt = now - since[k]
            if dt > 0.0 and enabled:  # as _settle does
                g = keep**dt
                t[k] = t0 + (t[k] - t0) * g
                u[k] = u0 + (u[k] - u0) * g
            since[k] = now
            out.append((f, t[k], r[k]))
        return out

    def trust_seen(self, pairs: list[tuple[int, int]]) -> list[float]:
        """Trust of each pair (i in j) now, read without settling it (for views of the state).

        :meth:`trust` settles a pair's relaxation into its stored value; a view
        that did so would change the floating-point path of the run it shows.
        """
        now, keep, t0 = self._clock.now, self._keep, self.p.neutral_trust
        out = []
        for i, j in pairs:
            k = self._index.get((i, j))
            if k is None:
                out.append(self._same0 if self._sectors[i] == self._sectors[j] else self._trust0)
                continue
            value, dt = self._t[k], now - self._since[k]
            out.append(t0 + (value - t0) * keep**dt if dt > 0.0 and self.enabled else value)
        return out

    def readiness(self, i: int, j: int) -> float:
        """I's belief in j's facility readiness."""
        k = self._index.get((i, j))
        return self._readiness[j] if k is None else self._r[k]

    def discretion(self, j: int) -> float:
        """How far agency j's commitment leaves room for a discretionary barrier.

        ``(1 - c_j) / (1 - c0_j)``, with ``c0_j = L0 * (1 - ego_j)`` the
        commitment j settles at with the starting legitimacy ``L0`` and its
        own sectoral ego: the state in which the barriers were found. It is
        1 there, less when j is more committed, more when less (holds,
        refusals, unreported services and repeated assessments are choices
        an agency makes).
        """
        if not self.enabled:
            return 1.0
        return (1.0 - float(self.commitment[j])) / float(self._room[j])

    def sectoral_ego(self, j: int, ego: float) -> float:
        """Agency j's sectoral ego now (``ego``, times a shock's factor, at most 1)."""
        return min(1.0, ego * self.ego_factor)

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
        s, legit = p.legitimacy_rate, self.legitimacy
        legit[i] += s * (outcome - legit[i])
        legit[j] += s * (outcome - legit[j])

    def observe_quality(self, i: int, j: int, done_right: bool, rate: float) -> None:
        """Agency i updates its belief in j's facility readiness from one service."""
        if not self.enabled:
            return
        k = self.pair(i, j)
        r = self._r[k]
        self._r[k] = r + rate * ((1.0 if done_right else 0.0) - r)

    def reported(self, made: bool) -> None:
        """A completed service was due to be reported to the case manager (and was, if ``made``)."""
        self._day["due"] += 1
        self._day["made"] += made

    def referred(self, astray: bool) -> None:
        """A referral was sent (and went astray, if ``astray``: late, misrouted or lost)."""
        self._day["sent"] += 1
        self._day["astray"] += astray

    def daily(self, resources: float) -> None:
        """End-of-day update: commitment, the smoothed flows and the capacity stocks.

        Args:
            resources: the day's resources indicator (posts filled, agencies not overloaded).
        """
        if not self.enabled:
            return
        p, day, flows = self.p, self._day, self._flows
        ego = np.minimum(1.0, self.ego * self.ego_factor)
        self.commitment += p.commitment_rate * (self.legitimacy * (1.0 - ego) - self.commitment)
        s = p.indicator_smoothing
        if day["due"]:
            flows["discovery"] += s * (day["made"] / day["due"] - flows["discovery"])
        if day["sent"]:
            flows["definition"] += s * (1.0 - day["astray"] / day["sent"] - flows["definition"])
        flows["resources"] += s * (resources - flows["resources"])
        for name in day:
            day[name] = 0
        now = self.indicators()
        engagement, motivation, _ = now.indices()
        drive = engagement * motivation
        informed = (now.discovery + now.deliberation) / 2.0
        if self._procedural_moves:
            self.procedural = _grow(
                self.procedural, p.procedural_build, p.procedural_erosion, drive
            )
        self.leadership = _grow(self.leadership, p.leadership_build, p.leadership_erosion, drive)
        self.knowledge = _grow(self.knowledge, p.knowledge_build, p.knowledge_erosion, informed)

    def conference_due(self, day: int) -> bool:
        """Whether a case conference is held at the end of ``day``."""
        return self.enabled and day % max(1, round(self.p.conference_interval_days)) == 0

    def attend(self) -> np.ndarray:
        """Who comes to this conference: each agency with probability its commitment."""
        self._conferences += 1
        n = self._conferences
        draws = [uniform(self._key, Purpose.ATTENDANCE, a, n) for a in range(len(self._sectors))]
        return np.asarray(draws) < self.commitment

    @property
    def conferences(self) -> int:
        """Conferences held so far."""
        return self._conferences

    def meet(self, attends: np.ndarray, agenda: int, settled: int) -> None:
        """A conference was held: attending pairs understand each other better; the flows move.

        Args:
            attends: who came.
            agenda: blocked cases it reviewed.
            settled: how many of them it settled.
        """
        p = self.p
        self.attendance = float(attends.mean()) if attends.size else 0.0
        interval = max(1, round(p.conference_interval_days))
        s = 1.0 - (1.0 - p.indicator_smoothing) ** interval  # the days since the last one
        frequency = min(1.0, p.conference_norm_days / interval)
        flows = self._flows
        flows["deliberation"] += s * (frequency * self.attendance - flows["deliberation"])
        # determination: cases acted on over cases reviewed, each smoothed (a pooled share)
        self._reviewed = (1.0 - s) * self._reviewed + s * agenda
        self._acted = (1.0 - s) * self._acted + s * settled
        if self._reviewed > 0.0:
            flows["determination"] = self._acted / self._reviewed
        self._formalise(attends, interval)
        if not self._i:
            return
        both = attends[np.asarray(self._i)] & attends[np.asarray(self._j)]
        gain = p.conference_gain * p.conference_quality * self.leadership
        u = np.frombuffer(self._u, dtype=float)
        u[:] = self._relaxed(u, p.neutral_understanding)
        u[both] += gain * (1.0 - u[both])
        t = np.frombuffer(self._t, dtype=float)
        t[:] = self._relaxed(t, p.neutral_trust)
        np.frombuffer(self._since, dtype=float)[:] = self._clock.now
        del u, t  # release the buffers: the arrays may grow again

    def formality(self, i: int, j: int) -> float:
        """How far a formal SOP or MoU covers the link i -> j (1: fully; 0: none or no link)."""
        k = self._edges.get((i, j))
        return 0.0 if k is None else self._formality[k]

    def _formalise(self, attends: np.ndarray, interval: int) -> None:
        """A conference both ends of a link attend formalises it further; a missed one erodes it.

        Per link, ``f += link_formalise * d * (1 - f)`` when both attend, and
        ``f -= (1 - (1 - link_lapse * (1 - d)) ** interval) * f`` when either
        misses (the days since the last conference, as a daily erosion), with
        ``d`` engagement times shared motivation, as for the capacity stocks.
        Formality is a degree, not a switch, so that two paired runs whose
        states differ a little differ a little in it (as in trust). With the
        SOP barrier off, procedural arrangements are full and links stay as
        they are.
        """
        p = self.p
        if not (p.link_formalise or p.link_lapse) or not self._procedural_moves:
            return
        engagement, motivation, _ = self.indicators().indices()
        drive = engagement * motivation
        both = attends[self._ends[0]] & attends[self._ends[1]]
        f = np.frombuffer(self._formality, dtype=float)
        lapse = 1.0 - (1.0 - p.link_lapse * (1.0 - drive)) ** interval
        f += np.where(both, p.link_formalise * drive * (1.0 - f), -lapse * f)
        del f  # release the buffer
        self._formal_share = self._mean_formality()

    def _mean_formality(self) -> float:
        return sum(self._formality) / len(self._formality) if self._edges else float("nan")

    def formal_share(self) -> float:
        """Mean formality over the network's links (the share under a formal SOP or MoU)."""
        return self._formal_share

    def _relaxed(self, values: np.ndarray, rest: float) -> np.ndarray:
        """Every pair's value now, relaxed toward ``rest`` since it last changed."""
        if not self.enabled:
            return values.copy()
        age = self._clock.now - np.frombuffer(self._since, dtype=float)
        return np.asarray(rest + (values - rest) * self._keep**age)

    # -------------------------------------------------------- observables
    def _mean_now(self, values: array[float], rest: float, pairs: np.ndarray) -> float:
        if not pairs.size:
            return float("nan")
        now = np.frombuffer(values, dtype=float)[pairs]
        if self.enabled:
            age = self._clock.now - np.frombuffer(self._since, dtype=float)[pairs]
            now = rest + (now - rest) * self._keep**age
        return float(now.mean())

    def mean_trust(self) -> float:
        """Mean trust over the network's linked pairs."""
        return self._mean_now(self._t, self.p.neutral_trust, self._links)

    def mean_understanding(self) -> float:
        """Mean understanding over the network's linked pairs."""
        return self._mean_now(self._u, self.p.neutral_understanding, self._links)

    def cross_sector_trust(self) -> float:
        """Mean trust over the linked pairs whose agencies are of different sectors."""
        return self._mean_now(self._t, self.p.neutral_trust, self._cross)

    def indicators(self) -> Indicators:
        """The twelve indicators now."""
        t, u = self.mean_trust(), self.mean_understanding()
        if t != t:  # no links: the starting values
            t, u = self._trust0, self._understanding0
        f = self._flows
        n = len(self.legitimacy)
        return Indicators(
            f["discovery"], f["definition"], f["deliberation"], f["determination"],
            t, u,
            float(self.legitimacy.mean()) if n else 0.0,
            float(self.commitment.mean()) if n else 0.0,
            self.procedural, self.leadership, self.knowledge, f["resources"],
        )  # fmt: skip


def _grow(stock: float, build: float, erosion: float, drive: float) -> float:
    """A capacity stock after one day: built by the drive, eroded without it."""
    return stock + build * drive * (1.0 - stock) - erosion * (1.0 - drive) * stock
