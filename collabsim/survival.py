"""Survival estimates for handling times when some cases are still open (Kaplan-Meier).

A case still open when the run ends has been handled for at least its
observed time: dropping it would bias the median down, treating its time as
its handling time would too. The Kaplan-Meier estimate uses it for exactly
what is known.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["kaplan_meier", "quantile"]


def kaplan_meier(
    durations: npt.ArrayLike, observed: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan-Meier survival curve.

    Args:
        durations: each case's time (handling time if it ended, else the
            time it was observed open).
        observed: whether each case's end was observed (closed), not censored.

    Returns:
        The distinct times of observed ends, and the estimated share of
        cases still open just after each.
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if t.size == 0:
        return np.array([]), np.array([])
    order = np.argsort(t, kind="stable")
    t, e = t[order], e[order]
    times, first = np.unique(t, return_index=True)
    at_risk = t.size - first
    ends = np.add.reduceat(e.astype(int), first)
    keep = ends > 0
    survival = np.cumprod(1.0 - ends / at_risk)
    return times[keep], survival[keep]


def quantile(durations: npt.ArrayLike, observed: npt.ArrayLike, q: float) -> float:
    """The time by which a share ``q`` of cases has ended (NaN if the curve never gets there).

    For example ``q = 0.5`` gives the Kaplan-Meier median handling time.
    """
    times, survival = kaplan_meier(durations, observed)
    reached = np.nonzero(survival <= 1.0 - q + 1e-12)[0]
    return float(times[reached[0]]) if reached.size else float("nan")
