"""The brief of an exploration: the best choice across futures, its spread, its table."""

from __future__ import annotations

import math
import shlex
from typing import Any

import pandas as pd

from collabsim.brief.content import (
    _MAX_POLICIES,
    _MAX_POLICY_CHANGES,
    OUTPUT,
    TABLE,
    Brief,
    Row,
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
    _version,
    changes,
    fmt_days,
)
from collabsim.brief.folders import ExplorationFolder
from collabsim.i18n import _, translator

__all__ = ["best_choice", "exploration_answer", "exploration_brief", "spread"]


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
