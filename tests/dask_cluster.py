"""A Dask cluster on 127.0.0.1 for the Dask test and the experiments benchmark.

It is started with the ``dask scheduler`` and ``dask worker`` commands that
docs/experiments.md gives, each in a process of its own: a ``LocalCluster``
would run its scheduler on a thread of the calling process.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def dask_cluster(folder: Path, workers: int = 2) -> Iterator[str]:
    """A scheduler and ``workers`` one-thread workers, run in ``folder``; yields its address."""
    from distributed import Client

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    local = ["--host", "127.0.0.1", "--no-dashboard"]
    commands = [
        [dask, "scheduler", "--port", str(port), *local],
        [dask, "worker", address, "--nworkers", str(workers), "--nthreads", "1", *local],
    ]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
        for cmd in commands
    ]
    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
