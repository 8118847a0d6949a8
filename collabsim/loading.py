"""Reading scenario files: TOML, ``extends`` chains, overrides, clear errors."""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from collabsim.scenario import Scenario

__all__ = [
    "ScenarioError",
    "apply_overrides",
    "load_scenario",
    "scenario_from_dict",
    "scenario_hash",
]


class ScenarioError(ValueError):
    """A scenario that cannot be used: names the file, the field and the problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        """Build the error.

        Args:
            source: the file (or other origin) of the scenario.
            problems: one line per problem, each starting with the field.
        """
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: invalid scenario\n{lines}")


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``top`` into a copy of ``base``: tables merge, other values replace."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_toml(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    if path in chain:
        loop = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError(str(chain[0]), [f"extends: circular chain {loop}"])
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        where = str(chain[-1]) if chain else str(path)
        field = "extends" if chain else "file"
        raise ScenarioError(where, [f"{field}: no such file {str(path)!r}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), [f"TOML syntax: {exc}"]) from None
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), ["extends: expected a file name (a string)"])
    base = _read_toml((path.parent / parent).resolve(), (*chain, path))
    return _merge(base, data)


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``data`` with dotted-path overrides applied.

    Args:
        data: raw scenario data (as read from TOML).
        overrides: e.g. ``{"barriers.sop.intensity": 0.0, "run.days": 90}``.

    Returns:
        A new dictionary; ``data`` is not changed.

    Raises:
        ScenarioError: if a path leads through a value that is not a table.
    """
    out = copy.deepcopy(data)
    for dotted, value in overrides.items():
        node = out
        *parents, leaf = dotted.split(".")
        for key in parents:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ScenarioError("overrides", [f"{dotted}: {key!r} is not a table"])
            node = child
        node[leaf] = value
    return out


def validation_problems(exc: ValidationError) -> list[str]:
    """One line per problem of a pydantic error: the field's dotted path, then what is wrong."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling against docs/scenario-reference.md)"
        out.append(f"{loc}: {msg}" if loc else msg)
    return out


def scenario_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
    """Validate raw data into a :class:`Scenario`.

    Args:
        data: raw scenario data, without ``extends``.
        source: where the data came from, for error messages.

    Raises:
        ScenarioError: naming the source and each bad field.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, validation_problems(exc)) from None


def load_raw(path: str | Path) -> dict[str, Any]:
    """Read a scenario file and its ``extends`` chain into one raw dictionary."""
    return _read_toml(Path(path).resolve(), ())


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file.

    Args:
        path: a TOML scenario file; ``extends = "other.toml"`` is resolved
            relative to it, tables merged and other values replaced.
        overrides: dotted-path values applied after merging, e.g.
            ``{"barriers.resources.intensity": 0.0}``.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: naming the file and each bad field.
    """
    data = load_raw(path)
    if overrides:
        data = apply_overrides(data, overrides)
    return scenario_from_dict(data, str(path))


def scenario_hash(scenario: Scenario) -> str:
    """A short content hash of a scenario (stable across processes)."""
    blob = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
