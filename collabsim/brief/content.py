"""The brief's words and numbers, in the language in use, from what a folder holds.

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

from collabsim.brief.folders import ComparisonFolder, ExplorationFolder
from collabsim.i18n import _, translator
from collabsim.scenario import Scenario
from collabsim.terms import term

__all__ = ["Brief", "Row", "comparison_brief", "exploration_brief", "fmt_days"]

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


def _over(c: ComparisonFolder, n: int) -> str:
    if c.kind == "compare":
        return _("{n} paired replications").format(n=n)
    return _("{n} independent replications of each (Welch interval)").format(n=n)


def comparison_answer(c: ComparisonFolder) -> tuple[str, str]:
    """The verdict and the answer's sentence of a comparison, on the median handling time."""
    a, b = _quote(c.names["A"]), _quote(c.names["B"])
    if OUTPUT not in c.table.index:
        return _("Not known."), _("The runs hold no median handling time.")
    diff, low, high = (_at(c.table, OUTPUT, k) for k in ("diff", "ci_low", "ci_high"))
    means = [_at(c.table, OUTPUT, k) for k in ("mean_a", "mean_b")]  # the table's decimals
    n = int(_at(c.table, OUTPUT, "n"))
    if n < 2 or math.isnan(low) or math.isnan(high):
        return _("Not known."), _(
            "The median handling time was reached in fewer than two replications of both "
            "scenarios, so no confidence interval can be given."
        )
    d, lo, hi = fmt_days(diff, low, high, like=means)
    days = fmt_days(abs(diff), low, high, like=means)[0]
    over = _over(c, n)
    if high < 0:
        return _("Yes."), _(
            "With {b} the median handling time is {days} days shorter than with {a} (difference "
            "{diff} days; 95% confidence interval {low} to {high} days over {over}; the interval "
            "excludes zero)."
        ).format(a=a, b=b, days=days, diff=d, low=lo, high=hi, over=over)
    if low > 0:
        return _("No."), _(
            "With {b} the median handling time is {days} days longer than with {a} (difference "
            "{diff} days; 95% confidence interval {low} to {high} days over {over}; the interval "
            "excludes zero)."
        ).format(a=a, b=b, days=days, diff=d, low=lo, high=hi, over=over)
    return _("Not shown."), _(
        "The median handling time differs by {diff} days between {b} and {a} (95% confidence "
        "interval {low} to {high} days over {over}), and the interval includes zero, so these "
        "replications cannot tell the two apart."
    ).format(a=a, b=b, diff=d, low=lo, high=hi, over=over)


def _comparison_rows(c: ComparisonFolder) -> list[Row]:
    rows = []
    for output in TABLE:
        if output not in c.table.index:
            continue
        values = [
            _at(c.table, output, k) for k in ("mean_a", "mean_b", "diff", "ci_low", "ci_high")
        ]
        if not _present(output, values):
            continue
        label = _label(output)
        if output == "cost_per_year":
            scale, label = _money_scale(values)
            cells = [_number(v / scale, 1) for v in values]
        elif output == "interviews_per_child":
            cells = [_number(v, 2) for v in values]
        else:
            cells = fmt_days(*values)
        spread = _("{low} to {high}").format(low=cells[3], high=cells[4])
        rows.append(Row(label, [cells[0], cells[1], cells[2], spread]))
    return rows


def _command_for(c: ComparisonFolder) -> tuple[str, list[str]]:
    """The command that makes the comparison's runs again, and notes on it."""
    notes = []
    paths = [c.paths["A"], c.paths["B"]]
    files = [_shell_path(p) if p is not None else f"{arm}.toml"
             for arm, p in zip("AB", paths, strict=True)]  # fmt: skip
    if None in paths:
        notes.append(
            _(
                "The scenario files were not found by their content, beside the folder or in a "
                "scenarios folder: put the files of {a} and {b} in place of A.toml and B.toml."
            ).format(a=_quote(c.names["A"]), b=_quote(c.names["B"]))
        )
    words = ["collabsim", "compare", *files, "--reps", str(c.reps), "--seed", str(c.seed),
             "--out", _shell_path(c.folder)]  # fmt: skip
    if c.kind != "compare":
        notes.append(
            _(
                "These runs were made without common random numbers (the Python API's "
                "compare(..., common_random_numbers=False)); the command makes the paired "
                "comparison."
            )
        )
    return shlex.join(words), notes


def comparison_brief(c: ComparisonFolder, lang: str) -> Brief:
    """The brief of a comparison, in the language in use.

    Args:
        c: the comparison, as read from its folder.
        lang: the language in use (for this brief's own command).
    """
    t = translator()
    a, b = _quote(c.names["A"]), _quote(c.names["B"])
    verdict, answer = comparison_answer(c)
    first = c.runs["A"].iloc[0]
    depends = [
        _(
            "{n} paired replications: both scenarios ran with the same seeds, so the same cases "
            "arrived at the same times (common random numbers); the interval is the Student t "
            "interval of the paired differences."
        ).format(n=c.reps)
        if c.kind == "compare"
        else _("{n} independent replications of each scenario; the interval is Welch's.").format(
            n=c.reps
        ),
        _(
            "Each run simulates {days} days: a warm-up of {warmup} days, then the cases reported "
            "until day {end} (the cohort), followed until the run ends."
        ).format(
            days=t.number(int(_value(first["days"]))),
            warmup=t.number(int(_value(first["warmup_days"]))),
            end=t.number(int(_value(first["cohort_end_day"]))),
        ),
    ]
    if OUTPUT in c.table.index and int(_at(c.table, OUTPUT, "n")) < c.reps:
        depends.append(
            _(
                "The median handling time was reached in both scenarios in {n} of the {reps} "
                "replications; the interval is over those."
            ).format(n=int(_at(c.table, OUTPUT, "n")), reps=c.reps)
        )
    sa, sb = c.scenarios["A"], c.scenarios["B"]
    if sa is not None:
        depends += _assumptions(sa, c.names["A"])
    else:
        depends.append(
            _(
                "The scenario files were not found, so their assumptions are not counted here: "
                "durations without a source are assumptions, with ranges in each scenario's "
                "[ranges]."
            )
        )
    if sa is not None and sb is not None:
        changed = changes(sa, sb)
        if changed:
            depends.append(
                _("What {b} changes from {a}: {changes}.").format(
                    a=a, b=b, changes="; ".join(changed)
                )
            )
        else:
            depends.append(_("{b} sets no value differently from {a}.").format(a=a, b=b))
        if sb.description:
            depends.append(
                _("The scenario describes itself as {text}.").format(text=_quote(sb.description))
            )
    for arm in ("A", "B"):
        share = float(c.runs[arm]["open_share"].astype(float).mean())
        if share > 0.05:
            depends.append(
                _(
                    "At the end of the runs of {name}, {share} of the cohort was still open: the "
                    "median is a Kaplan-Meier estimate that counts those cases as not yet closed."
                ).format(name=_quote(c.names[arm]), share=t.percent(share))
            )
    if c.failed:
        depends.append(_("{count} runs failed and are left out.").format(count=c.failed))
    if c.others:
        depends.append(
            _("The store holds {count} other comparisons; this brief reads the latest.").format(
                count=c.others
            )
        )
    command, notes = _command_for(c)
    reproduce = [
        *notes,
        _("collabsim version: {version}").format(version=_version(c.versions)),
        _("root seed {seed}, {reps} replications of each scenario").format(
            seed=c.seed, reps=c.reps
        ),
    ]
    if c.finished is not None:
        reproduce.append(_("the runs finished on {date}").format(date=t.date(c.finished.date())))
    reproduce.append(_brief_command(c.folder, lang))
    return Brief(
        lang=lang,
        kicker=_("Policy brief"),
        title=_("{b} compared with {a}").format(a=a, b=b),
        dateline=_dateline(c.versions),
        headings=_headings(),
        question=_("Would {b} shorten children's handling time compared with {a}?").format(
            a=a, b=b
        ),
        question_note=_(
            "Handling time runs from the report of a case to its closure. The answer comes from "
            "a simulation of the agencies with synthetic cases, not from case records."
        ),
        verdict=verdict,
        answer=answer,
        figure_caption=_(
            "The difference B − A in each output, with its 95% confidence interval over {over} "  # noqa: RUF001
            "(A = {a}, B = {b}). A bar left of zero: shorter with B."
        ).format(a=a, b=b, over=_over(c, c.reps)),
        figure_alt=_("Differences B − A with their 95% confidence intervals"),  # noqa: RUF001
        columns=[
            "",
            _("A: mean"),
            _("B: mean"),
            _("difference B − A"),  # noqa: RUF001
            _("95% confidence interval"),
        ],
        rows=_comparison_rows(c),
        table_note=_(
            "A = {a}, B = {b}. Means over the replications; days unless the row says otherwise."
        ).format(a=a, b=b),
        depends=depends,
        reproduce_intro=_(
            "This command makes the same runs again; the same seeds give the same numbers:"
        ),
        command=command,
        reproduce=reproduce,
        footer=_footer(),
    )


# --- an exploration ---------------------------------------------------------------------------


def _effect(e: ExplorationFolder, policy: str, output: str) -> pd.Series:
    """A policy's effect on an output in each future (NaN where not measured)."""
    from collabsim.experiments.explore import BASELINE

    if output in e.effects:
        rows = e.effects[e.effects["policy"] == policy]
        return rows.set_index("future")[output].astype(float)
    if output not in e.levels:
        return pd.Series(dtype=float)
    mine = e.levels[e.levels["policy"] == policy].set_index("future")[output].astype(float)
    base = e.levels[e.levels["policy"] == BASELINE].set_index("future")[output].astype(float)
    return mine - base


def _level(e: ExplorationFolder, policy: str, output: str) -> float:
    if output not in e.levels:
        return math.nan
    return float(e.levels.loc[e.levels["policy"] == policy, output].astype(float).median())


def spread(e: ExplorationFolder, output: str) -> list[dict[str, Any]]:
    """Per intervention, in the order explored: its effect's spread over the futures.

    Returns:
        Per intervention: ``policy``, ``name`` (its scenario's), ``n`` (futures measured),
        ``p10``, ``p50``, ``p90`` (its effect's percentiles over them, as ``explore``
        summarises them) and ``share`` (the share of futures in which it is the best choice).
    """
    regret = f"regret_{output}"
    rows = []
    names = {p: e.names.get(p, p) for p in e.policy_ids}
    if len(set(names.values())) < len(names):
        names = {p: p for p in names}  # two scenarios of one name: their files tell them apart
    for p in e.policy_ids:
        effect = _effect(e, p, output).dropna()
        mine = e.effects.loc[e.effects["policy"] == p]
        r = mine[regret].dropna() if regret in mine else pd.Series(dtype=float)
        rows.append(
            {"policy": p, "name": names[p], "n": len(effect),
             "p10": float(effect.quantile(0.1)) if len(effect) else math.nan,
             "p50": float(effect.median()) if len(effect) else math.nan,
             "p90": float(effect.quantile(0.9)) if len(effect) else math.nan,
             "share": float((r == 0.0).mean()) if len(r) else math.nan}
        )  # fmt: skip
    return rows


def best_choice(e: ExplorationFolder) -> dict[str, Any]:
    """The exploration's answer on the median handling time, as ``explore`` summarises it.

    Returns:
        ``policy`` (the intervention best in most futures), ``share`` (the share of futures
        it is best in), ``base_share`` (doing nothing's), ``n`` (futures measured),
        ``p10``, ``p50``, ``p90`` (its effect's percentiles over the futures).
    """
    from collabsim.experiments.explore import BASELINE

    regret = f"regret_{OUTPUT}"
    share: dict[str, float] = {}
    for policy, rows in e.effects.groupby("policy", sort=False):
        r = rows[regret].dropna() if regret in rows else pd.Series(dtype=float)
        share[str(policy)] = float((r == 0.0).mean()) if len(r) else math.nan
    ids = e.policy_ids
    mean_regret = {
        p: float(e.effects.loc[e.effects["policy"] == p, regret].mean())
        if regret in e.effects else math.nan
        for p in ids
    }  # fmt: skip
    best = max(ids, key=lambda p: (_finite(share.get(p)), -_finite(mean_regret[p], -math.inf)))
    effect = _effect(e, best, OUTPUT).dropna()
    return {
        "policy": best,
        "share": share.get(best, math.nan),
        "base_share": share.get(BASELINE, math.nan),
        "n": len(effect),
        "p10": float(effect.quantile(0.1)) if len(effect) else math.nan,
        "p50": float(effect.median()) if len(effect) else math.nan,
        "p90": float(effect.quantile(0.9)) if len(effect) else math.nan,
    }


def _finite(value: float | None, default: float = -1.0) -> float:
    return default if value is None or value != value else float(value)


def exploration_answer(e: ExplorationFolder) -> tuple[str, str]:
    """The verdict and the answer's sentence of an exploration, on the median handling time."""
    from collabsim.experiments.explore import BASELINE

    t = translator()
    if OUTPUT not in e.effects or not e.policy_ids:
        return _("Not known."), _("The exploration holds no effect on the median handling time.")
    best = best_choice(e)
    name = _quote(e.names.get(best["policy"], best["policy"]))
    if not best["n"]:
        return _("Not known."), _(
            "The median handling time was not reached in any future, so no effect can be given."
        )
    like = [_level(e, BASELINE, OUTPUT), _level(e, best["policy"], OUTPUT)]  # the table's decimals
    p10, p50, p90 = fmt_days(best["p10"], best["p50"], best["p90"], like=like)
    size = fmt_days(abs(best["p50"]), best["p10"], best["p90"], like=like)[0]
    values = {"name": name, "share": t.percent(best["share"]), "n": best["n"],
              "days": size, "p10": p10, "p50": p50, "p90": p90}  # fmt: skip
    if _finite(best["base_share"]) > _finite(best["share"]):
        return _("Best choice: doing nothing."), _(
            "Doing nothing is the best choice in {base} of the {n} futures; the best "
            "intervention, {name}, is best in {share}, and its effect on the median handling "
            "time lies between {p10} and {p90} days (10th to 90th percentile over the futures)."
        ).format(base=t.percent(best["base_share"]), **values)
    verdict = _("Best choice: {name}.").format(name=name)
    if best["p50"] < 0 and round(best["p50"], 2) != 0:
        text = _(
            "It is the best choice in {share} of the {n} futures: in the median future it "
            "shortens the median handling time by {days} days, and its effect lies between {p10} "
            "and {p90} days (10th to 90th percentile over the futures)."
        )
    elif best["p50"] > 0 and round(best["p50"], 2) != 0:
        text = _(
            "It is the best choice in {share} of the {n} futures, yet in the median future it "
            "lengthens the median handling time by {days} days; its effect lies between {p10} "
            "and {p90} days (10th to 90th percentile over the futures)."
        )
    else:
        text = _(
            "It is the best choice in {share} of the {n} futures, yet in the median future it "
            "leaves the median handling time as it is; its effect lies between {p10} and {p90} "
            "days (10th to 90th percentile over the futures)."
        )
    return verdict, text.format(**values)


def _exploration_rows(e: ExplorationFolder, best: str) -> tuple[list[str], list[Row]]:
    from collabsim.experiments.explore import BASELINE

    name = _quote(e.names.get(best, best))
    levels = len(e.levels) > 0
    columns = [""]
    if levels:
        columns += [_("doing nothing"), name]
    columns += [_("effect: median"), _("effect: 10th to 90th percentile")]
    rows = []
    for output in TABLE:
        effect = _effect(e, best, output).dropna()
        if not len(effect):
            continue
        values = [float(effect.median()), float(effect.quantile(0.1)), float(effect.quantile(0.9))]
        if levels:
            values = [_level(e, BASELINE, output), _level(e, best, output), *values]
        if not _present(output, values):
            continue
        label = _label(output)
        if output == "cost_per_year":
            scale, label = _money_scale(values)
            cells = [_number(v / scale, 1) for v in values]
        elif output == "interviews_per_child":
            cells = [_number(v, 2) for v in values]
        else:
            cells = fmt_days(*values)
        spread = _("{low} to {high}").format(low=cells[-2], high=cells[-1])
        rows.append(Row(label, [*cells[:-2], spread]))
    return columns, rows


def _exploration_command(e: ExplorationFolder) -> tuple[str, list[str]]:
    if e.command:
        return e.command, []
    seed = e.seed if e.seed is not None else 0
    words = ["collabsim", "explore", "BASE.toml", *(f"{p}.toml" for p in e.policy_ids),
             "--futures", str(len(e.futures)), "--reps", str(e.reps or 1),
             "--seed", str(seed), "--out", _shell_path(e.folder)]  # fmt: skip
    note = _(
        "The folder records no command (no report.md): put the baseline's file in place of "
        "BASE.toml and each intervention's in place of its name."
    )
    return shlex.join(words), [note]


def exploration_brief(e: ExplorationFolder, lang: str) -> Brief:
    """The brief of an exploration, in the language in use.

    Args:
        e: the exploration, as read from its folder.
        lang: the language in use (for this brief's own command).
    """
    t = translator()
    base = _quote(e.base_name)
    ids = e.policy_ids
    futures = len(e.futures)
    verdict, answer = exploration_answer(e)
    best = best_choice(e)["policy"] if OUTPUT in e.effects and ids else (ids or [""])[0]
    if len(ids) == 1:
        question = _(
            "Would {name} shorten children's handling time compared with {base}, across {n} "
            "futures of the model's assumptions?"
        ).format(name=_quote(e.names.get(ids[0], ids[0])), base=base, n=futures)
    else:
        question = _(
            "Which of {count} interventions would best shorten children's handling time compared "
            "with {base}, across {n} futures of the model's assumptions?"
        ).format(count=len(ids), base=base, n=futures)
    ranges = [c for c in e.futures.columns if c != "future"]
    own = [c for c in ranges if ":" in c]
    reps = e.reps
    depends = [
        _(
            "{n} futures drawn by Latin hypercube sampling over {ranges} ranges of assumptions "
            "({base} of the baseline's [ranges] and {own} of the interventions' own, such as "
            "their costs), with the same seeds in every arm (common random numbers; replications "
            "per future and policy: {reps})."
        ).format(
            n=futures,
            ranges=len(ranges),
            base=len(ranges) - len(own),
            own=len(own),
            reps=reps or "?",
        ),
        _(
            "Most durations, rates and penalties of the model have no published source: each is "
            "an assumption with a plausible range in the scenario's [ranges]. The answer holds "
            "across those ranges as drawn, and says nothing of values outside them."
        ),
    ]
    if OUTPUT in e.effects and ids:
        n = best_choice(e)["n"]
        if n < futures:
            depends.append(
                _(
                    "In {missing} of the {n} futures the median handling time was not reached "
                    "within the run (in the baseline or in {name}); those futures are left out "
                    "of the answer."
                ).format(missing=futures - n, n=futures, name=_quote(e.names.get(best, best)))
            )
    if reps == 1:
        depends.append(
            _(
                "With one replication per future, an effect in one future carries the noise of "
                "one run as well as the future's; the spread over the futures includes both."
            )
        )
    if e.base is not None and e.policies:
        shown = [p for p in ids if p in e.policies][:_MAX_POLICIES]
        for p in shown:
            changed = changes(e.base, e.policies[p], _MAX_POLICY_CHANGES)
            if changed:
                depends.append(
                    _("What {name} changes: {changes}.").format(
                        name=_quote(e.names.get(p, p)), changes="; ".join(changed)
                    )
                )
        if len(ids) > len(shown):
            depends.append(
                _("The changes of the other {count} interventions are in their files.").format(
                    count=len(ids) - len(shown)
                )
            )
    else:
        depends.append(
            _(
                "The scenario files of the command were not found as they ran, so what each "
                "intervention changes is not listed here."
            )
        )
    command, notes = _exploration_command(e)
    reproduce = [*notes, _("collabsim version: {version}").format(version=_version(e.versions))]
    if e.seed is not None:
        reproduce.append(
            _("root seed {seed}, {n} futures, replications per future and policy: {reps}").format(
                seed=e.seed, n=futures, reps=reps or "?"
            )
        )
    if e.finished is not None:
        reproduce.append(_("the runs finished on {date}").format(date=t.date(e.finished.date())))
    reproduce.append(_brief_command(e.folder, lang))
    columns, rows = _exploration_rows(e, best) if best else ([""], [])
    return Brief(
        lang=lang,
        kicker=_("Policy brief"),
        title=_("Interventions for {base} across {n} futures").format(base=base, n=futures),
        dateline=_dateline(e.versions),
        headings=_headings(),
        question=question,
        question_note=_(
            "Handling time runs from the report of a case to its closure. A future is one value "
            "of each assumption, drawn from its plausible range; in each future every "
            "intervention is compared with doing nothing. The cases are synthetic."
        ),
        verdict=verdict,
        answer=answer,
        figure_caption=_(
            "Each intervention's effect on the median handling time (its value minus doing "
            "nothing's, in the same future): the dot is the median future, the line spans the "
            "10th to the 90th percentile of the futures; on the right, the share of futures in "
            "which it is the best choice. Left of zero: shorter than doing nothing."
        ),
        figure_alt=_("Each intervention's effect across the futures"),
        columns=columns,
        rows=rows,
        table_note=_(
            "Medians over the futures in which the output was measured; an effect is the "
            "intervention's value minus doing nothing's in the same future. Days unless the row "
            "says otherwise."
        ),
        depends=depends,
        reproduce_intro=_(
            "This command makes the same runs again; the same seeds give the same numbers:"
        ),
        command=command,
        reproduce=reproduce,
        footer=_footer(),
    )
