"""Trace a case: one child's path through the agencies, and where every one of its days went."""

from __future__ import annotations

from typing import Any

import pandas as pd
import solara

from collabsim.app import charts
from collabsim.app.download import Download
from collabsim.app.session import AppModel
from collabsim.cases import Case
from collabsim.i18n import Translator
from collabsim.i18n import use_language as speaking  # not a hook (solara checks use_*)
from collabsim.terms import term
from collabsim.trace import LOSSES, timeline

__all__ = ["TracePage", "case_label", "days_by_phase"]

LONGEST = 40
"""How many cases the picker offers: the longest so far."""


def days_by_phase(table: pd.DataFrame) -> pd.DataFrame:
    """Days of the case's critical path in each phase: they add up to the case's days.

    Returns:
        One row per phase (``phase``, ``days``, ``lost``: a phase a better-run
        system would not have), longest first.
    """
    path = table[table["critical"]] if "critical" in table else table
    sums = path.groupby("phase", sort=False)["days"].sum().sort_values(ascending=False)
    return pd.DataFrame(
        {"phase": sums.index, "days": sums.to_numpy(), "lost": [p in LOSSES for p in sums.index]}
    )


def case_label(case: Case, now: float, t: Translator) -> str:
    """How the picker names a case: number, type, city, status and days so far."""
    status = t._("closed") if case.closed_at is not None else t._("open")
    days = (case.closed_at if case.closed_at is not None else now) - case.reported_at
    return t._("#{id} {type}, {city} ({status}, {days} days)").format(
        id=case.id, type=term(case.case_type, t), city=case.city, status=status,
        days=t.number(days, 0),
    )  # fmt: skip


@solara.component
def TracePage(model: AppModel, t: Translator, tick: solara.Reactive[int]) -> None:
    """Pick one of the longest cases; see its timeline and a table of all its days."""
    chosen, set_chosen = solara.use_state((0, 0))  # (model id, case id): a rebuild forgets it
    tick.value  # redraw after every step  # noqa: B018
    with model.lock:
        _Tracer(model, t, chosen, set_chosen)


def _Tracer(model: AppModel, t: Translator, chosen: tuple[int, int], set_chosen: Any) -> None:
    """The page's content, drawn while the model is held still (a plain function, no hooks)."""
    ranked = sorted(
        model.cases,
        key=lambda c: (c.closed_at if c.closed_at is not None else model.now) - c.reported_at,
        reverse=True,
    )[:LONGEST]
    case_id = chosen[1] if chosen[0] == id(model) else 0
    if not case_id and ranked:
        case_id = ranked[0].id  # the longest so far, until another is chosen
    if case_id and case_id not in {c.id for c in ranked}:
        ranked.append(model.cases[case_id - 1])  # keep showing the chosen case
    labels = {case_label(c, model.now, t): c.id for c in ranked}
    with solara.Card(t._("Trace a case")):
        if not model.cases:
            solara.Info(t._("No case reported yet: step the run first."))
            return
        current = next((label for label, i in labels.items() if i == case_id), None)
        solara.Select(
            label=t._("case (the {n} longest so far)").format(n=LONGEST),
            values=list(labels),
            value=current,
            on_value=lambda label: set_chosen((id(model), labels[label])),
        )
        if current is None:
            solara.Text(t._("Choose a case to see its path through the agencies."))
            return
        case = model.cases[case_id - 1]
        with speaking(t.lang):
            table = timeline(case, [a.name for a in model.agencies], model.now)
        spec, data = charts.trace_chart(table, current, t.marked, t)
        charts.Chart(spec, data, f"case-{case.id}", t)
        spent = days_by_phase(table)
        total = float(spent["days"].sum())
        lost = float(spent.loc[spent["lost"], "days"].sum())
        lost_mark = t._("lost")
        lines = [
            f"| {t._('where the days went')} | {t._('days')} | {t._('lost?')} |",
            "|---|---:|---|",
            *(
                f"| {t.marked(str(phase))} | {t.number(float(days), 1)} | "
                f"{lost_mark if lost else ''} |"
                for phase, days, lost in spent.itertuples(index=False)
            ),
            f"| **{t._('all the days of the case')}** | **{t.number(total, 1)}** | "
            f"{t._('{days} lost').format(days=t.number(lost, 1))} |",
        ]
        solara.Markdown("\n".join(lines))
        plan = " → ".join(term(s, t) for s in case.plan)
        solara.Markdown(
            t._("Plan: {plan}. Interviews of the child so far: {n}.").format(
                plan=plan, n=case.interviews
            )
        )
        Download(
            lambda: spent.to_csv(index=False), filename=f"case-{case.id}-days.csv",
            label=t._("CSV"), mime_type="text/csv",
        )  # fmt: skip
