"""Writing output files so that an interrupted command leaves complete outputs or none."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

__all__ = ["deferred_interrupt", "staged"]


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C back until the block is done, then raise it (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A folder to write files into; when the block succeeds they move into ``out`` together.

    Files are written into a hidden staging folder beside ``out`` and moved in
    one step (Ctrl-C held back meanwhile), so an error or an interrupt while
    writing leaves ``out`` as it was.

    Args:
        out: the folder the files belong in (created if needed).

    Yields:
        The staging folder.
    """
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    done = False
    try:
        yield stage
        with deferred_interrupt():
            for path in sorted(stage.iterdir()):
                os.replace(path, out / path.name)
            done = True
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created and not done and not any(out.iterdir()):
            out.rmdir()
