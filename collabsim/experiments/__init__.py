"""Driving the model from outside: replications, comparisons, attribution, sweeps, calibration.

Every experiment describes its runs as data, executes them serially, on
local processes or on a Dask cluster, and streams them into the results
store of its output folder, from which a killed experiment resumes.
"""

from __future__ import annotations

from collabsim.experiments.analyses import (
    Attribution,
    Comparison,
    Replications,
    attribute,
    compare,
    replicate,
)
from collabsim.experiments.calibration import Calibration, calibrate
from collabsim.experiments.store import load_results
from collabsim.experiments.sweep import SweepResult, sweep

__all__ = [
    "Attribution",
    "Calibration",
    "Comparison",
    "Replications",
    "SweepResult",
    "attribute",
    "calibrate",
    "compare",
    "load_results",
    "replicate",
    "sweep",
]
