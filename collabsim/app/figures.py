"""Figures of a live model for the browser app (matplotlib, no pyplot state).

Built with ``matplotlib.figure.Figure`` directly, so that figures of different
browser sessions, drawn from different threads, never share state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from collabsim.model import CollaborationModel
from collabsim.scenario import BARRIER_NAMES
from collabsim.trace import LOSSES

__all__ = [
    "Layout",
    "charts_figure",
    "compare_figure",
    "network_figure",
    "network_positions",
    "open_cases_by_agency",
    "trace_figure",
]

Layout = Literal["city", "kind", "spring"]
Positions = dict[int, tuple[float, float]]

_PHASE_COLOURS = {
    "in service": "#4c72b0",
    "between services": "#c7d4e8",
    "referral in transit": "#8da0cb",
    "waiting for staff": "#dd8452",
    "miscommunication": "#c44e52",
    "sectoral ego": "#8172b3",
    "duplicated assessment": "#937860",
    "fresh intake (SOP)": "#da8bc3",
    "rework": "#8c8c8c",
    "unreported completion": "#ccb974",
    "entry": "#64b5cd",
    "out of hours": "#e5e5e5",
}


def network_positions(model: CollaborationModel, layout: Layout) -> Positions:
    """Fixed node positions: by city (columns) and kind (rows), by kind, or a seeded spring."""
    agencies = model.agencies
    kinds = list(dict.fromkeys(a.kind for a in agencies))
    cities = list(dict.fromkeys(a.city for a in agencies))
    pos: Positions = {}
    if layout == "spring":
        raw = nx.spring_layout(model.network.to_undirected(), seed=0)
        return {int(k): (float(v[0]), float(v[1])) for k, v in raw.items()}
    slots: dict[tuple[str, str], list[int]] = {}
    for a in agencies:
        key = (a.kind, a.city) if layout == "city" else (a.kind, "")
        slots.setdefault(key, []).append(a.index)
    for (kind, city), members in slots.items():
        row = kinds.index(kind)
        if layout == "city":
            x0 = cities.index(city)
            for n, i in enumerate(members):
                pos[i] = (x0 + 0.8 * (n + 0.5) / len(members) - 0.4, -row)
        else:
            angle = 2 * np.pi * row / len(kinds)
            cx, cy = 3 * np.cos(angle), 3 * np.sin(angle)
            for n, i in enumerate(members):
                r, turn = 0.15 * np.sqrt(n), n * 2.4
                pos[i] = (float(cx + r * np.cos(turn)), float(cy + r * np.sin(turn)))
    return pos


def open_cases_by_agency(model: CollaborationModel) -> np.ndarray:
    """Open cases whose last service was at each agency (its backlog)."""
    counts = np.zeros(len(model.agencies))
    for case in model.cases:
        if case.closed_at is None and case.holder is not None:
            counts[case.holder] += 1
    return counts


def network_figure(
    model: CollaborationModel,
    pos: Positions,
    colour_by: Literal["load", "backlog"] = "load",
    layout: Layout = "city",
) -> Figure:
    """The referral network: nodes coloured by load or backlog, edges by trust."""
    fig = Figure(figsize=(9, 5))
    ax = fig.subplots()
    g = model.network
    values = (
        np.array([a.load for a in model.agencies])
        if colour_by == "load"
        else open_cases_by_agency(model)
    )
    edges = list(g.edges)
    trust = np.array([model.state.trust(i, j) for i, j in edges]) if edges else np.array([])
    for (i, j), t in zip(edges, trust, strict=True):
        (x0, y0), (x1, y1) = pos[i], pos[j]
        ax.plot([x0, x1], [y0, y1], color="#555555", alpha=0.15 + 0.6 * t, lw=0.3 + 2.5 * t)
    xy = np.array([pos[a.index] for a in model.agencies])
    size = np.array([30 + 12 * a.staff.servers for a in model.agencies])
    top = max(1.0, float(values.max()))
    sc = ax.scatter(xy[:, 0], xy[:, 1], s=size, c=values, cmap="YlOrRd", vmin=0, vmax=top,
                    edgecolors="black", linewidths=0.4, zorder=3)  # fmt: skip
    fig.colorbar(sc, ax=ax, label="jobs per staff member" if colour_by == "load" else "open cases")
    kinds = list(dict.fromkeys(a.kind for a in model.agencies))
    if layout == "city":
        cities = list(dict.fromkeys(a.city for a in model.agencies))
        ax.set_xticks(
            range(len(cities)), [c.replace("Jakarta ", "J. ") for c in cities], fontsize=8
        )
        ax.set_yticks([-k for k in range(len(kinds))], kinds, fontsize=8)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        for kind in kinds:
            members = [a.index for a in model.agencies if a.kind == kind]
            cx = float(np.mean([pos[i][0] for i in members]))
            cy = float(np.max([pos[i][1] for i in members]))
            ax.annotate(kind, (cx, cy), xytext=(0, 8), textcoords="offset points",
                        ha="center", fontsize=8)  # fmt: skip
    ax.set_title(f"Referral network on day {model.steps} (edge width and darkness: trust)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def _rolling_median_handling(model: CollaborationModel, window: int = 30) -> pd.Series:
    closed = [(c.closed_at, c.closed_at - c.reported_at) for c in model.cases if c.closed_at]
    days = np.arange(1, model.steps + 1)
    if not closed:
        return pd.Series(np.nan, index=days)
    t = np.array([c[0] for c in closed])
    h = np.array([c[1] for c in closed])
    out = []
    for d in days:
        sel = h[(t > d - window) & (t <= d)]
        out.append(float(np.median(sel)) if sel.size else np.nan)
    return pd.Series(out, index=days)


def charts_figure(model: CollaborationModel) -> Figure:
    """Four live charts: backlog, handling time, barrier events, the three indices."""
    ts = model.timeseries()
    fig = Figure(figsize=(10, 5.6))
    axes = fig.subplots(2, 2)
    ax = axes[0, 0]
    if len(ts):
        ax.plot(ts["day"], ts["backlog"], label="open cases")
        ax.plot(ts["day"], ts["waiting"], label="waiting for staff")
    ax.set_title("Backlog")
    ax = axes[0, 1]
    med = _rolling_median_handling(model)
    ax.plot(med.index, med.to_numpy(), color="#4c72b0")
    ax.set_title("Handling time (median, last 30 days)")
    ax.set_ylabel("days")
    ax = axes[1, 0]
    for name in BARRIER_NAMES:
        if len(ts):
            ax.plot(ts["day"], ts[f"events_{name}"], label=name)
    ax.set_title("Barrier events (cumulative)")
    ax = axes[1, 1]
    for col, label in (("engagement", "principled engagement"), ("motivation", "shared motivation"),
                       ("capacity", "capacity for joint action")):  # fmt: skip
        if len(ts):
            ax.plot(ts["day"], ts[col], label=label)
    ax.set_ylim(0, 1)
    ax.set_title("Collaboration dynamics")
    if len(ts):
        axes[0, 0].legend(fontsize=7)
        axes[1, 0].legend(fontsize=6, ncol=2)
        ax.legend(fontsize=7)
    for a in axes.flat:
        a.set_xlabel("day", fontsize=8)
        a.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def trace_figure(table: pd.DataFrame, title: str) -> Figure:
    """A case's timeline: a bar per phase, losses in warm colours, side tracks pale."""
    fig = Figure(figsize=(10, 3.2))
    ax = fig.subplots()
    agencies = list(dict.fromkeys(table["agency"])) if len(table) else []
    for _, r in table.iterrows():
        y = agencies.index(r["agency"])
        ax.barh(y, r["days"], left=r["start"], color=_PHASE_COLOURS.get(r["phase"], "#999999"),
                edgecolor="black" if r["phase"] in LOSSES else "none", linewidth=0.5,
                alpha=1.0 if r.get("critical", True) else 0.35)  # fmt: skip
    ax.set_yticks(range(len(agencies)), agencies, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("day")
    ax.set_title(title)
    phases = list(dict.fromkeys(table["phase"])) if len(table) else []
    handles = [ax.barh([0], [0], color=_PHASE_COLOURS.get(p, "#999999"))[0] for p in phases]
    ax.legend(handles, phases, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def compare_figure(series: Sequence[tuple[str, pd.DataFrame, pd.DataFrame]]) -> Figure:
    """Two (or more) runs side by side: backlog over time and handling-time distributions.

    Args:
        series: (label, timeseries, cases) per run.
    """
    fig = Figure(figsize=(10, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    for label, ts, cases in series:
        ax1.plot(ts["day"], ts["backlog"], label=label)
        done = cases[(cases["measured"]) & (cases["status"] == "closed")]["handling_days"]
        ax2.hist(done, bins=40, alpha=0.5, label=label)
    ax1.set_title("Backlog")
    ax1.set_xlabel("day")
    ax2.set_title("Handling time of closed cases")
    ax2.set_xlabel("days")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig
