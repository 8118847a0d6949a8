"""collabsim: how government agencies collaborate on cases of violence against children.

The public API is imported lazily, so that the command line starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "BARRIER_NAMES",
    "Agency",
    "Attribution",
    "AttributionAcross",
    "Calibration",
    "Case",
    "CollaborationModel",
    "Comparison",
    "Cycle",
    "Exploration",
    "MixSearch",
    "Replications",
    "RunResult",
    "RunTooLarge",
    "Scenario",
    "ScenarioError",
    "StoreError",
    "SweepResult",
    "__version__",
    "attribute",
    "attribute_across",
    "calibrate",
    "compare",
    "cycle",
    "explore",
    "lacking",
    "load_results",
    "load_scenario",
    "replicate",
    "run",
    "scenario_hash",
    "search_mix",
    "simulate",
    "sweep",
]

_WHERE = {
    "BARRIER_NAMES": "collabsim.scenario",
    "Scenario": "collabsim.scenario",
    "Agency": "collabsim.agency",
    "Case": "collabsim.cases",
    "CollaborationModel": "collabsim.model",
    "RunResult": "collabsim.api",
    "run": "collabsim.api",
    "simulate": "collabsim.api",
    "RunTooLarge": "collabsim.limits",
    "ScenarioError": "collabsim.errors",
    "StoreError": "collabsim.errors",
    "load_scenario": "collabsim.loading",
    "scenario_hash": "collabsim.loading",
    "Attribution": "collabsim.experiments",
    "AttributionAcross": "collabsim.experiments",
    "Calibration": "collabsim.experiments",
    "Comparison": "collabsim.experiments",
    "Cycle": "collabsim.experiments",
    "Exploration": "collabsim.experiments",
    "explore": "collabsim.experiments",
    "MixSearch": "collabsim.experiments",
    "search_mix": "collabsim.experiments",
    "lacking": "collabsim.assumptions",
    "Replications": "collabsim.experiments",
    "SweepResult": "collabsim.experiments",
    "attribute": "collabsim.experiments",
    "attribute_across": "collabsim.experiments",
    "calibrate": "collabsim.experiments",
    "compare": "collabsim.experiments",
    "cycle": "collabsim.experiments",
    "load_results": "collabsim.experiments",
    "replicate": "collabsim.experiments",
    "sweep": "collabsim.experiments",
}

if TYPE_CHECKING:
    from collabsim.agency import Agency
    from collabsim.api import RunResult, run, simulate
    from collabsim.assumptions import lacking
    from collabsim.cases import Case
    from collabsim.errors import ScenarioError, StoreError
    from collabsim.experiments import (
        Attribution,
        AttributionAcross,
        Calibration,
        Comparison,
        Cycle,
        Exploration,
        MixSearch,
        Replications,
        SweepResult,
        attribute,
        attribute_across,
        calibrate,
        compare,
        cycle,
        explore,
        load_results,
        replicate,
        search_mix,
        sweep,
    )
    from collabsim.limits import RunTooLarge
    from collabsim.loading import load_scenario, scenario_hash
    from collabsim.model import CollaborationModel
    from collabsim.scenario import BARRIER_NAMES, Scenario


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'collabsim' has no attribute {name!r}")
