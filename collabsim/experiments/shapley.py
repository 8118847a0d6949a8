"""Shapley values of a cooperative game given as a table of coalition values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import combinations

__all__ = ["shapley_values"]


def shapley_values(value: Mapping[int, float], n: int) -> list[float]:
    """Each player's Shapley value.

    Player i gets ``sum over S not containing i of |S|!(n-|S|-1)!/n! * (v(S + i) - v(S))``;
    the values add up exactly to v(all) - v(none).

    Args:
        value: the value of every coalition, keyed by its bit mask (bit i set:
            player i is in it); all ``2**n`` coalitions.
        n: the number of players.

    Returns:
        The value of each player, in order.
    """
    weight = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    phi = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        total = 0.0
        for size in range(n):
            for subset in combinations(others, size):
                m = sum(1 << j for j in subset)
                total += weight[size] * (value[m | 1 << i] - value[m])
        phi.append(total)
    return phi
