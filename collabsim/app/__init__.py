"""The browser app: watch a run, move the levers, trace a case, compare two scenarios.

``solara run collabsim.app`` serves :func:`Page` (``collabsim ui`` does it
behind :mod:`collabsim.app.server`'s origin check).
"""

from __future__ import annotations

from collabsim.app.page import Page

__all__ = ["Page"]
