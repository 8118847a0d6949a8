"""The browser app: watch a run, trace a case, compare scenarios, explore uncertainty.

``solara run collabsim.app`` serves :func:`Page` on one route, in a layout of
its own (no framework frame around it); ``collabsim ui`` does it behind
:mod:`collabsim.app.server`'s origin check.
"""

from __future__ import annotations

from typing import Any

import solara

from collabsim.app.page import Page

__all__ = ["Layout", "Page", "routes"]


@solara.component
def Layout(children: list[Any] = []) -> None:  # noqa: B006 (solara's signature for a layout)
    """The page as it is: the app draws its own bar, sidebar and tabs."""
    solara.Column(children=children, style={"padding": "0", "width": "100%"})


routes = [solara.Route(path="/", component=Page, label="collabsim", layout=Layout)]
