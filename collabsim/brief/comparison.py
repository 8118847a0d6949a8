"""The brief of a comparison: its question, its answer with the paired interval, its table."""

from __future__ import annotations

import math
import shlex

from collabsim.brief.content import (
    OUTPUT,
    TABLE,
    Brief,
    Row,
    _assumptions,
    _at,
    _brief_command,
    _dateline,
    _footer,
    _headings,
    _label,
    _money_scale,
    _number,
    _present,
    _quote,
    _shell_path,
    _value,
    _version,
    changes,
    fmt_days,
)
from collabsim.brief.folders import ComparisonFolder
from collabsim.i18n import _, translator

__all__ = ["comparison_answer", "comparison_brief"]


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
