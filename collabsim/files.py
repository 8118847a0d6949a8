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

from collabsim.errors import OutputError
from collabsim.i18n import _

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

    Raises:
        OutputError: if ``out`` cannot be written (a file, under a file,
            read-only, a full disk).

    Args:
        out: the folder the files belong in (created if needed).

    Yields:
        The staging folder.
    """
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    except OSError as exc:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise _unwritable(out, exc) from None
    done = False
    try:
        try:
            yield stage
            with deferred_interrupt():
                for path in sorted(stage.iterdir()):
                    os.replace(path, out / path.name)
                done = True
        except OSError as exc:
            raise _unwritable(out, exc) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created and not done and not any(out.iterdir()):
            out.rmdir()


def _unwritable(out: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc)
    problem = _("{reason}; give a folder that can be written (nothing was written)")
    return OutputError(str(out), ["--out: " + problem.format(reason=reason)])
