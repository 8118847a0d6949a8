"""Matplotlib figures of one run (PNG, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

__all__ = [
    "plot_attribution",
    "plot_backlog",
    "plot_differences",
    "plot_handling_time",
    "plot_indices",
    "plot_sensitivity",
]


def _warmup_line(ax: plt.Axes, warmup: int) -> None:
    if warmup > 0:
        ax.axvline(warmup, color="grey", linestyle=":", label="end of warm-up")


def plot_backlog(timeseries: pd.DataFrame, warmup: int, path: Path) -> Path:
    """Open cases and queued jobs per day."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(timeseries["day"], timeseries["backlog"], label="open cases (backlog)")
    ax.plot(timeseries["day"], timeseries["waiting"], label="jobs waiting for staff")
    _warmup_line(ax, warmup)
    ax.set_xlabel("day")
    ax.set_ylabel("cases")
    ax.set_title("Backlog")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_handling_time(cases: pd.DataFrame, path: Path) -> Path:
    """Distribution of handling time (report to closure) of measured, closed cases."""
    done = cases[(cases["measured"]) & (cases["status"] == "closed")]["handling_days"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    if len(done):
        ax.hist(done, bins=40, color="#4c72b0")
        for q, style in ((0.5, "-"), (0.9, "--")):
            v = float(done.quantile(q))
            ax.axvline(v, color="black", linestyle=style, label=f"p{int(q * 100)} = {v:.1f} days")
        ax.legend()
    ax.set_xlabel("days from report to closure")
    ax.set_ylabel("cases")
    ax.set_title("Handling time")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_indices(timeseries: pd.DataFrame, warmup: int, path: Path) -> Path:
    """The three collaboration-dynamics indices over time."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    labels = {
        "engagement": "principled engagement",
        "motivation": "shared motivation",
        "capacity": "capacity for joint action",
    }
    for col, label in labels.items():
        ax.plot(timeseries["day"], timeseries[col], label=label)
    _warmup_line(ax, warmup)
    ax.set_ylim(0, 1)
    ax.set_xlabel("day")
    ax.set_ylabel("index (0 to 1)")
    ax.set_title("Collaboration dynamics")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_differences(table: pd.DataFrame, outputs: list[str], title: str, path: Path) -> Path:
    """Differences (B - A) with their confidence intervals, one bar per output."""
    rows = table.loc[[o for o in outputs if o in table.index]]
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(rows)))
    y = range(len(rows))
    err = [rows["diff"] - rows["ci_low"], rows["ci_high"] - rows["diff"]]
    ax.barh(list(y), rows["diff"], xerr=err, color="#4c72b0", capsize=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(list(y), list(rows.index))
    ax.set_xlabel("difference B - A (95% CI)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_attribution(table: pd.DataFrame, path: Path) -> Path:
    """Days of handling time each barrier costs (Shapley values with 95% CIs)."""
    outputs = list(dict.fromkeys(table["output"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(5 * len(outputs), 3.8), squeeze=False)
    for ax, output in zip(axes[0], outputs, strict=True):
        rows = table[table["output"] == output].sort_values("days")
        err = [rows["days"] - rows["ci_low"], rows["ci_high"] - rows["days"]]
        ax.barh(rows["barrier"], rows["days"], xerr=err, color="#c44e52", capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("days (Shapley value, 95% CI)")
        ax.set_title(output)
    fig.suptitle("What each barrier costs")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
            ax.barh([v + 0.2 for v in y], rows["ST"], 0.4, xerr=rows["ST_conf"], label="total (ST)")
            ax.barh(
                [v - 0.2 for v in y],
                rows["S1"],
                0.4,
                xerr=rows["S1_conf"],
                label="first order (S1)",
            )
            ax.set_xlabel("Sobol index (95% CI)")
        else:
            ax.barh(y, rows["mu_star"], xerr=rows["mu_star_conf"], label="mu* (95% CI)")
            ax.plot(rows["sigma"], y, "ko", label="sigma")
            ax.set_xlabel("elementary effect")
        ax.set_yticks(y, list(rows["uncertainty"]))
        ax.set_title(output)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
