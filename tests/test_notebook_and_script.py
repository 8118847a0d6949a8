"""collabsim.replicate from a Jupyter notebook and from a plain script.

Each runs the same short replications serially, on local processes and on a
Dask LocalCluster, into separate folders; the three runs tables must be
identical. Workers are spawned, so the script must not run again in them,
with or without an ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from distributed import LocalCluster
from nbclient import NotebookClient

from tests.conftest import BASELINE

REPS = 3
SHORT = {"run.days": 90, "run.warmup_days": 10}
MODES = ("serial", "processes", "dask")
VOLATILE = ["finished_at", "wall_seconds"]
FORK_WARNING = "use of fork()"

SETUP = '''
import warnings

warnings.simplefilter("always", DeprecationWarning)  # would show a fork() warning
import collabsim


def replicate(name, **where):
    """Replicate the short baseline into its own folder; keep its runs table."""
    reps = collabsim.replicate(
        SCENARIO, REPS, seed=7, out=f"{OUT}/{name}", overrides=OVERRIDES, **where
    )
    reps.runs.to_parquet(f"{OUT}/{name}.parquet")
'''

SERIAL = 'replicate("serial", workers=1)'
PROCESSES = 'replicate("processes", workers=2)'
NOTEBOOK_DASK = """
from distributed import LocalCluster

with LocalCluster(
    n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
) as cluster:
    replicate("dask", scheduler=cluster.scheduler_address)
"""


def _constants(out: Path) -> str:
    return f"SCENARIO, OUT, REPS, OVERRIDES = {str(BASELINE)!r}, {str(out)!r}, {REPS}, {SHORT!r}"


def _assert_identical_runs(out: Path) -> None:
    tables = [pd.read_parquet(out / f"{mode}.parquet").drop(columns=VOLATILE) for mode in MODES]
    assert len(tables[0]) == REPS and set(tables[0]["status"]) == {"done"}
    for other in tables[1:]:
        pd.testing.assert_frame_equal(tables[0], other)


def test_a_notebook_gives_the_same_runs_serially_on_processes_and_on_dask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    cells = [_constants(tmp_path) + SETUP, SERIAL, PROCESSES, NOTEBOOK_DASK]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()  # raises CellExecutionError if a cell fails
    printed = "".join(o.get("text", "") for cell in nb.cells for o in cell.outputs)
    assert FORK_WARNING not in printed
    _assert_identical_runs(tmp_path)


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    """A LocalCluster of two worker processes on 127.0.0.1, for scripts to connect to.

    Dask spawns its workers, so a script that starts a LocalCluster itself needs
    the ``__main__`` guard (Dask's rule); one that connects by address does not.
    """
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield str(cluster.scheduler_address)


SCRIPT_MAIN = f"""
import sys

print("script body ran", flush=True)  # workers share stdout: a rerun would show
{SERIAL}
{PROCESSES}
replicate("dask", scheduler=sys.argv[1])
"""


@pytest.mark.parametrize("guarded", [False, True], ids=["no-main-guard", "main-guard"])
def test_a_script_gives_the_same_runs_serially_on_processes_and_on_dask(
    tmp_path: Path, dask_address: str, guarded: bool
) -> None:
    body = _constants(tmp_path) + SETUP + SCRIPT_MAIN
    if guarded:
        body = 'if __name__ == "__main__":\n' + textwrap.indent(body, "    ")
    script = tmp_path / "experiment.py"
    script.write_text(body)
    res = subprocess.run(
        [sys.executable, str(script), dask_address],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("script body ran") == 1
    assert FORK_WARNING not in res.stderr
    _assert_identical_runs(tmp_path)
