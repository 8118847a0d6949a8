"""The results store: one SQLite file per experiment folder, written run by run.

Every run is committed the moment it finishes, so a process killed at any
moment loses at most the runs still in flight; starting the same experiment
again skips the runs already stored and retries those that failed.

The store never gives a wrong answer:

* it holds one experiment (:class:`Experiment`: its kind, the content hash of
  each arm's scenario, its design and root seed); a different experiment is
  refused, naming both, unless it is added under its own key, and runs are
  read back only by their experiment's key, so two are never pooled;
* every run carries a checksum of its record; a record that does not match is
  reported by key, never used, and run again;
* a file that is not a store, is damaged, or a full disk gives a
  :class:`~collabsim.errors.StoreError` naming the file and what to do,
  and nothing intact is deleted; after an unclean stop the file's integrity is
  checked when it is opened.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from collabsim.errors import StoreError
from collabsim.i18n import N_, _, translator

__all__ = ["Experiment", "ResultsStore", "StoreError", "StoreMismatch", "StoredRun", "load_results"]

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    key TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    identity TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_key TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    arm TEXT NOT NULL,
    replication INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    scenario_hash TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    finished_at TEXT NOT NULL,
    wall_seconds REAL NOT NULL,
    summary TEXT,
    timeseries TEXT,
    cases TEXT,
    checksum TEXT NOT NULL
);
"""
_COLUMNS = (
    "run_key", "experiment", "arm", "replication", "seed", "scenario_hash", "version", "status",
    "error", "finished_at", "wall_seconds", "summary", "timeseries", "cases",
)  # fmt: skip


class StoreMismatch(StoreError):
    """The store holds another experiment, and adding one was not asked for."""

    headline = N_("holds another experiment")


@dataclass(frozen=True)
class Experiment:
    """What makes an experiment itself: its kind, scenarios, design and root seed.

    Two runs of the same command (more replications included) are the same
    experiment; another seed, scenario or design is another.

    Attributes:
        kind: ``replicate``, ``compare``, ``attribute`` or a sweep's name.
        scenarios: per arm (or design point), the content hash of its scenario.
        root_seed: the root seed of the replications.
        design: anything else that defines it (e.g. a sweep's design hash).
        label: how people call it (the scenario names), for messages, in the language
            in use where it was made (it is not part of the identity).
    """

    kind: str
    scenarios: Mapping[str, str]
    root_seed: int
    design: str = ""
    label: str = ""

    @property
    def key(self) -> str:
        """A short key, the same in every process."""
        return f"{self.kind}@{hashlib.sha256(self.identity().encode()).hexdigest()[:12]}"

    def identity(self) -> str:
        """Everything that makes the experiment itself, as canonical JSON."""
        return json.dumps(
            [self.kind, dict(self.scenarios), self.root_seed, self.design], sort_keys=True
        )

    def describe(self) -> str:
        """One line for people, in the language in use (the store keeps it as written)."""
        arms = len(self.scenarios)
        if self.label and arms == 1:
            line = _("{kind} of {label} (1 arm, root seed {seed}, key {key})")
        elif self.label:
            line = _("{kind} of {label} ({arms} arms, root seed {seed}, key {key})")
        elif arms == 1:
            line = _("{kind} (1 arm, root seed {seed}, key {key})")
        else:
            line = _("{kind} ({arms} arms, root seed {seed}, key {key})")
        return line.format(
            kind=self.kind, label=self.label, arms=translator().number(arms), seed=self.root_seed,
            key=self.key,
        )  # fmt: skip


@dataclass(frozen=True)
class StoredRun:
    """What :meth:`ResultsStore.completed` knows of a run stored as done."""

    scenario_hash: str
    has_timeseries: bool
    has_cases: bool


def _checksum(values: Mapping[str, Any]) -> str:
    blob = json.dumps([values.get(c) for c in _COLUMNS], default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResultsStore:
    """A results database (SQLite, write-ahead log, one commit per run).

    Raises:
        StoreError: if the file is not a usable store (see the module's docstring).
    """

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the store at ``path``."""
        self.path = Path(path)
        self.integrity_checked = False
        self.damaged: list[str] = []
        if self.path.is_symlink():
            self._fail(
                _("is a symbolic link; collabsim writes only real files in the output folder")
            )
        if self.path.exists() and not self.path.is_file():
            self._fail(_("is not a file; give --out a folder whose results.sqlite is a file"))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problem = _("cannot create its folder ({reason}); give another --out")
            self._fail(problem.format(reason=exc.strerror or exc))
        unclean = self._wal().exists() and self._wal().stat().st_size > 0
        with self._guard():
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("BEGIN IMMEDIATE")  # two processes creating it are taken in turn
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            tables = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables and version != SCHEMA_VERSION:
                self._db.execute("ROLLBACK")
                self._db.close()
                problem = _(
                    "was written by another version of collabsim (store format {found}, this "
                    "one reads {expected}); give another --out, or move it away"
                )
                self._fail(problem.format(found=version, expected=SCHEMA_VERSION))
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
            self._db.isolation_level = "DEFERRED"  # back to Python's transactions (one per run)
            if unclean:  # the last writer did not close it: check before trusting it
                self.integrity_checked = True
                problems = [r[0] for r in self._db.execute("PRAGMA integrity_check(5)")]
                if problems != ["ok"]:
                    self._db.close()
                    problem = _(
                        "is damaged ({problems}). collabsim will not write to it: move it away "
                        "and run the command again (its intact runs can be recovered with: "
                        "sqlite3 results.sqlite .recover)"
                    )
                    self._fail(problem.format(problems="; ".join(problems)))

    def _wal(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    def _fail(self, problem: str) -> None:
        raise StoreError(str(self.path), [problem])

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn SQLite's failures into a clear :class:`StoreError`."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "full" in text:
                problem = _(
                    "the disk is full ({error}). The runs stored so far are kept: free some "
                    "space and run the same command again to resume"
                )
                self._fail(problem.format(error=text))
            if "not a database" in text or "malformed" in text or "encrypted" in text:
                problem = _(
                    "is not a usable results store ({error}). collabsim will not write to it: "
                    "give another --out, or move the file away and run the command again"
                )
                self._fail(problem.format(error=text))
            problem = _(
                "cannot be used ({error}); check the file and its folder, then run the same "
                "command again to resume"
            )
            self._fail(problem.format(error=text))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def claim(self, experiment: Experiment, *, add: bool = False) -> str:
        """Record the experiment this store holds, or check it is the one stored.

        Args:
            experiment: the experiment about to run.
            add: keep it in this store beside another one (apart, by its key).

        Returns:
            The experiment's key; its runs' keys start with it.

        Raises:
            StoreMismatch: if the store holds another experiment and ``add`` is false.
        """
        key = experiment.key
        with self._guard():
            self._db.execute("BEGIN IMMEDIATE")  # two claims at once are taken in turn
            try:
                rows = self._db.execute("SELECT key, description FROM experiments").fetchall()
                known = dict(rows)
                if key not in known and known and not add:
                    others = "; ".join(known.values())
                    problem = _(
                        "it holds {others}, not {experiment}. Give another --out, or pass --add "
                        "to keep both in this store, apart"
                    )
                    raise StoreMismatch(
                        str(self.path),
                        [problem.format(others=others, experiment=experiment.describe())],
                    )
                if key not in known:
                    self._db.execute(
                        "INSERT INTO experiments VALUES (?, ?, ?, ?)",
                        (key, experiment.describe(), experiment.identity(), _now()),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return key

    def experiments(self) -> list[str]:
        """The experiments this store holds, described."""
        with self._guard():
            return [r[0] for r in self._db.execute("SELECT description FROM experiments")]

    def _rows(self, where: str = "", args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Stored runs whose checksum matches; others go to :attr:`damaged`, unused."""
        cols = ", ".join((*_COLUMNS, "checksum"))
        with self._guard():
            cursor = self._db.execute(f"SELECT {cols} FROM runs {where}", args)
            rows = [dict(zip((*_COLUMNS, "checksum"), r, strict=True)) for r in cursor]
        good = []
        for row in rows:
            if row.pop("checksum") == _checksum(row):
                good.append(row)
            elif row["run_key"] not in self.damaged:
                self.damaged.append(row["run_key"])
        return good

    def completed(self) -> dict[str, StoredRun]:
        """The intact runs stored as done, by run key."""
        return {
            r["run_key"]: StoredRun(r["scenario_hash"], r["timeseries"] is not None,
                                    r["cases"] is not None)
            for r in self._rows("WHERE status = 'done'")
        }  # fmt: skip

    def record(self, header: dict[str, Any], outcome: dict[str, Any]) -> None:
        """Store one finished run (done or failed) in a single transaction.

        Args:
            header: ``run_key``, ``experiment``, ``arm``, ``replication``, ``seed``,
                ``scenario_hash``, ``version``.
            outcome: ``status``, ``error``, ``wall_seconds``, ``summary`` and,
                optionally, ``timeseries`` and ``cases`` (lists of records).
        """

        def blob(value: Any) -> str | None:
            return None if value is None else json.dumps(value)

        values: dict[str, Any] = {
            **{k: header[k] for k in _COLUMNS[:7]},
            "status": outcome["status"],
            "error": outcome.get("error"),
            "finished_at": _now(),
            "wall_seconds": float(outcome["wall_seconds"]),
            "summary": blob(outcome.get("summary")),
            "timeseries": blob(outcome.get("timeseries")),
            "cases": blob(outcome.get("cases")),
        }
        row = [*(values[c] for c in _COLUMNS), _checksum(values)]
        with self._guard(), self._db:
            self._db.execute(
                f"INSERT OR REPLACE INTO runs VALUES ({', '.join('?' * len(row))})", row
            )

    def runs(self, experiment: str | None = None) -> pd.DataFrame:
        """One row per intact run (of one experiment key, or all): header and flattened summary."""
        where, args = ("WHERE experiment = ?", (experiment,)) if experiment else ("", ())
        rows = self._rows(where + " ORDER BY experiment, arm, replication", args)
        df = pd.DataFrame(rows, columns=list(_COLUMNS)).drop(columns=["timeseries", "cases"])
        summaries = pd.DataFrame(
            [json.loads(s) if isinstance(s, str) else {} for s in df.pop("summary")], index=df.index
        )
        summaries = summaries.drop(columns=[c for c in summaries.columns if c in df.columns])
        return pd.concat([df, summaries], axis=1)

    def table(self, name: str, experiment: str | None = None) -> pd.DataFrame:
        """The stored ``timeseries`` or ``cases`` of every intact run, with its ``run_key``."""
        if name not in ("timeseries", "cases"):
            problem = _("no table {name}: expected 'timeseries' or 'cases'")
            raise ValueError(problem.format(name=repr(name)))
        where, args = ("WHERE experiment = ?", (experiment,)) if experiment else ("", ())
        frames = [
            pd.DataFrame(json.loads(r[name])).assign(run_key=r["run_key"])
            for r in self._rows(where, args)
            if r[name] is not None
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_results(path: str | Path, table: str = "runs") -> pd.DataFrame:
    """Load an experiment's results into pandas in one line.

    Runs whose record fails its checksum are left out (see ``ResultsStore.damaged``).

    Args:
        path: the store (``results.sqlite`` of an experiment folder, or the folder).
        table: ``runs`` (one row per run), ``timeseries`` or ``cases``.

    Raises:
        StoreError: if there is no store there, or it is not usable.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "results.sqlite"
    if not p.is_file():
        raise StoreError(str(p), [_("no results store here (give an experiment folder)")])
    with ResultsStore(p) as store:
        return store.runs() if table == "runs" else store.table(table)
