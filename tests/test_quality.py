"""ruff and mypy are clean; the public API is what __all__ says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import collabsim

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    assert path, f"{name} is not installed in this environment (pip install -e '.[dev]')"
    return path


def test_ruff_lint() -> None:
    res = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format() -> None:
    res = subprocess.run(
        [_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy() -> None:
    res = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_public_api_resolves_to_what_each_module_exports() -> None:
    import importlib

    for name in collabsim.__all__:
        if name == "__version__":
            continue
        value = getattr(collabsim, name)
        home = importlib.import_module(collabsim._WHERE[name])
        assert name in home.__all__, f"{name} is not in {home.__name__}.__all__"
        assert getattr(home, name) is value
    assert sorted(collabsim._WHERE) == sorted(n for n in collabsim.__all__ if n != "__version__")
    assert (ROOT / "collabsim" / "py.typed").exists()


def test_on_ci_a_skipped_test_fails(tmp_path: Path) -> None:
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\ndef test_needs_a_browser():\n    pytest.skip('no browser')\n"
    )
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", str(tmp_path)]
    cmd += ["-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    off_ci = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    assert off_ci.returncode == 0, off_ci.stdout
    assert "1 skipped" in off_ci.stdout
    on_ci = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**env, "CI": "true"})
    assert on_ci.returncode == 1, on_ci.stdout
    assert "skipped on CI, where every test must run" in on_ci.stdout


MODEL_MODULES = sorted(
    p for p in (ROOT / "collabsim").glob("*.py") if p.stem not in ("__init__", "__main__", "cli")
)


def test_the_model_never_imports_the_experiments_or_the_app() -> None:
    import ast

    for path in MODEL_MODULES:
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        bad = [m for m in names if m.startswith(("collabsim.experiments", "collabsim.app"))]
        assert not bad, f"{path.name} imports {bad}"
    assert len(MODEL_MODULES) >= 10


def test_every_module_exports_what_it_defines() -> None:
    import importlib
    import pkgutil

    import collabsim.app
    import collabsim.experiments

    names = [m.name for m in pkgutil.walk_packages(collabsim.__path__, "collabsim.")]
    assert "collabsim.experiments.execution" in names and "collabsim.app.page" in names
    for module_name in names:
        if module_name.endswith("__main__"):
            continue
        module = importlib.import_module(module_name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{module_name} has no __all__"
        missing = [n for n in exported if not hasattr(module, n)]
        assert not missing, f"{module_name}.__all__ names undefined {missing}"
