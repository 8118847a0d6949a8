"""Errors that mean "the input cannot be used": each names its source and what is wrong.

The command line turns every :class:`InputError` into a message and exit
code 2, never a traceback.
"""

from __future__ import annotations

__all__ = ["InputError", "OutputError", "ScenarioError", "StoreError"]


class InputError(Exception):
    """Input that cannot be used: names the file (or other source) and each problem."""

    headline = "cannot be used"

    def __init__(self, source: str, problems: list[str]) -> None:
        """Build the error.

        Args:
            source: the file (or other origin) at fault.
            problems: one line per problem, each starting with the field where there is one.
        """
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {self.headline}\n{lines}")


class ScenarioError(InputError, ValueError):
    """A scenario (or experiment file) that cannot be used."""

    headline = "invalid scenario"


class StoreError(InputError):
    """A results store that cannot be used as it is: damaged, of another experiment, or full."""

    headline = "results store not usable"


class OutputError(InputError):
    """An output folder that cannot be written (a file, under a file, read-only, full)."""

    headline = "cannot write the outputs here"
