"""The results store: one SQLite file per experiment, written run by run.

Every run is committed the moment it finishes, so a process killed at any
moment loses at most the runs still in flight; starting the same experiment
again skips the runs already stored and retries those that failed.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["ResultsStore", "StoreMismatch", "load_results"]


class StoreMismatch(RuntimeError):
    """The store holds results of another design under the same experiment name."""


_SCHEMA = """
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
    summary TEXT
);
CREATE TABLE IF NOT EXISTS timeseries (
    run_key TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_key)
);
CREATE TABLE IF NOT EXISTS experiments (
    experiment TEXT PRIMARY KEY,
    design_hash TEXT NOT NULL,
    design TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cases (
    run_key TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_key)
);
"""


class ResultsStore:
    """A results database (SQLite, write-ahead log, one commit per run)."""

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the store at ``path``."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def claim(self, experiment: str, design_hash: str, design: pd.DataFrame) -> None:
        """Record the experiment's design, or check it matches the one stored.

        Raises:
            StoreMismatch: if this store holds results of a different design
                under the same experiment name (resuming would mix them).
        """
        row = self._db.execute(
            "SELECT design_hash FROM experiments WHERE experiment = ?", (experiment,)
        ).fetchone()
        if row is None:
            with self._db:
                self._db.execute(
                    "INSERT INTO experiments VALUES (?, ?, ?)",
                    (experiment, design_hash, design.to_json(orient="records")),
                )
        elif row[0] != design_hash:
            raise StoreMismatch(
                f"{self.path} holds results of experiment {experiment!r} with a different "
                "design or scenario; give another output folder or remove that file"
            )

    def completed(self) -> dict[str, str]:
        """The runs stored as done: run key -> the content hash of their scenario."""
        rows = self._db.execute("SELECT run_key, scenario_hash FROM runs WHERE status = 'done'")
        return dict(rows.fetchall())

    def record(self, header: dict[str, Any], outcome: dict[str, Any]) -> None:
        """Store one finished run (done or failed) in a single transaction.

        Args:
            header: ``run_key``, ``experiment``, ``arm``, ``replication``, ``seed``,
                ``scenario_hash``, ``version``.
            outcome: ``status``, ``error``, ``wall_seconds``, ``summary`` and,
                optionally, ``timeseries`` and ``cases`` (lists of records).
        """
        key = header["run_key"]
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    key,
                    header["experiment"],
                    header["arm"],
                    header["replication"],
                    header["seed"],
                    header["scenario_hash"],
                    header["version"],
                    outcome["status"],
                    outcome.get("error"),
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    outcome["wall_seconds"],
                    json.dumps(outcome.get("summary")),
                ),
            )
            for table in ("timeseries", "cases"):
                if outcome.get(table) is not None:
                    self._db.execute(
                        f"INSERT OR REPLACE INTO {table} VALUES (?, ?)",
                        (key, json.dumps(outcome[table])),
                    )

    def runs(self) -> pd.DataFrame:
        """One row per run: the header columns and the flattened summary."""
        df = pd.read_sql_query("SELECT * FROM runs ORDER BY arm, replication", self._db)
        summaries = pd.DataFrame(
            [(json.loads(s) if s else None) or {} for s in df.pop("summary")], index=df.index
        )
        summaries = summaries.drop(columns=[c for c in summaries.columns if c in df.columns])
        return pd.concat([df, summaries], axis=1)

    def table(self, name: str) -> pd.DataFrame:
        """The stored ``timeseries`` or ``cases`` of every run, with its ``run_key``."""
        if name not in ("timeseries", "cases"):
            raise ValueError(f"no table {name!r}: expected 'timeseries' or 'cases'")
        frames = [
            pd.DataFrame(json.loads(data)).assign(run_key=key)
            for key, data in self._db.execute(f"SELECT run_key, data FROM {name}")
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_results(path: str | Path, table: str = "runs") -> pd.DataFrame:
    """Load an experiment's results into pandas in one line.

    Args:
        path: the store (``results.sqlite`` of an experiment folder, or the folder).
        table: ``runs`` (one row per run), ``timeseries`` or ``cases``.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "results.sqlite"
    if not p.exists():
        raise FileNotFoundError(f"no results store at {p}")
    store = ResultsStore(p)
    try:
        return store.runs() if table == "runs" else store.table(table)
    finally:
        store.close()
