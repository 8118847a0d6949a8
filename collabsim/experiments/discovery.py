"""Scenario discovery: which assumptions, in which ranges, make something happen.

Given the futures of an exploration (:mod:`collabsim.experiments.explore`)
and a question that is true in some of them ("the shared case system beats
more hub staff", "the follow-up norm fails"), PRIM (the Patient Rule
Induction Method) finds a box over a few assumptions in which the question
is mostly true: its *coverage* is the share of the futures where it is true
that lie in the box, its *density* the share of the futures in the box where
it is true. An extra-trees ranking says how much each assumption tells the
futures apart. Both come from the EMA Workbench (``pip install
collabsim[discovery]``).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from collabsim.errors import InputError
from collabsim.i18n import _, translator

__all__ = ["Discovery", "Question", "discover", "parse_question"]

SIGNIFICANT = 0.05
"""A box keeps a restriction whose quasi-p-value is at most this (the others are dropped)."""
_QUESTION = re.compile(r"^\s*([^\s<>=]+)\s*(<=|>=|<|>)\s*([^\s<>=]+)\s*$")
_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


@dataclass(frozen=True)
class Question:
    """``policy[:output] op policy[:output]``, or ``policy[:output] op number``.

    Attributes:
        text: as written.
        left: the policy and output on the left.
        op: ``<``, ``<=``, ``>`` or ``>=``.
        right: the policy and output on the right, or ``None`` for a number.
        number: the number on the right, if any.
    """

    text: str
    left: tuple[str, str]
    op: str
    right: tuple[str, str] | None
    number: float | None

    def holds(self, levels: pd.DataFrame) -> pd.Series:
        """In each future, whether it holds (``levels``: one row per future and policy)."""
        a = _values(levels, *self.left)
        b = _values(levels, *self.right) if self.right else pd.Series(self.number, a.index)
        both = a.index.intersection(b.index)
        return pd.Series(_OPS[self.op](a[both], b[both]), both, name=self.text)


def parse_question(text: str, output: str = "handling_days_median") -> Question:
    """Read a question such as ``shared-case-system < more-hub-staff``.

    Each side is a policy (``baseline`` for doing nothing), optionally with
    ``:output`` (default ``output``); the right side may be a number, e.g.
    ``baseline:follow_up_within_norm_share < 0.8``.

    Raises:
        InputError: if it cannot be read.
    """
    m = _QUESTION.match(text)
    if m is None:
        problem = _(
            "{question}: expected e.g. 'shared-case-system < more-hub-staff' or "
            "'baseline:follow_up_within_norm_share < 0.8'"
        )
        raise InputError("question", [problem.format(question=repr(text))])
    left, op, right = m.groups()
    try:
        return Question(text, _side(left, output), op, None, float(right))
    except ValueError:
        return Question(text, _side(left, output), op, _side(right, output), None)


def _side(text: str, output: str) -> tuple[str, str]:
    """``policy[:output]`` as (policy, output)."""
    policy, _colon, named = text.partition(":")
    return policy, named or output


def _values(levels: pd.DataFrame, policy: str, output: str) -> pd.Series:
    rows = levels[levels["policy"] == policy]
    if not len(rows):
        known = ", ".join(dict.fromkeys(levels["policy"]))
        problem = _("no policy {policy} (there are: {known})")
        raise InputError("question", [problem.format(policy=repr(policy), known=known)])
    if output not in rows.columns:
        problem = _("no output {output} in the exploration")
        raise InputError("question", [problem.format(output=repr(output))])
    values = rows.set_index("future")[output].astype(float)
    if output.startswith("handling_days_"):  # a quantile not reached lies beyond the run
        values = values.fillna(np.inf)
    return values.dropna()


@dataclass
class Discovery:
    """What PRIM found for a question.

    Attributes:
        question: the question.
        futures: futures with the output defined.
        true: futures in which it holds.
        box: the restricted assumptions: ``uncertainty``, the box's ``low`` and
            ``high``, the whole range's ``range_low`` and ``range_high``, and
            ``qp`` (the quasi-p-value of the restriction; small is significant).
        coverage: share of the futures where it holds that the box contains.
        density: share of the futures in the box where it holds.
        mass: share of all futures in the box.
        trajectory: each box PRIM peeled to (then each restriction dropped):
            coverage, density, mass, res_dim.
        importance: each assumption's extra-trees feature score, highest first.
    """

    question: Question
    futures: int
    true: int
    box: pd.DataFrame
    coverage: float
    density: float
    mass: float
    trajectory: pd.DataFrame
    importance: pd.DataFrame


def discover(
    futures: pd.DataFrame,
    levels: pd.DataFrame,
    question: Question,
    *,
    min_density: float = 0.8,
    top: int = 10,
    seed: int = 0,
) -> Discovery:
    """Find the box of assumptions in which ``question`` mostly holds.

    Of the boxes PRIM peels to, the one chosen is the one with the largest
    coverage among those with density at least ``min_density`` (else the
    densest). Its restrictions whose quasi-p-value is above
    :data:`SIGNIFICANT` (a restriction chance alone would make that often)
    are then dropped, unless every one is; coverage and density are those of
    the box that is left.

    Args:
        futures: one row per future (``future``, then each uncertainty).
        levels: one row per future and policy: each output's mean.
        question: what to explain.
        min_density: the density the chosen box must reach.
        top: PRIM looks at this many assumptions, those the extra trees rank
            highest (with many assumptions and a few hundred futures, PRIM
            on all of them finds boxes that chance alone explains).
        seed: the extra trees' seed.

    Raises:
        InputError: if the question never or always holds, or the EMA
            Workbench is not installed.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # it warns of optional parts it does not find
            from ema_workbench.analysis import feature_scoring, prim
    except ImportError:
        raise InputError(
            "discovery", [_("needs the EMA Workbench: pip install 'collabsim[discovery]'")]
        ) from None
    y = question.holds(levels)
    x = futures.set_index("future").loc[y.index]
    x = x.loc[:, x.nunique() > 1].astype(float)
    if y.all() or not y.any():
        t = translator()
        problem = _("{question} holds in {true} of {futures} futures: nothing to explain")
        raise InputError(
            "question",
            [problem.format(question=repr(question.text), true=t.number(int(y.sum())),
                            futures=t.number(len(y)))],
        )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores, _models = feature_scoring.get_ex_feature_scores(
            x.reset_index(drop=True), y.to_numpy().astype(int), random_state=seed
        )
        kept = [str(u) for u in scores.index[:top]]  # PRIM on the assumptions that matter most
        finder = prim.Prim(x[kept].reset_index(drop=True), y.to_numpy(), mass_min=0.05)
        box = finder.find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].astype(float)
    dense = trajectory[trajectory["density"] >= min_density]
    chosen = int(dense["coverage"].idxmax()) if len(dense) else int(trajectory["density"].idxmax())
    [(stats, lims)] = box.inspect(chosen, style="data")
    weak = [u for u in lims.index if np.nanmax(lims.loc[u].to_numpy()[2:]) > SIGNIFICANT]
    if weak and len(weak) < len(lims):  # keep the restrictions that are not chance
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            box.select(chosen)
            for unc in weak:
                box.drop_restriction(unc)
            [(stats, lims)] = box.inspect(len(box.peeling_trajectory) - 1, style="data")
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].astype(float)
    rows = []
    for unc in lims.index:  # the restricted ones
        low, high, qp_low, qp_high = (float(v) for v in lims.loc[unc])
        qp = [q for q in (qp_low, qp_high) if q == q]
        rows.append({"uncertainty": unc, "low": low, "high": high,
                     "range_low": float(x[unc].min()), "range_high": float(x[unc].max()),
                     "qp": max(qp) if qp else np.nan})  # fmt: skip
    importance = scores.reset_index()
    importance.columns = pd.Index(["uncertainty", "score"])
    return Discovery(
        question, len(y), int(y.sum()), pd.DataFrame(rows, columns=_BOX_COLUMNS),
        float(stats["coverage"]), float(stats["density"]), float(stats["mass"]),
        trajectory, importance,
    )  # fmt: skip


_BOX_COLUMNS = ["uncertainty", "low", "high", "range_low", "range_high", "qp"]


def _describe(d: Discovery) -> dict[str, Any]:
    """A discovery as plain data (for JSON)."""
    return {
        "question": d.question.text,
        "futures": d.futures,
        "true": d.true,
        "coverage": d.coverage,
        "density": d.density,
        "mass": d.mass,
        "box": d.box.to_dict("records"),
        "importance": d.importance.to_dict("records"),
    }
