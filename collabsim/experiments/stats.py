"""Statistics across replications: confidence intervals and how many runs are enough."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as sps

from collabsim.i18n import _

__all__ = ["confidence_interval", "describe", "replications_needed"]


def confidence_interval(values: npt.ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval for the mean.

    Args:
        values: one value per replication (NaN values are dropped).
        level: the confidence level.

    Returns:
        (low, high); (nan, nan) with fewer than two values.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return math.nan, math.nan
    mean = float(x.mean())
    half = float(sps.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean - half, mean + half


def describe(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean, standard deviation and confidence interval of each numeric column.

    Args:
        table: one row per replication.
        level: the confidence level.

    Returns:
        One row per output: ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high``, ``half_width``.
    """
    rows = []
    for col in table.columns:
        if not pd.api.types.is_numeric_dtype(table[col]) or pd.api.types.is_bool_dtype(table[col]):
            continue
        x = table[col].astype(float).dropna()
        low, high = confidence_interval(x.to_numpy(), level)
        rows.append(
            {
                "output": col,
                "n": len(x),
                "mean": float(x.mean()) if len(x) else math.nan,
                "sd": float(x.std(ddof=1)) if len(x) > 1 else math.nan,
                "ci_low": low,
                "ci_high": high,
                "half_width": (high - low) / 2,
            }
        )
    return pd.DataFrame(rows).set_index("output")


def replications_needed(values: npt.ArrayLike, half_width: float, level: float = 0.95) -> int:
    """Replications needed for a confidence interval of the given half-width.

    Uses the sample standard deviation of a pilot set of replications and
    iterates n = (t_{n-1} * s / h)^2 until it is stable.

    Args:
        values: the output in each pilot replication (at least two).
        half_width: the target half-width, in the output's unit.
        level: the confidence level.

    Returns:
        The number of replications (at least 2).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        raise ValueError(_("need at least two pilot replications"))
    if half_width <= 0:
        raise ValueError(_("half_width must be positive"))
    s = float(x.std(ddof=1))
    n = 2
    for _step in range(100):
        t = float(sps.t.ppf(0.5 + level / 2, n - 1))
        new = max(2, math.ceil((t * s / half_width) ** 2))
        if new == n:
            break
        n = new
    return n


def welch(xa: pd.DataFrame, xb: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Welch's interval for the difference of means of two independent samples, per column."""
    from scipy import stats as sps

    rows = {}
    for c in xa.columns:
        a, b = xa[c].dropna(), xb[c].dropna()
        if len(a) < 2 or len(b) < 2:  # e.g. a median no run could measure
            nan = float("nan")
            rows[c] = {"mean": nan, "ci_low": nan, "ci_high": nan, "half_width": nan}
            continue
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        se = math.sqrt(va + vb)
        dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se else 1.0
        half = float(sps.t.ppf(0.5 + level / 2, dof) * se) if se else 0.0
        d = float(b.mean() - a.mean())
        rows[c] = {"mean": d, "ci_low": d - half, "ci_high": d + half, "half_width": half}
    return pd.DataFrame.from_dict(rows, orient="index")
