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
    "Case",
    "CollaborationModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "attribute",
    "compare",
    "load_results",
    "load_scenario",
    "replicate",
    "run",
    "scenario_hash",
    "simulate",
    "sweep",
]

_WHERE = {
    "BARRIER_NAMES": "collabsim.scenario",
    "Agency": "collabsim.agency",
    "Case": "collabsim.cases",
    "CollaborationModel": "collabsim.model",
    "RunResult": "collabsim.api",
    "Scenario": "collabsim.scenario",
    "ScenarioError": "collabsim.loading",
    "load_scenario": "collabsim.loading",
    "attribute": "collabsim.experiments",
    "compare": "collabsim.experiments",
    "replicate": "collabsim.experiments",
    "load_results": "collabsim.experiments.store",
    "run": "collabsim.api",
    "scenario_hash": "collabsim.loading",
    "simulate": "collabsim.api",
    "sweep": "collabsim.experiments.sweep",
}

if TYPE_CHECKING:
    from collabsim.agency import Agency
    from collabsim.api import RunResult, run, simulate
    from collabsim.cases import Case
    from collabsim.experiments import attribute, compare, replicate
    from collabsim.experiments.store import load_results
    from collabsim.experiments.sweep import sweep
    from collabsim.loading import ScenarioError, load_scenario, scenario_hash
    from collabsim.model import CollaborationModel
    from collabsim.scenario import BARRIER_NAMES, Scenario


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'collabsim' has no attribute {name!r}")
