"""What every brief shares: its record, its formats, and what a scenario changes.

Every sentence is an English message id translated through
:mod:`collabsim.i18n`; numbers and dates are the translator's. The template
receives the finished strings, so it holds no words of its own.
"""

from __future__ import annotations

import datetime as dt
import math
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from collabsim.i18n import _, translator
from collabsim.scenario import Scenario
from collabsim.terms import term

__all__ = ["OUTPUT", "TABLE", "Brief", "Row", "changes", "fmt_days"]

OUTPUT = "handling_days_median"
"""The output the question and the answer are about."""

TABLE = (
    "handling_days_median",
    "handling_days_p90",
    "first_service_days_median",
    "interviews_per_child",
    "cost_per_year",
)
"""The table's outputs, in order (interviews and cost only where a scenario has them)."""

_WHERE_PRESENT = ("interviews_per_child", "cost_per_year")
_MAX_CHANGES = 6
_MAX_POLICY_CHANGES = 4
_MAX_POLICIES = 5


@dataclass
class Row:
    """A row of the brief's table: a label and its cells."""

    label: str
    cells: list[str]


@dataclass
class Brief:
    """Everything the template shows, already in the brief's language.

    Attributes:
        lang: ``en`` or ``id``.
        kicker: the document's kind (policy brief).
        title: the title.
        dateline: the date and the program that made it.
        headings: each section's heading, by section.
        question: the question.
        question_note: what the question's words mean.
        verdict: the answer's first word(s) (yes, no, not shown, the best choice).
        answer: the answer in one sentence with its uncertainty.
        figure_caption: what the figure shows.
        figure_alt: the figure's text alternative.
        columns: the table's column headings (the first for the labels).
        rows: the table's rows.
        table_note: what the table's numbers are.
        depends: what the answer depends on, one item a line.
        reproduce_intro: the sentence before the command.
        command: the command that reproduces the runs.
        reproduce: the version, seeds, date and this brief's own command.
        footer: the footer's line.
        figure: the figure as a ``data:`` URI (set when it is drawn).
    """

    lang: str
    kicker: str
    title: str
    dateline: str
    headings: dict[str, str]
    question: str
    question_note: str
    verdict: str
    answer: str
    figure_caption: str
    figure_alt: str
    columns: list[str]
    rows: list[Row]
    table_note: str
    depends: list[str]
    reproduce_intro: str
    command: str
    reproduce: list[str]
    footer: str
    figure: str = ""


def _headings() -> dict[str, str]:
    return {
        "question": _("The question"),
        "answer": _("The answer"),
        "figure": _("The evidence"),
        "table": _("The main numbers"),
        "depends": _("What it depends on"),
        "reproduce": _("How to reproduce it"),
    }


def _number(value: float | None, digits: int) -> str:
    """A number in the language in use; one that rounds to zero is 0, never -0."""
    t = translator()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t.number(None)
    if round(float(value), digits) == 0:
        value = 0.0
    return t.number(float(value), digits)


def _digits(*values: float) -> int:
    """Decimals for days: one from 10 days up, else two."""
    finite = [abs(v) for v in values if v == v]
    return 1 if finite and max(finite) >= 10 else 2


def fmt_days(*values: float, like: Sequence[float] = ()) -> list[str]:
    """Day counts with the same decimals, in the language in use.

    Args:
        *values: the day counts.
        like: more numbers of the same row, whose size also sets the decimals.
    """
    digits = _digits(*values, *like)
    return [_number(v, digits) for v in values]


def _at(table: pd.DataFrame, row: str, column: str) -> float:
    """One number of a table."""
    return _value(table.at[row, column])


def _value(value: Any) -> float:
    return float(value)


def _quote(name: str) -> str:
    return "\u201c" + name + "\u201d"


def _rupiah(value: float) -> str:
    return "Rp\u00a0" + _number(value, 0)


def _money_scale(values: Sequence[float]) -> tuple[float, str]:
    """The unit a row of rupiah reads best in: million or billion."""
    finite = [abs(v) for v in values if v == v]
    if finite and max(finite) >= 1e9:
        return 1e9, _("cost per year (billion rupiah)")
    return 1e6, _("cost per year (million rupiah)")


def _label(output: str) -> str:
    if output == "cost_per_year":
        return _("cost per year (rupiah)")
    return term(output)


def _present(output: str, values: Sequence[float]) -> bool:
    """Whether a row belongs in the table: interviews and costs only where not all zero."""
    if output not in _WHERE_PRESENT:
        return True
    return any(v == v and v != 0 for v in values)


def _dateline(versions: Sequence[str]) -> str:
    t = translator()
    return _("{date} · collabsim {version} · simulated with synthetic cases").format(
        date=t.date(dt.date.today()), version=_version(versions)
    )


def _version(versions: Sequence[str]) -> str:
    return ", ".join(versions) if versions else _("unknown")


def _footer() -> str:
    return _("collabsim policy brief. All cases are synthetic: the model reads no personal data.")


def _shell_path(path: Path) -> str:
    """A path as a command gives it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def _brief_command(folder: Path, lang: str) -> str:
    words = ["collabsim", "brief", _shell_path(folder)]
    if lang != "en":
        words += ["--lang", lang]
    return _("this brief: {command}").format(command=shlex.join(words))


# --- what a scenario changes ------------------------------------------------------------------


def _leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    """A scenario's values by dotted name (a list is one value)."""
    out: dict[str, Any] = {}
    if isinstance(node, Mapping):
        for key, value in node.items():
            out.update(_leaves(value, f"{prefix}{key}."))
    else:
        out[prefix.rstrip(".")] = node
    return out


def _scenario_values(s: Scenario) -> dict[str, Any]:
    data = s.model_dump(mode="json", by_alias=True)
    for key in ("name", "description", "ranges", "sources"):
        data.pop(key, None)
    return _leaves(data)


def _change_label(key: str) -> tuple[str, bool]:
    """A changed value's label, and whether it is in rupiah."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "agencies":
        agency = term(parts[1])
        labels = {
            "joint_interview": _("one joint interview at {agency}"),
            "services": _("services of {agency}"),
            "staff": _("staff posts at {agency}"),
            "vacancy_rate": _("share of posts vacant at {agency}"),
            "beds": _("beds at {agency}"),
            "on_call": _("on-call staff at {agency}"),
            "staff_cost_per_year": _("staff cost a year per post at {agency}"),
        }
        if parts[2] in labels:
            return labels[parts[2]].format(agency=agency), parts[2] == "staff_cost_per_year"
    if (
        len(parts) == 3
        and parts[0] == "channels"
        and parts[2] in ("latency_days", "miscommunication")
    ):
        channel = _quote(parts[1])
        if parts[2] == "latency_days":
            return _("days a referral takes on channel {channel}").format(channel=channel), False
        return _("base rate of miscommunication on channel {channel}").format(
            channel=channel
        ), False
    if len(parts) == 3 and parts[0] == "barriers" and parts[2] == "intensity":
        return _("barrier {barrier}: intensity").format(barrier=_quote(term(parts[1]))), False
    simple = {
        "costs.one_off": (_("one-off cost"), True),
        "costs.yearly": (_("yearly cost"), True),
        "costs.years": (_("years the one-off cost is spread over"), False),
        "shared_case_system": (_("shared case system"), False),
        "shared_adoption": (_("share of agencies on the shared case system"), False),
    }
    return simple.get(key, (key, False))


def _show_value(value: Any, money: bool) -> str:
    t = translator()
    if isinstance(value, bool):
        return t.number(value)
    if isinstance(value, int | float):
        if money:
            return _rupiah(float(value))
        return _number(float(value), 0 if float(value).is_integer() else 2)
    if value is None:
        return _("not set")
    if isinstance(value, str):
        return value
    return _("changed")


def changes(a: Scenario, b: Scenario, most: int = _MAX_CHANGES) -> list[str]:
    """What ``b`` sets differently from ``a``, one short line each (at most ``most``, then a count).

    Args:
        a: the reference scenario.
        b: the scenario that changes it.
        most: how many changes to list by name.
    """
    va, vb = _scenario_values(a), _scenario_values(b)
    keys = sorted(  # what it does first, what it costs last
        (k for k in set(va) | set(vb) if va.get(k) != vb.get(k)),
        key=lambda k: (k.startswith("costs."), k),
    )
    lines = []
    for key in keys[:most]:
        label, money = _change_label(key)
        if isinstance(va.get(key), list) or isinstance(vb.get(key), list):
            lines.append(_("{what}: changed").format(what=label))
            continue
        lines.append(
            _("{what}: {old} → {new}").format(
                what=label, old=_show_value(va.get(key), money), new=_show_value(vb.get(key), money)
            )
        )
    if len(keys) > most:
        lines.append(_("and {count} more").format(count=len(keys) - most))
    return lines


def _assumptions(s: Scenario, name: str) -> list[str]:
    """Sentences on a scenario's assumptions: how many, their ranges, those without one."""
    from collabsim.assumptions import assumed, lacking

    count, ranges, open_ = len(assumed(s)), len(s.ranges), len(lacking(s))
    if not count:
        return [_("Every value of {name} that the model takes as given cites a source.").format(
            name=_quote(name))]  # fmt: skip
    if ranges:
        text = _(
            "{count} values of {name} (durations, rates, penalties) have no published source: "
            "each is an assumption, with a plausible range in the scenario's [ranges] ({ranges} "
            "ranges). This comparison runs at the scenario's values and does not move them; "
            "collabsim explore tests whether the answer holds across the ranges."
        ).format(count=translator().number(count), name=_quote(name), ranges=ranges)
    else:
        text = _(
            "{count} values of {name} (durations, rates, penalties) have no published source: "
            "each is an assumption, and the scenario gives no [ranges] for them. This comparison "
            "runs at the scenario's values."
        ).format(count=translator().number(count), name=_quote(name))
    lines = [text]
    if open_ and ranges:
        lines.append(
            _("{count} of them have no range yet (collabsim validate lists them).").format(
                count=translator().number(open_)
            )
        )
    return lines


# --- a comparison ----------------------------------------------------------------------------
