"""Reading a finished experiment folder: what a comparison or an exploration found.

Nothing is simulated here. A comparison is read back from its results store
(each run's header and summary); an exploration from the tables ``explore``
wrote (``effects.csv``, ``futures.csv``, ``levels.csv``), its ``report.md``
(the command that made it) and its store (the scenarios' names, the version).

The store keeps each arm's scenario as a content hash, not as a file. The
scenario files are therefore looked for by their content: a file is taken
only if it loads to exactly the scenario that ran.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import sqlite3
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from collabsim.errors import InputError
from collabsim.i18n import _
from collabsim.scenario import Scenario

__all__ = ["ComparisonFolder", "ExplorationFolder", "read_folder"]

COMPARISONS = ("compare", "compare-independent")
"""The store's kinds of paired (or independent) comparisons of two scenarios."""

_MAX_CANDIDATES = 400
"""At most this many TOML files are tried when looking for a scenario by its content."""


@dataclass
class ComparisonFolder:
    """A finished comparison, read back from its store.

    Attributes:
        folder: the experiment folder.
        kind: ``compare`` (paired, common random numbers) or ``compare-independent``.
        seed: the root seed.
        names: the scenarios' names, ``{"A": ..., "B": ...}``.
        table: per output: ``mean_a``, ``mean_b``, ``diff``, ``ci_low``, ``ci_high``,
            ``half_width`` and ``n`` (the replications the difference is over).
        runs: per arm, its done runs in replication order (header and summary).
        reps: replications stored as done in both arms.
        failed: runs stored as failed.
        versions: the collabsim versions that made the runs.
        finished: when the last run finished.
        paths: per arm, the scenario file that loads to it (``None`` if not found).
        scenarios: per arm, that file's scenario (``None`` if not found).
        others: how many other comparisons the store holds (the latest one is read).
    """

    folder: Path
    kind: str
    seed: int
    names: dict[str, str]
    table: pd.DataFrame
    runs: dict[str, pd.DataFrame]
    reps: int
    failed: int
    versions: list[str]
    finished: datetime | None
    paths: dict[str, Path | None]
    scenarios: dict[str, Scenario | None]
    others: int = 0


@dataclass
class ExplorationFolder:
    """A finished exploration, read from the tables and report it wrote.

    Attributes:
        folder: the experiment folder.
        futures: one row per future (``future``, then each range's value).
        effects: one row per future and policy: each output's effect and its regret.
        levels: one row per future and policy: each output's mean (empty if not written).
        base_name: the baseline scenario's name.
        names: per policy (as ``effects.csv`` names it), its scenario's name.
        reps: replications per future and policy (0 if unknown).
        seed: the root seed (``None`` if unknown).
        command: the command that reproduces it (``None`` if not recorded).
        versions: the collabsim versions that made the runs (empty if no store).
        finished: when the last run finished (``None`` if no store).
        base: the baseline's scenario, if its file was found and is the one that ran.
        policies: per policy, its scenario, if its file was found and is the one that ran.
    """

    folder: Path
    futures: pd.DataFrame
    effects: pd.DataFrame
    levels: pd.DataFrame
    base_name: str
    names: dict[str, str]
    reps: int
    seed: int | None
    command: str | None
    versions: list[str] = field(default_factory=list)
    finished: datetime | None = None
    base: Scenario | None = None
    policies: dict[str, Scenario] = field(default_factory=dict)

    @property
    def policy_ids(self) -> list[str]:
        """The interventions explored (doing nothing left out), in the order explored."""
        from collabsim.experiments.explore import BASELINE

        return [p for p in dict.fromkeys(self.effects["policy"]) if p != BASELINE]


def read_folder(folder: Path) -> ComparisonFolder | ExplorationFolder:
    """Read a finished comparison or exploration folder.

    Args:
        folder: what ``collabsim compare ... --out FOLDER`` or
            ``collabsim explore ... --out FOLDER`` left.

    Raises:
        InputError: if the folder is neither, naming what it lacks.
        StoreError: if its results store cannot be used.
    """
    if not folder.is_dir():
        raise InputError(str(folder), [_("not a folder: give a comparison or exploration folder")])
    if (folder / "effects.csv").is_file() and (folder / "futures.csv").is_file():
        return _read_exploration(folder)
    store = folder / "results.sqlite"
    if store.is_file():
        found = _experiments(store)
        if any(kind in COMPARISONS for kind, *_rest in found):
            return _read_comparison(folder, found)
    raise InputError(
        str(folder),
        [
            _(
                "neither a comparison folder (the results.sqlite of collabsim compare) nor an "
                "exploration folder (the effects.csv and futures.csv of collabsim explore): "
                "give the --out folder of one of those commands"
            )
        ],
    )


def _experiments(store: Path) -> list[tuple[str, str, int, str]]:
    """The experiments a store holds: kind, key, root seed and when each was created.

    The store is opened (and checked) by :class:`~collabsim.experiments.store.ResultsStore`
    first, so a file that is not a store gives its clear error.
    """
    from collabsim.experiments.store import ResultsStore

    with ResultsStore(store):
        pass
    db = sqlite3.connect(store, timeout=60)
    try:
        rows = db.execute("SELECT key, identity, created_at FROM experiments").fetchall()
    finally:
        db.close()
    out = []
    for key, identity, created in rows:
        kind, _scenarios, seed, *_design = json.loads(identity)
        out.append((str(kind), str(key), int(seed), str(created)))
    return out


def _runs(store: Path, key: str) -> pd.DataFrame:
    """One row per intact run of the experiment ``key`` (header and flattened summary)."""
    from collabsim.experiments.store import ResultsStore

    with ResultsStore(store) as s:
        return s.runs(key)


def _finished(runs: pd.DataFrame) -> datetime | None:
    if not len(runs) or "finished_at" not in runs:
        return None
    return datetime.fromisoformat(str(max(runs["finished_at"])))


def _versions(runs: pd.DataFrame) -> list[str]:
    return sorted({str(v) for v in runs.get("version", pd.Series(dtype=str)).dropna()})


def _read_comparison(folder: Path, found: list[tuple[str, str, int, str]]) -> ComparisonFolder:
    from collabsim.experiments.execution import arm_table, outputs_of
    from collabsim.experiments.stats import describe, welch

    comparisons = sorted((e for e in found if e[0] in COMPARISONS), key=lambda e: e[3])
    kind, key, seed, _created = comparisons[-1]
    runs = _runs(folder / "results.sqlite", key)
    ra, rb = arm_table(runs, "A"), arm_table(runs, "B")
    if not len(ra) or not len(rb):
        raise InputError(
            str(folder),
            [_("the comparison has no finished run in one of its arms: run it to the end first")],
        )
    xa, xb = outputs_of(ra), outputs_of(rb)
    cols = [c for c in xa.columns if c in xb.columns]
    if kind == "compare":  # as collabsim.experiments.compare does it: paired differences
        paired = xb[cols].set_axis(rb["replication"]) - xa[cols].set_axis(ra["replication"])
        stats = describe(paired.dropna(how="all"))
        n = stats["n"]
    else:
        stats = welch(xa[cols], xb[cols])
        n = pd.Series({c: min(xa[c].notna().sum(), xb[c].notna().sum()) for c in cols})
    table = pd.DataFrame(
        {
            "mean_a": xa[cols].mean(),
            "mean_b": xb[cols].mean(),
            "diff": stats["mean"],
            "ci_low": stats["ci_low"],
            "ci_high": stats["ci_high"],
            "half_width": stats["half_width"],
            "n": n,
        }
    )
    names = {"A": str(ra["scenario"].iloc[0]), "B": str(rb["scenario"].iloc[0])}
    hashes = {"A": str(ra["scenario_hash"].iloc[0]), "B": str(rb["scenario_hash"].iloc[0])}
    files = _find_scenarios(hashes, _places(folder))
    done = runs[runs["status"] == "done"]
    return ComparisonFolder(
        folder=folder,
        kind=kind,
        seed=seed,
        names=names,
        table=table,
        runs={"A": ra, "B": rb},
        reps=len(set(ra["replication"]) & set(rb["replication"])),
        failed=int((runs["status"] == "failed").sum()),
        versions=_versions(done),
        finished=_finished(done),
        paths={arm: files[arm][0] if arm in files else None for arm in hashes},
        scenarios={arm: files[arm][1] if arm in files else None for arm in hashes},
        others=len(comparisons) - 1,
    )


def _places(folder: Path) -> list[Path]:
    """Where a comparison's scenario files may be: beside it, and in the scenarios folders."""
    cwd = Path.cwd()
    here = [folder, folder.parent, cwd / "scenarios", cwd]
    repo = Path(__file__).resolve().parents[2] / "scenarios"  # a source checkout's scenarios
    return [p for p in dict.fromkeys([*here, repo]) if p.is_dir()]


def _find_scenarios(
    hashes: Mapping[str, str], places: Iterable[Path]
) -> dict[str, tuple[Path, Scenario]]:
    """Per arm, a TOML file that loads to exactly the arm's scenario (same content hash)."""
    from collabsim.loading import load_scenario, scenario_hash

    found: dict[str, tuple[Path, Scenario]] = {}
    tried = 0
    for place in places:
        for path in sorted(place.glob("*.toml")):
            if tried >= _MAX_CANDIDATES or len(found) == len(hashes):
                return found
            tried += 1
            try:
                scenario = load_scenario(path)
            except (InputError, OSError, ValueError):
                continue  # not a scenario (pyproject.toml, an experiment file, a broken one)
            h = scenario_hash(scenario)
            for arm, want in hashes.items():
                if want == h and arm not in found:
                    found[arm] = (path, scenario)
    return found


def _read_exploration(folder: Path) -> ExplorationFolder:
    from collabsim.experiments.explore import BASELINE

    futures = pd.read_csv(folder / "futures.csv", float_precision="round_trip")  # exact floats
    effects = pd.read_csv(folder / "effects.csv")
    levels_csv = folder / "levels.csv"
    levels = pd.read_csv(levels_csv) if levels_csv.is_file() else pd.DataFrame()
    if "policy" not in effects or "future" not in futures:
        raise InputError(
            str(folder / "effects.csv"),
            [_("not the effects.csv of collabsim explore (no policy or future column)")],
        )
    command = _command(folder / "report.md")
    words = _parse_command(command) if command else {}
    ids = [p for p in dict.fromkeys(effects["policy"]) if p != BASELINE]
    names = {p: p for p in ids}
    base_name = _report_title(folder / "report.md") or BASELINE
    reps, seed = int(words.get("reps", 0)), words.get("seed")
    versions: list[str] = []
    finished = None
    runs = pd.DataFrame()
    store = folder / "results.sqlite"
    if store.is_file():
        explores = sorted((e for e in _experiments(store) if e[0] == "explore"), key=lambda e: e[3])
        if explores:
            _kind, key, root, _created = explores[-1]
            seed = root
            runs = _runs(store, key)
            done = runs[runs["status"] == "done"]
            versions, finished = _versions(done), _finished(done)
            first = done[done["arm"].str.startswith("f00000/")]
            reps = int(first.groupby("arm")["replication"].nunique().max()) if len(first) else reps
            for arm, name in zip(first["arm"], first["scenario"], strict=True):
                policy = str(arm).split("/", 1)[1]
                if policy == BASELINE:
                    base_name = str(name)
                elif policy in names:
                    names[policy] = str(name)
    result = ExplorationFolder(
        folder=folder,
        futures=futures,
        effects=effects,
        levels=levels,
        base_name=base_name,
        names=names,
        reps=reps,
        seed=None if seed is None else int(seed),
        command=command,
        versions=versions,
        finished=finished,
    )
    if words and len(runs):
        _attach_scenarios(result, words, runs)
    return result


def _command(report: Path) -> str | None:
    """The ``collabsim explore`` command a report gives to reproduce it."""
    if not report.is_file():
        return None
    for line in report.read_text(encoding="utf-8", errors="replace").splitlines():
        text = line.strip().strip("`")
        if text.startswith("collabsim explore "):
            return text
    return None


def _report_title(report: Path) -> str | None:
    """The baseline's name from a report's title (``# <name>: N futures``)."""
    if not report.is_file():
        return None
    for line in report.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("# "):
            return line[2:].rsplit(":", 1)[0].strip() or None
    return None


def _parse_command(command: str) -> dict[str, Any]:
    """The base, policies, counts, seed and ``--set`` overrides of an explore command."""
    try:
        words = shlex.split(command)[2:]
    except ValueError:
        return {}
    out: dict[str, Any] = {"files": [], "set": {}}
    with_value = {"--futures", "--reps", "--seed", "--set", "--question", "--out", "--workers",
                  "--scheduler"}  # fmt: skip
    k = 0
    while k < len(words):
        word = words[k]
        if word in with_value and k + 1 < len(words):
            value = words[k + 1]
            if word == "--set":
                key, _sep, raw = value.partition("=")
                try:
                    out["set"][key.strip()] = tomllib.loads(f"v = {raw}")["v"]
                except tomllib.TOMLDecodeError:
                    out["set"][key.strip()] = raw
            elif word == "--out":
                out["out"] = value
            elif word in ("--futures", "--reps", "--seed"):
                with contextlib.suppress(ValueError):
                    out[word[2:]] = int(value)
            k += 2
        elif word.startswith("--"):
            k += 1
        else:
            out["files"].append(word)
            k += 1
    return out


def _where_run(folder: Path, out: str | None) -> Path:
    """The folder the command was run in: its relative ``--out`` led to ``folder``."""
    if out is None or Path(out).is_absolute():
        return Path.cwd()
    here, parts = folder.resolve(), Path(out).parts
    if parts and here.parts[-len(parts) :] == parts:
        return here.parents[len(parts) - 1]
    return Path.cwd()


def _attach_scenarios(
    result: ExplorationFolder, words: Mapping[str, Any], runs: pd.DataFrame
) -> None:
    """The scenarios of the command's files, where they still load to what ran in future 0.

    An exploration's arms are each future's version of a scenario, so a file is
    checked by building its arm of future 0 as ``explore`` does and comparing
    the content hash with the stored run's.
    """
    from collabsim.api import resolve_scenario
    from collabsim.assumptions import carried, future, uncertainties
    from collabsim.experiments.explore import BASELINE, each_future, own_ranges, owned
    from collabsim.loading import scenario_hash
    from collabsim.scenario import parameters

    root = _where_run(result.folder, words.get("out"))
    files = [root / f for f in words.get("files", [])]
    ids = result.policy_ids
    if len(files) != len(ids) + 1 or len(result.futures) == 0:
        return
    stored = {
        str(a).split("/", 1)[1]: str(h)
        for a, h in zip(runs["arm"], runs["scenario_hash"], strict=True)
        if str(a).startswith("f00000/")
    }
    try:
        fixed = dict(words.get("set", {}))
        base = resolve_scenario(files[0], fixed)
        dims = uncertainties(base)
        _f, point, values = next(each_future(base, result.futures.head(1), dims))
        if scenario_hash(resolve_scenario(base, values)) != stored.get(BASELINE):
            return
        result.base = base
        numbers = parameters(base)
        for name, path in zip(ids, files[1:], strict=True):
            if path.stem != name:
                continue
            policy = resolve_scenario(path, fixed)
            own = owned(policy, numbers)
            extra = own_ranges(policy, base, own)
            mine = {u.name: point[f"{name}:{u.name}"] for u in extra}
            kept = carried(values, own, parameters(policy), numbers)
            kept |= future(policy, mine, extra, parameters(policy))
            if scenario_hash(resolve_scenario(policy, kept)) == stored.get(name):
                result.policies[name] = policy
    except (InputError, OSError, ValueError, KeyError, StopIteration):
        return  # a file moved or changed since: its changes are not described
