"""Compare scenarios and explore uncertainty: replications run in the background, with progress.

Both pages run the same experiments as the command line (``collabsim
compare`` and ``collabsim explore``), into a folder of the session's own, so
their numbers are the command line's: paired replications with common random
numbers and 95% confidence intervals, and futures sampled over the
baseline's ranges.
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import solara

from collabsim.app import charts
from collabsim.app.download import Download
from collabsim.app.session import Settings, saved_scenario, scenario_files
from collabsim.errors import InputError
from collabsim.i18n import Translator
from collabsim.i18n import use_language as speaking  # not a hook (solara checks use_*)
from collabsim.terms import term

__all__ = ["ComparePage", "ExplorePage", "comparison_rows"]

KEY_OUTPUTS = (
    "handling_days_median",
    "handling_days_p90",
    "first_service_days_median",
    "days_to_stay_median",
    "interviews_per_child",
    "open_share",
    "staff_hours_per_case",
    "cost_per_year",
)
"""The outputs the compare page shows, in this order."""
DAYS = ("handling_days_median", "handling_days_p90", "first_service_days_median")
WORKERS = 2  # processes per experiment: the machine's two cores


def comparison_rows(table: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """The comparison's key outputs for people: A, B, B - A and its 95% interval."""
    rows = []
    for key in KEY_OUTPUTS:
        if key not in table.index:
            continue
        columns = ("mean_a", "mean_b", "diff", "ci_low", "ci_high")
        values = dict(zip(columns, table.loc[key, list(columns)].astype(float), strict=True))
        rows.append({"output": key, "label": term(key, t), **values})
    return pd.DataFrame(rows)


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="collabsim-app-"))


def _use_folder() -> Path:
    """A results folder for this session, removed when the session ends."""
    folder: Path = solara.use_memo(_folder, [])

    def cleanup() -> Callable[[], None]:
        return lambda: shutil.rmtree(folder, ignore_errors=True)

    solara.use_effect(cleanup, [])
    return folder


@solara.component
def _Progress(done: int, total: int, t: Translator) -> None:
    solara.ProgressLinear(100.0 * done / total if total else True)
    solara.Text(t._("{done} of {total} runs done").format(done=done, total=total))


def _use_job(
    work: Callable[[Callable[[int, int], None]], Any],
) -> tuple[Callable[[], None], tuple[int, int], Any, str, bool]:
    """A background job: (start it, its progress, its result, its error, running)."""
    token, set_token = solara.use_state(0)
    progress, set_progress = solara.use_state((0, 0))
    outcome, set_outcome = solara.use_state((None, ""))

    def run(cancel: threading.Event) -> None:
        if not token:
            return
        set_outcome((None, ""))
        try:
            result = work(lambda done, total: set_progress((done, total)))
        except InputError as exc:
            set_outcome((None, str(exc)))
            return
        if not cancel.is_set():
            set_outcome((result, ""))

    job = solara.use_thread(run, dependencies=[token])
    running = bool(token) and job.state == solara.ResultState.RUNNING
    return (lambda: set_token(token + 1)), progress, outcome[0], outcome[1], running


@solara.component
def ComparePage(settings: Settings, t: Translator) -> None:
    """The current settings (A) against another scenario (B), over paired replications."""
    files = scenario_files()
    names = {Path(f).name: f for f in files}
    default = next((n for n in names if n != settings.name), settings.name)
    other, set_other = solara.use_state(default)
    reps, set_reps = solara.use_state(5)
    folder = _use_folder()

    def work(progress: Callable[[int, int], None]) -> tuple[Any, Path]:
        from collabsim.experiments.analyses import compare

        out = folder / f"compare-{len(list(folder.iterdir()))}"
        with speaking(t.lang):
            result = compare(
                settings.scenario(), names[other], reps, seed=settings.seed, out=out,
                workers=WORKERS, progress=progress,
            )  # fmt: skip
            result.table.to_csv(out / "comparison.csv")
            # A as a file of its own, so that the brief can name and reproduce it
            (out / "a.toml").write_text(saved_scenario(settings, t, str(out / "a.toml")))
        return result, out

    start, (done, total), outcome, error, running = _use_job(work)
    with solara.Card(t._("Compare scenarios")):
        solara.Markdown(
            t._(
                "**A**: the current settings ({name}, seed {seed}). **B**: another scenario "
                "file, as it is."
            ).format(name=settings.name, seed=settings.seed)
        )
        with solara.Row():
            solara.Select(label=t._("B"), values=list(names), value=other, on_value=set_other)
            solara.Select(
                label=t._("paired replications"), values=[3, 5, 10, 20], value=reps,
                on_value=set_reps,
            )  # fmt: skip
            solara.Button(
                t._("Run {n} paired replications").format(n=reps), on_click=start,
                color="primary", disabled=running,
            )  # fmt: skip
        solara.Text(
            t._(
                "Each replication runs both scenarios for their whole run with the same random "
                "numbers (the same children reporting on the same days); the numbers are the "
                "measured cohort's, as on the other pages and in the command line."
            )
        )
        if running:
            _Progress(done, total, t)
        if error:
            solara.Error(error)
        if outcome is not None and not running:
            result, out = outcome
            _ComparisonResult(result.table, reps, out, t)


def _shown(key: str, value: float, t: Translator) -> str:
    """A comparison's value for people: costs in billions of rupiah, the rest as numbers."""
    if key == "cost_per_year":
        return t._("Rp {amount} billion").format(amount=t.number(value / 1e9, 2))
    return t.value(value)


@solara.component
def _ComparisonResult(table: pd.DataFrame, reps: int, out: Path, t: Translator) -> None:
    rows = comparison_rows(table, t)
    columns = ("mean_a", "mean_b", "diff", "ci_low", "ci_high")
    shown = [
        (str(r["label"]), *(_shown(str(r["output"]), float(r[c]), t) for c in columns))
        for r in rows.to_dict("records")
    ]
    lines = [
        "| " + " | ".join((t._("output"), "A", "B", "B - A", t._("95% CI"))) + " |",
        "|---|---:|---:|---:|---|",
        *(f"| {label} | {a} | {b} | {d} | {lo} … {hi} |" for label, a, b, d, lo, hi in shown),
    ]
    solara.Markdown("\n".join(lines))
    solara.Text(
        t._(
            "{n} paired replications; an interval that does not contain 0 means B differs "
            "from A beyond chance."
        ).format(n=reps)
    )
    days = rows[rows["output"].isin(DAYS)]
    charts.Chart(charts.differences_chart(days, t), rows, "comparison", t)

    _BriefButton(out, t)


@solara.component
def _BriefButton(out: Path, t: Translator) -> None:
    """The experiment's two-page policy brief, written when asked for (as ``collabsim brief``)."""

    def brief() -> bytes:
        from collabsim.brief import write_brief

        with speaking(t.lang):
            written = write_brief(out, lang=t.lang)
        return next(p for p in written if p.suffix == ".pdf").read_bytes()

    Download(
        brief, filename="brief.pdf", label=t._("Policy brief (PDF)"), mime_type="application/pdf"
    )


@solara.component
def ExplorePage(settings: Settings, t: Translator) -> None:
    """Interventions against the current settings across futures sampled over its ranges."""
    files = scenario_files()
    names = {Path(f).name: f for f in files if Path(f).name != settings.name}
    chosen, set_chosen = solara.use_state([n for n in names if "integrated" in n][:2])
    futures, set_futures = solara.use_state(5)
    folder = _use_folder()

    def work(progress: Callable[[int, int], None]) -> tuple[Any, Path]:
        from collabsim.experiments.explore import explore, write_report

        out = folder / f"explore-{len(list(folder.iterdir()))}"
        with speaking(t.lang):
            base = settings.scenario()
            result = explore(
                base, {Path(n).stem: names[n] for n in chosen}, futures,
                seed=settings.seed, out=out, workers=WORKERS, progress=progress,
            )  # fmt: skip
            # the baseline as a file of its own, and the report collabsim explore writes: the
            # brief names the command that reproduces this exploration
            (out / "base.toml").write_text(saved_scenario(settings, t, str(out / "base.toml")))
            command = shlex.join(
                ["collabsim", "explore", str(out / "base.toml"), *(names[n] for n in chosen),
                 "--futures", str(futures), "--seed", str(settings.seed), "--out", str(out)]
            )  # fmt: skip
            title = t._("{scenario}: {n} futures").format(scenario=base.name, n=futures)
            write_report(result, out, title, command, [])
        return result, out

    start, (done, total), outcome, error, running = _use_job(work)
    with solara.Card(t._("Explore uncertainty")):
        solara.Text(
            t._(
                "Which intervention holds up when the assumptions are uncertain? Each future "
                "draws every assumption of the baseline from its range (Latin hypercube); each "
                "intervention runs against the baseline in every future with the same random "
                "numbers."
            )
        )
        with solara.Row():
            solara.SelectMultiple(
                t._("interventions"), values=chosen, all_values=list(names), on_value=set_chosen
            )
            solara.Select(
                label=t._("futures"), values=[3, 5, 10, 20, 50], value=futures,
                on_value=set_futures,
            )  # fmt: skip
            solara.Button(
                t._("Run {n} futures").format(n=futures), on_click=start, color="primary",
                disabled=running or not chosen,
            )  # fmt: skip
        if running:
            _Progress(done, total, t)
        if error:
            solara.Error(error)
        if outcome is not None and not running:
            result, out = outcome
            _ExplorationResult(result, t)
            _BriefButton(out, t)


@solara.component
def _ExplorationResult(result: Any, t: Translator) -> None:
    output = "handling_days_median"
    summary = result.summary[result.summary["output"] == output]
    lines = [
        "| "
        + " | ".join(
            (
                t._("intervention"),
                t._("effect, mean (days)"),
                t._("10th to 90th percentile"),
                t._("best in"),
                t._("mean regret"),
            )
        )
        + " |",
        "|---|---:|---|---:|---:|",
        *(
            f"| {r.policy} | {t.value(r.effect_mean)} | {t.value(r.effect_p10)} … "
            f"{t.value(r.effect_p90)} | {t.percent(r.best_share)} | {t.value(r.regret_mean)} |"
            for r in summary.itertuples()
        ),
    ]
    solara.Markdown(term(output, t))
    solara.Markdown("\n".join(lines))
    effects = result.effects[result.effects["policy"] != "baseline"]
    charts.Chart(charts.effects_chart(effects, output, t), summary, "exploration", t)
