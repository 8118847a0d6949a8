"""Driving the model from outside: replications, comparisons, attribution, sweeps, calibration.

Every experiment describes its runs as data, executes them serially, on
local processes or on a Dask cluster, and streams them into the results
store of its output folder, from which a killed experiment resumes.

The names below are imported on first use, so that a worker process, which
needs only :mod:`collabsim.experiments.execution`, starts quickly.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    "Attribution",
    "AttributionAcross",
    "Calibration",
    "Comparison",
    "Cycle",
    "Exploration",
    "MixSearch",
    "Replications",
    "SweepResult",
    "attribute",
    "attribute_across",
    "calibrate",
    "compare",
    "cycle",
    "explore",
    "load_results",
    "replicate",
    "search_mix",
    "sweep",
]

_WHERE = {
    "Attribution": "analyses",
    "AttributionAcross": "analyses",
    "attribute_across": "analyses",
    "Comparison": "analyses",
    "Replications": "analyses",
    "attribute": "analyses",
    "compare": "analyses",
    "replicate": "analyses",
    "Cycle": "cycles",
    "Exploration": "explore",
    "explore": "explore",
    "MixSearch": "mix",
    "search_mix": "mix",
    "cycle": "cycles",
    "Calibration": "calibration",
    "calibrate": "calibration",
    "load_results": "store",
    "SweepResult": "sweep",
    "sweep": "sweep",
}

if TYPE_CHECKING:
    from collabsim.experiments.analyses import (
        Attribution,
        AttributionAcross,
        Comparison,
        Replications,
        attribute,
        attribute_across,
        compare,
        replicate,
    )
    from collabsim.experiments.calibration import Calibration, calibrate
    from collabsim.experiments.cycles import Cycle, cycle
    from collabsim.experiments.explore import Exploration, explore
    from collabsim.experiments.mix import MixSearch, search_mix
    from collabsim.experiments.store import load_results
    from collabsim.experiments.sweep import SweepResult, sweep


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"collabsim.experiments.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'collabsim.experiments' has no attribute {name!r}")
