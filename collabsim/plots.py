"""Matplotlib figures of one run (PNG, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter, ScalarFormatter

from collabsim.i18n import _, translator
from collabsim.scenario import SURVEY_INDICATORS
from collabsim.terms import term

__all__ = [
    "plot_attribution",
    "plot_backlog",
    "plot_differences",
    "plot_effects",
    "plot_frontier",
    "plot_handling_time",
    "plot_indices",
    "plot_norms",
    "plot_regret",
    "plot_sensitivity",
]


def _warmup_line(ax: plt.Axes, warmup: int) -> None:
    if warmup > 0:
        ax.axvline(warmup, color="grey", linestyle=":", label=_("end of warm-up"))


def _save(fig: Any, path: Path) -> Path:
    """Write the figure with every axis's numbers in the language in use (86,5 in Indonesian)."""
    t = translator()
    ticks = FuncFormatter(lambda v, _pos: t.short(v))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter):  # not named ticks
                axis.set_major_formatter(ticks)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_backlog(
    timeseries: pd.DataFrame, warmup: int, path: Path, cohort_end: int | None = None
) -> Path:
    """Open cases and queued jobs per day, with the warm-up and the measured cohort's window.

    The warm-up is long enough when the backlog has levelled off before its end.
    """
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(timeseries["day"], timeseries["backlog"], label=_("open cases (backlog)"))
    ax.plot(timeseries["day"], timeseries["waiting"], label=_("jobs waiting for staff"))
    _warmup_line(ax, warmup)
    if cohort_end is not None and cohort_end > warmup:
        ax.axvspan(warmup, cohort_end, color="#4c72b0", alpha=0.08, label=_("cohort reported"))
    ax.set_xlabel(_("day"))
    ax.set_ylabel(_("cases"))
    ax.set_title(_("Backlog"))
    ax.legend()
    return _save(fig, path)


def plot_handling_time(cases: pd.DataFrame, path: Path) -> Path:
    """Share of the measured cohort still open against days since report (Kaplan-Meier).

    Cases still open at the end of the run, withdrawn or lost to follow-up
    are censored at the time they were last seen, not dropped.
    """
    from collabsim.survival import kaplan_meier

    t = translator()
    m = cases[cases["measured"]]
    times, survival = kaplan_meier(m["known_days"], m["status"] == "closed")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    if len(times):
        ax.step([0.0, *times], [1.0, *survival], where="post", color="#4c72b0")
        for q, style in ((0.5, "-"), (0.9, "--")):
            reached = survival <= 1.0 - q + 1e-12
            if reached.any():
                v = float(times[reached.argmax()])
                ax.axvline(
                    v,
                    color="black",
                    linestyle=style,
                    label=_("p{q} = {days} days").format(q=int(q * 100), days=t.number(v, 1)),
                )
        ax.legend()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(_("days from report"))
    ax.set_ylabel(_("share of cases still open"))
    ax.set_title(_("Handling time (Kaplan-Meier)"))
    return _save(fig, path)


def plot_norms(summary: dict[str, Any], path: Path) -> Path:
    """Service-norm compliance by risk level: response, follow-up and safe-house stay."""
    norms = {
        "response_within_norm_share": _("responded within norm"),
        "follow_up_within_norm_share": _("followed up within norm"),
        "stay_within_norm_share": _("stay within norm"),
    }
    risks = list(summary["by_risk"])
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / len(norms)
    for i, (key, label) in enumerate(norms.items()):
        values = [summary["by_risk"][r][key] for r in risks]
        xs = [j + i * width for j in range(len(risks))]
        ax.bar(xs, [0.0 if v != v else v for v in values], width, label=label)
    ax.set_xticks([j + width for j in range(len(risks))], [term(r) for r in risks])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(_("share of cases"))
    ax.set_title(_("Service norms met, by risk"))
    ax.legend(fontsize="small")
    return _save(fig, path)


def plot_indices(timeseries: pd.DataFrame, warmup: int, path: Path) -> Path:
    """The three collaboration-dynamics indices over time, and each one's four indicators."""
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.5), sharey=True)
    labels = {
        "engagement": _("principled engagement"),
        "motivation": _("shared motivation"),
        "capacity": _("capacity for joint action"),
    }
    panels = [(_("Collaboration dynamics"), list(labels))]
    panels += [(labels[name], list(SURVEY_INDICATORS[4 * k : 4 * k + 4]))
               for k, name in enumerate(labels)]  # fmt: skip
    for ax, (title, cols) in zip(axes, panels, strict=True):
        for col in cols:
            if col in timeseries:
                ax.plot(timeseries["day"], timeseries[col], label=labels.get(col) or term(col))
        _warmup_line(ax, warmup)
        ax.set_ylim(0, 1)
        ax.set_xlabel(_("day"))
        ax.set_title(title, fontsize=10)
        ax.legend(loc="lower right", fontsize="x-small")
    axes[0].set_ylabel(_("index (0 to 1)"))
    return _save(fig, path)


def draw_gap(
    ax: Any, gap: pd.DataFrame, columns: Sequence[str], spans: Sequence[tuple[int, int]] = ()
) -> None:
    """Draw a cycle's daily gap B - A per column with its 95% band; shade the shocks' spans."""
    for col in columns:
        ax.plot(gap.index, gap[col], label=term(col))
        ax.fill_between(gap.index, gap[f"{col}_low"], gap[f"{col}_high"], alpha=0.25)
    for k, (start, end) in enumerate(spans):
        ax.axvspan(start, end, color="grey", alpha=0.15, label=_("shock") if not k else None)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel(_("day"))


def plot_gap(
    gap: pd.DataFrame,
    columns: Sequence[str],
    spans: Sequence[tuple[int, int]],
    title: str,
    path: Path,
) -> Path:
    """A cycle's daily gap B - A in each index, with 95% intervals."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    draw_gap(ax, gap, columns, spans)
    ax.set_ylabel(_("gap B - A in the index"))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize="small")
    return _save(fig, path)


def plot_differences(table: pd.DataFrame, outputs: list[str], title: str, path: Path) -> Path:
    """Differences (B - A) with their confidence intervals, one bar per output."""
    rows = table.loc[[o for o in outputs if o in table.index]]
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(rows)))
    y = range(len(rows))
    err = [rows["diff"] - rows["ci_low"], rows["ci_high"] - rows["diff"]]
    ax.barh(list(y), rows["diff"], xerr=err, color="#4c72b0", capsize=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(list(y), [term(o) for o in rows.index])
    ax.set_xlabel(_("difference B - A (95% CI)"))
    ax.set_title(title)
    return _save(fig, path)


def plot_attribution(table: pd.DataFrame, path: Path) -> Path:
    """Days of handling time each barrier costs (Shapley values with 95% CIs)."""
    outputs = list(dict.fromkeys(table["output"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(5 * len(outputs), 3.8), squeeze=False)
    for ax, output in zip(axes[0], outputs, strict=True):
        rows = table[table["output"] == output].sort_values("days")
        err = [rows["days"] - rows["ci_low"], rows["ci_high"] - rows["days"]]
        ax.barh([term(b) for b in rows["barrier"]], rows["days"], xerr=err, color="#c44e52",
                capsize=3)  # fmt: skip
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(_("days (Shapley value, 95% CI)"))
        ax.set_title(term(output))
    fig.suptitle(_("What each barrier costs"))
    return _save(fig, path)


def plot_sensitivity(table: pd.DataFrame, design: str, title: str, path: Path) -> Path:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices per uncertainty, one panel per output."""
    first = table[table["policy"] == table["policy"].min()]
    outputs = list(dict.fromkeys(first["output"]))
    fig, axes = plt.subplots(
        1, len(outputs), figsize=(5 * len(outputs), 0.8 + 0.5 * 6), squeeze=False
    )
    for ax, output in zip(axes[0], outputs, strict=True):
        rows = first[first["output"] == output]
        y = list(range(len(rows)))
        if design == "sobol":
            ax.barh(
                [v + 0.2 for v in y], rows["ST"], 0.4, xerr=rows["ST_conf"], label=_("total (ST)")
            )
            ax.barh(
                [v - 0.2 for v in y],
                rows["S1"],
                0.4,
                xerr=rows["S1_conf"],
                label=_("first order (S1)"),
            )
            ax.set_xlabel(_("Sobol index (95% CI)"))
        else:
            ax.barh(y, rows["mu_star"], xerr=rows["mu_star_conf"], label=_("mu* (95% CI)"))
            ax.plot(rows["sigma"], y, "ko", label=_("sigma"))
            ax.set_xlabel(_("elementary effect"))
        ax.set_yticks(y, list(rows["uncertainty"]))
        ax.set_title(term(output))
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def plot_effects(effects: pd.DataFrame, outputs: Sequence[str], path: Path) -> Path:
    """Each policy's effect over the futures (minus the baseline's), a box per policy and output."""
    policies = [p for p in dict.fromkeys(effects["policy"]) if p != "baseline"]
    fig, axes = plt.subplots(
        1, len(outputs), figsize=(4.5 * len(outputs), 0.8 + 0.5 * max(3, len(policies))),
        squeeze=False,
    )  # fmt: skip
    for ax, output in zip(axes[0], outputs, strict=True):
        data = [effects.loc[effects["policy"] == p, output].dropna() for p in policies]
        ax.boxplot(
            data, orientation="horizontal", tick_labels=policies, whis=(10, 90), showfliers=False
        )
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(_("effect over the futures (10th-90th percentile whiskers)"))
        ax.set_title(term(output))
    fig.suptitle(_("What each policy changes, across futures"))
    return _save(fig, path)


def plot_regret(summary: pd.DataFrame, outputs: Sequence[str], path: Path) -> Path:
    """Per policy: the share of futures in which it is the best choice, and its mean regret."""
    fig, axes = plt.subplots(2, len(outputs), figsize=(4.5 * len(outputs), 6), squeeze=False)
    for k, output in enumerate(outputs):
        rows = summary[summary["output"] == output]
        axes[0][k].barh(rows["policy"], rows["best_share"], color="#55a868")
        axes[0][k].set_xlim(0, 1)
        axes[0][k].set_xlabel(_("share of futures it is best"))
        axes[0][k].set_title(term(output))
        axes[1][k].barh(rows["policy"], rows["regret_mean"], color="#c44e52")
        axes[1][k].set_xlabel(_("mean regret"))
    fig.suptitle(_("Robustness: how often each choice is best, and what it costs when it is not"))
    return _save(fig, path)


def plot_frontier(
    table: pd.DataFrame, output: str, path: Path, budget: float | None = None, choice: str = ""
) -> Path:
    """Extra cost a year against the worst-decile effect: the frontier (the budget, the choice).

    With more than 12 candidates (a search's mixes), only those on the frontier
    and the choice are named, by number, and listed under the chart.
    """
    many = len(table) > 12
    named = table[table["frontier"] | (table["policy"] == choice)] if many else table
    named = named.sort_values("cost_p90")
    key = {p: str(k + 1) if many else p for k, p in enumerate(named["policy"])}
    lines = [f"{key[p]}: {p}" for p in named["policy"]] if many else []
    fig, (ax, note) = plt.subplots(
        2, 1, figsize=(8, 4.8 + 0.2 * len(lines)),
        gridspec_kw={"height_ratios": [4.8, 0.01 + 0.2 * len(lines)]},
    )  # fmt: skip
    ax.scatter(table["cost_p90"] / 1e9, table["effect_worst"], color="#4c72b0")
    front = table[table["frontier"]].sort_values("cost_p90")
    ax.plot(front["cost_p90"] / 1e9, front["effect_worst"], color="#4c72b0", linestyle="--",
            label=_("frontier"))  # fmt: skip
    for _row, r in named.iterrows():
        ax.annotate(key[r["policy"]], (r["cost_p90"] / 1e9, r["effect_worst"]), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")  # fmt: skip
    if choice:
        chosen = table[table["policy"] == choice]
        ax.scatter(chosen["cost_p90"] / 1e9, chosen["effect_worst"], marker="*", s=250,
                   color="#c44e52", label=_("choice: {name}").format(name=key.get(choice, choice)),
                   zorder=3)  # fmt: skip
    if budget is not None:
        ax.axvline(budget / 1e9, color="grey", linestyle=":", label=_("budget"))
    ax.set_xlabel(_("extra cost a year, billion rupiah (90th percentile over the futures)"))
    ax.set_ylabel(_("{output}:\neffect in the worst decile of futures").format(output=term(output)))
    ax.set_title(_("What each choice buys, robustly"))
    ax.legend(fontsize=8)
    note.axis("off")
    note.text(0.0, 1.0, "\n".join(lines), fontsize=8, va="top", transform=note.transAxes)
    return _save(fig, path)
