"""The best buy for a budget: which explored policy does most, robustly, for what it costs.

Works on an exploration (:mod:`collabsim.experiments.explore`): every policy
there, doing nothing included, is a candidate, and a mix of interventions is
a candidate when it was explored as a scenario of its own. A candidate is
affordable when its extra cost a year stays within the budget in nine
futures out of ten (its 90th percentile over the futures). Among the
affordable ones the choice is the most robust for the chosen output: the
best worst decile of its effect (``rule="worst"``; then the best mean), or
the least mean regret against the affordable candidates only
(``rule="regret"``; then the best worst decile). The
*frontier* is the candidates no other beats on both cost and robust effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from collabsim.errors import InputError
from collabsim.i18n import _

__all__ = ["Allocation", "allocate"]

Rule = Literal["worst", "regret"]


@dataclass
class Allocation:
    """What :func:`allocate` chose.

    Attributes:
        output: the output it is chosen for.
        better: which way is better.
        budget: rupiah a year.
        rule: ``worst`` or ``regret``.
        table: one row per candidate: ``policy``, extra cost a year (``cost_p50``,
            ``cost_p90`` over the futures), ``effect_mean``, ``effect_worst``
            (its worst decile), ``regret_mean`` (against the affordable
            candidates), ``affordable`` and ``frontier``.
        choice: the chosen candidate.
    """

    output: str
    better: Literal["min", "max"]
    budget: float
    rule: Rule
    table: pd.DataFrame
    choice: str


def allocate(
    effects: pd.DataFrame,
    output: str,
    better: Literal["min", "max"],
    budget: float,
    rule: Rule = "worst",
) -> Allocation:
    """Choose the candidate that does most for ``output`` within ``budget``, robustly.

    Args:
        effects: an exploration's effects (one row per future and policy, with
            ``cost_per_year``, the extra cost a year, and ``output``).
        output: the output to improve.
        better: ``min`` or ``max``.
        budget: rupiah a year the candidate may cost on top of today's.
        rule: ``worst`` (the best worst decile) or ``regret`` (least mean regret).

    Raises:
        InputError: if the effects lack the output or the costs.
    """
    for column in (output, "cost_per_year"):
        if column not in effects.columns:
            problem = _("the exploration has no {column}").format(column=repr(column))
            raise InputError("allocate", [problem])
    sign = 1.0 if better == "min" else -1.0
    rows = []
    for policy, g in effects.groupby("policy", sort=False):
        e, c = g[output].dropna(), g["cost_per_year"].dropna()
        rows.append(
            {"policy": policy, "cost_p50": c.median(), "cost_p90": c.quantile(0.9),
             "effect_mean": e.mean(),
             "effect_worst": e.quantile(0.9) if better == "min" else e.quantile(0.1)}
        )  # fmt: skip
    table = pd.DataFrame(rows)
    table["affordable"] = table["cost_p90"] <= budget
    fits = set(table.loc[table["affordable"], "policy"])
    pool = effects[effects["policy"].isin(fits)]
    signed = pool[output] * sign
    regret = signed - signed.groupby(pool["future"]).transform("min")
    table["regret_mean"] = table["policy"].map(regret.groupby(pool["policy"]).mean())
    table["frontier"] = _frontier(table["cost_p90"].to_numpy(), sign * table["effect_worst"])
    candidates = table[table["affordable"]]
    worst, mean = sign * candidates["effect_worst"], sign * candidates["effect_mean"]
    keys = [worst, mean] if rule == "worst" else [candidates["regret_mean"], worst]
    ranked = candidates.assign(_a=keys[0], _b=keys[1]).sort_values(["_a", "_b"], kind="stable")
    choice = str(ranked["policy"].iloc[0])
    return Allocation(output, better, budget, rule, table, choice)


def _frontier(cost: np.ndarray, badness: pd.Series) -> list[bool]:
    """Whether no other candidate costs no more and does at least as well, and better in one."""
    bad = badness.to_numpy()
    out = []
    for i in range(len(cost)):
        beaten = (cost <= cost[i]) & (bad <= bad[i]) & ((cost < cost[i]) | (bad < bad[i]))
        out.append(not beaten.any())
    return out
