"""The referral network: agencies as nodes, referral channels as edges."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from collabsim.scenario import PROVINCE, Scenario

__all__ = ["AgencySpec", "Geography", "agency_specs", "network_size", "referral_network"]


class Geography:
    """Where agencies are and whom they serve: cities, regions of cities, the province.

    An agency is placed in a city, a region (a group of cities, e.g. a
    province of a national network) or ``province`` (it serves every city).

    Args:
        scenario: the scenario (its cities and ``regions``).
    """

    def __init__(self, scenario: Scenario) -> None:
        """Index the scenario's places."""
        self.regions = {r: set(cities) for r, cities in scenario.regions.items()}
        self._region_of = {c: r for r, cities in scenario.regions.items() for c in cities}

    def local(self, city: str) -> frozenset[str]:
        """The places whose agencies serve ``city``: itself, its region, the province."""
        region = self._region_of.get(city)
        return frozenset((city, PROVINCE) if region is None else (city, region, PROVINCE))

    def near(self, place: str) -> frozenset[str]:
        """The places an agency at ``place`` reaches without a link (and on a same-city link)."""
        if place == PROVINCE:
            return frozenset({PROVINCE})
        if place in self.regions:
            return frozenset({place, PROVINCE, *self.regions[place]})
        return self.local(place)


@dataclass(frozen=True, slots=True)
class AgencySpec:
    """One agency to create: a template instantiated in a city."""

    name: str
    kind: str
    city: str


def agency_specs(scenario: Scenario) -> list[AgencySpec]:
    """Expand the scenario's agency templates into individual agencies.

    Names are ``kind/city/n`` (``kind/city`` when there is one).
    """
    out = []
    for kind, tpl in scenario.agencies.items():
        for city, count in tpl.per_city.items():
            for n in range(1, count + 1):
                name = f"{kind}/{city}" if count == 1 else f"{kind}/{city}/{n}"
                out.append(AgencySpec(name, kind, city))
    return out


def referral_network(
    scenario: Scenario, specs: list[AgencySpec], adopters: frozenset[int] | None = None
) -> nx.DiGraph:
    """Build the directed referral network.

    Nodes are agency indices (attributes ``name``, ``kind``, ``city``). An
    edge i -> j exists where a scenario link joins their kinds and, for a
    ``same_city`` link, where j is near i (:meth:`Geography.near`: the same
    city, its region, the province; or, from a region, the region's cities).
    Edge attributes: ``channel``, ``latency_days``, ``miscommunication``,
    ``sop``. With a shared case information system every edge between two
    agencies that use it (``adopters``; all, if not given) uses the shared
    channel.

    Args:
        scenario: the scenario.
        specs: the agencies, as from :func:`agency_specs`.
        adopters: the agencies that use the shared case system, if it is not all.

    Returns:
        The network.
    """
    g = nx.DiGraph()
    for i, s in enumerate(specs):
        g.add_node(i, name=s.name, kind=s.kind, city=s.city)
    by_kind: dict[str, dict[str, list[int]]] = {}  # kind -> place -> agencies
    for i, s in enumerate(specs):
        by_kind.setdefault(s.kind, {}).setdefault(s.city, []).append(i)
    geography = Geography(scenario)
    shared = scenario.shared_channel if scenario.shared_case_system else None
    for link in scenario.links:
        targets = by_kind.get(link.target, {})
        everyone = [j for members in targets.values() for j in members]
        for place, sources in by_kind.get(link.source, {}).items():
            if link.same_city and place != PROVINCE:
                reach = [j for p in geography.near(place) for j in targets.get(p, [])]
            else:
                reach = everyone
            for i in sources:
                for j in reach:
                    if i == j:
                        continue
                    on_system = shared is not None and (
                        adopters is None or (i in adopters and j in adopters)
                    )
                    name = shared if on_system and shared is not None else link.channel
                    ch = scenario.channels[name]
                    g.add_edge(i, j, channel=name, latency_days=ch.latency_days,
                               miscommunication=ch.miscommunication, sop=link.sop)  # fmt: skip
    return g


def network_size(scenario: Scenario) -> tuple[int, int]:
    """How many edges :func:`referral_network` will make, and the most any agency reaches.

    Counted without building the network: the second number bounds how many
    providers one referral may have to choose among.
    """
    counts: dict[str, dict[str, int]] = {}
    for kind, tpl in scenario.agencies.items():
        counts[kind] = {place: n for place, n in tpl.per_city.items() if n}
    geography = Geography(scenario)
    total = widest = 0
    for link in scenario.links:
        targets = counts.get(link.target, {})
        everyone = sum(targets.values())
        for place, n in counts.get(link.source, {}).items():
            if link.same_city and place != PROVINCE:
                reach = sum(targets.get(p, 0) for p in geography.near(place))
            else:
                reach = everyone
            total += n * reach - (n if link.source == link.target else 0)  # no self-loops
            widest = max(widest, reach)
    return total, widest
