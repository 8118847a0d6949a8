"""Errors that mean "the input cannot be used": each names its source and what is wrong.

The command line turns every :class:`InputError` into a message and exit
code 2, never a traceback.
"""

from __future__ import annotations

from collabsim.i18n import N_, marked

__all__ = ["InputError", "OutputError", "ScenarioError", "StoreError"]


class InputError(Exception):
    """Input that cannot be used: names the file (or other source) and each problem."""

    headline = N_("cannot be used")
    """The headline, an English message id translated when the error is made (:func:`N_`)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        """Build the error.

        Args:
            source: the file (or other origin) at fault.
            problems: one line per problem, each starting with the field where there is one.
        """
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {marked(self.headline)}\n{lines}")


class ScenarioError(InputError, ValueError):
    """A scenario (or experiment file) that cannot be used."""

    headline = N_("invalid scenario")


class StoreError(InputError):
    """A results store that cannot be used as it is: damaged, of another experiment, or full."""

    headline = N_("results store not usable")


class OutputError(InputError):
    """An output folder that cannot be written (a file, under a file, read-only, full)."""

    headline = N_("cannot write the outputs here")
