"""Views that follow the run without Solara drawing the page again.

After every step the clock, the headline numbers and the charts change, and
nothing else. Rendering them as components would make Solara walk the whole
page (some 360 elements) on every step; instead each sets the few values of
its widget that changed, straight from the step. The page itself redraws
only when the user changes something.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solara

__all__ = ["use_live"]


def use_live(
    tick: solara.Reactive[int], element: solara.Element, frame: Callable[[], dict[str, Any]]
) -> None:
    """Keep ``element``'s widget up to date with the run (a hook: call it while rendering).

    The values ``frame`` gives are set on the widget only here, never passed to
    the element: Solara sets an element's values on its widget again whenever
    something above it redraws, and would bring back old ones.

    Args:
        tick: counts the run's steps; each move sets the widget's values anew.
        element: the element whose widget shows the run, without the values ``frame`` sets.
        frame: the widget's values (trait name to value) for the run as it is now.
    """
    newest = solara.use_ref(frame)
    newest.current = frame
    widget = solara.use_ref(None)

    def show() -> None:
        if widget.current is not None:
            values = newest.current()
            with widget.current.hold_sync():
                for name, value in values.items():
                    setattr(widget.current, name, value)

    def follow() -> Callable[[], None]:
        widget.current = solara.get_widget(element)
        unsubscribe = tick.subscribe(lambda _day: show())

        def stop() -> None:
            unsubscribe()
            widget.current = None

        return stop

    solara.use_effect(follow, [])
    solara.use_effect(show)  # after every drawing too: the run as it is now
