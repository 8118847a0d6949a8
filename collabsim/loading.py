"""Reading scenario files: TOML, ``extends`` chains, overrides, clear errors."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from collabsim.errors import ScenarioError
from collabsim.i18n import N_, _, marked, translator
from collabsim.scenario import Scenario

__all__ = [
    "MAX_FILE_BYTES",
    "ScenarioError",
    "apply_overrides",
    "load_scenario",
    "load_scenario_text",
    "parse_toml",
    "read_text",
    "scenario_from_dict",
    "scenario_hash",
]

MAX_FILE_BYTES = 4 * 1024 * 1024
"""The largest scenario or experiment file read (4 MiB; the Jakarta baseline is 16 KiB)."""


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``top`` into a copy of ``base``: tables merge, other values replace."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_text(path: Path, field: str = "file", where: str | None = None) -> str:
    """The text of a scenario or experiment file, or a clear error saying why it cannot be read.

    Only a regular file of at most :data:`MAX_FILE_BYTES`, in UTF-8, is read.

    Args:
        path: the file.
        field: the field the path came from (``file``, or ``extends`` for a parent).
        where: the file to name in the error (default: ``path`` itself).

    Raises:
        ScenarioError: naming the file and what is wrong with it.
    """
    source = where or str(path)

    def fail(problem: str) -> ScenarioError:
        return ScenarioError(source, [f"{field}: {problem}"])

    t = translator()
    name = repr(str(path))
    try:
        info = path.stat()
    except FileNotFoundError:
        raise fail(_("no such file {path}").format(path=name)) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise fail(_("cannot read {path} ({reason})").format(path=name, reason=reason)) from None
    if not stat.S_ISREG(info.st_mode):
        raise fail(_("{path} is not a regular file").format(path=name))
    if info.st_size > MAX_FILE_BYTES:
        raise fail(
            _("{path} is too large ({size} bytes; at most {most})").format(
                path=name, size=t.number(info.st_size), most=t.number(MAX_FILE_BYTES)
            )
        )
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise fail(_("cannot read {path} ({reason})").format(path=name, reason=reason)) from None
    if len(data) > MAX_FILE_BYTES:
        raise fail(
            _("{path} is too large (at most {most} bytes)").format(
                path=name, most=t.number(MAX_FILE_BYTES)
            )
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problem = _("not UTF-8 text (byte {byte} on line {line}); save the file as UTF-8")
        raise ScenarioError(
            str(path), ["file: " + problem.format(byte=f"0x{data[exc.start]:02x}", line=line)]
        ) from None


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_HEADER = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\".' ]+?)\s*=")


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error names the file, the line and the key it is in.

    Raises:
        ScenarioError: for a syntax error.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _AT.search(message)
        if at is None:
            raise ScenarioError(source, [_("TOML syntax: {error}").format(error=message)]) from None
        line, column = int(at.group(1)), int(at.group(2))
        lines = text.splitlines()
        key = _KEY.match(lines[line - 1]) if line <= len(lines) else None
        table = next(
            (m.group(1) for x in reversed(lines[: line - 1]) if (m := _HEADER.match(x))), ""
        )
        parts = [p for p in (table, key.group(1).strip() if key else "") if p]
        problem = _("TOML syntax error on line {line}, column {column}: {error}").format(
            line=line, column=column, error=message[: at.start()]
        )
        raise ScenarioError(
            source, [f"{'.'.join(parts)}: {problem}" if parts else problem]
        ) from None


Layers = list[tuple[Path, dict[str, Any]]]
"""The files of an ``extends`` chain with what each sets, the file itself first."""


def _read_toml(path: Path, chain: tuple[Path, ...], layers: Layers | None = None) -> dict[str, Any]:
    if path in chain:
        loop = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError(
            str(chain[0]), ["extends: " + _("circular chain {chain}").format(chain=loop)]
        )
    text = read_text(path, "extends", str(chain[-1])) if chain else read_text(path)
    data = parse_toml(text, str(path))
    parent = data.pop("extends", None)
    if layers is not None:
        layers.append((path, data))
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), ["extends: " + _("expected a file name (a string)")])
    base = _read_toml(_resolve(path.parent / parent, str(path), "extends"), (*chain, path), layers)
    return _merge(base, data)


def _sets(data: Mapping[str, Any], field: str) -> int:
    """How many leading parts of the dotted ``field`` the raw ``data`` sets."""
    depth, node = 0, data
    for part in field.split("."):
        key = part.split("[", 1)[0]
        if not isinstance(node, Mapping) or key not in node:
            break
        depth, node = depth + 1, node[key]
    return depth


def _name_parents(exc: ScenarioError, layers: Layers) -> ScenarioError:
    """Name, in each problem, the parent file that set its field (if not the file itself)."""
    problems = []
    for problem in exc.problems:
        field = problem.split(":", 1)[0]
        depths = [_sets(data, field) for _path, data in layers]
        best = max(range(len(layers)), key=lambda k: (depths[k], -k), default=0)
        if best > 0 and depths[best] > depths[0]:
            problem += " " + _("(set in {file})").format(file=layers[best][0])
        problems.append(problem)
    return ScenarioError(exc.source, problems)


def _resolve(path: Path, source: str, field: str) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        problem = _("cannot read {path} ({reason})").format(path=repr(str(path)), reason=exc)
        raise ScenarioError(source, [f"{field}: {problem}"]) from None


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
                problem = _("{key} is not a table").format(key=repr(key))
                raise ScenarioError("overrides", [f"{dotted}: {problem}"])
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
            msg = _("required field is missing")
        elif err["type"] == "extra_forbidden":
            msg = _("unknown field (check the spelling against docs/scenario-reference.md)")
        elif err["type"].endswith("_type"):
            msg += " " + _("(got {kind})").format(kind=_kind(err.get("input")))
        out += [f"{loc}: {line}" if loc else line for line in msg.split("\n")]
    return out


def _kind(value: Any) -> str:
    """What a wrong value is, in TOML's words (never the value itself)."""
    if isinstance(value, bool):
        return "true/false"
    for types, name in (
        (str, N_("a string")), (int, N_("an integer")), (float, N_("a number")),
        (dict, N_("a table")), (list, N_("an array")),
    ):  # fmt: skip
        if isinstance(value, types):
            return marked(name)
    return type(value).__name__


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


def load_raw(path: str | Path, layers: Layers | None = None) -> dict[str, Any]:
    """Read a scenario file and its ``extends`` chain into one raw dictionary.

    Args:
        path: the scenario file.
        layers: if given, filled with each file of the chain and what it sets.
    """
    return _read_toml(_resolve(Path(path), str(path), "file"), (), layers)


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
        ScenarioError: naming the file and each bad field, and the parent file
            that set a field where it was not the file itself.
    """
    layers: Layers = []
    data = load_raw(path, layers)
    if overrides:
        data = apply_overrides(data, overrides)
    try:
        return scenario_from_dict(data, str(path))
    except ScenarioError as exc:
        raise _name_parents(exc, layers) from None


def scenario_hash(scenario: Scenario) -> str:
    """A short content hash of a scenario (stable across processes)."""
    blob = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_scenario_text(
    text: str, source: str, folder: Path, overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Validate a scenario given as TOML text, e.g. a file uploaded to the browser app.

    The text's ``extends`` may only name a file inside ``folder``: an absolute
    path, a ``..`` that leaves the folder or a symbolic link that leads out of it
    is refused. The named file's own ``extends`` chain is read as usual.

    Args:
        text: the scenario's TOML.
        source: the name that errors give (e.g. the uploaded file's name).
        folder: the folder whose files ``extends`` may name.
        overrides: dotted-path values applied after merging, as for
            :func:`load_scenario`.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: naming ``source`` (or a parent file) and each bad field.
    """
    data = parse_toml(text, source)
    parent = data.pop("extends", None)
    if parent is not None:
        outside = ScenarioError(
            source, ["extends: " + _("must name a file in the scenario folder")]
        )
        if not isinstance(parent, str) or Path(parent).is_absolute():
            raise outside
        root = folder.resolve()
        try:
            path = (root / parent).resolve()  # follows links, so one leading out is refused
        except (OSError, RuntimeError):  # a link loop
            raise outside from None
        if root not in path.parents:
            raise outside
        data = _merge(_read_toml(path, (Path(source),)), data)
    if overrides:
        data = apply_overrides(data, overrides)
    return scenario_from_dict(data, source)
