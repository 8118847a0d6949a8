"""The referral network: agencies as nodes, referral channels as edges."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from collabsim.scenario import PROVINCE, Scenario

__all__ = ["AgencySpec", "agency_specs", "referral_network"]


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


def referral_network(scenario: Scenario, specs: list[AgencySpec]) -> nx.DiGraph:
    """Build the directed referral network.

    Nodes are agency indices (attributes ``name``, ``kind``, ``city``). An
    edge i -> j exists where a scenario link joins their kinds and, for a
    ``same_city`` link, where they share a city or one serves the province.
    Edge attributes: ``channel``, ``latency_days``, ``miscommunication``,
    ``sop``. With a shared case information system every edge uses the
    shared channel.

    Args:
        scenario: the scenario.
        specs: the agencies, as from :func:`agency_specs`.

    Returns:
        The network.
    """
    g = nx.DiGraph()
    for i, s in enumerate(specs):
        g.add_node(i, name=s.name, kind=s.kind, city=s.city)
    by_kind: dict[str, list[int]] = {}
    for i, s in enumerate(specs):
        by_kind.setdefault(s.kind, []).append(i)
    for link in scenario.links:
        name = scenario.shared_channel if scenario.shared_case_system else link.channel
        ch = scenario.channels[name]
        for i in by_kind.get(link.source, []):
            for j in by_kind.get(link.target, []):
                if i == j:
                    continue
                ci, cj = specs[i].city, specs[j].city
                if link.same_city and PROVINCE not in (ci, cj) and ci != cj:
                    continue
                g.add_edge(
                    i,
                    j,
                    channel=name,
                    latency_days=ch.latency_days,
                    miscommunication=ch.miscommunication,
                    sop=link.sop,
                )
    return g
