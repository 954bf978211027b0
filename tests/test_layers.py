"""The layers of the design hold: the import contracts in pyproject.toml (engine layers, no
cycles, no UI library in the engine, the offline provider a leaf, providers set up only by the
session, headless commands without Textual, widgets that never call the engine) are kept, and
what a static analysis cannot see, what is loaded at run time, agrees with them."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import tomllib

from conftest import ROOT

import engine

PYPROJECT = ROOT / "pyproject.toml"


def _contracts() -> list[dict]:
    return tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]


def test_the_import_contracts_hold() -> None:
    """Every contract is checked and kept; a broken one fails with import-linter's report
    (which import, from which line, by which chain)."""
    code = (
        "import sys\n"
        "from importlinter.cli import lint_imports\n"
        f"sys.exit(lint_imports(config_filename={str(PYPROJECT)!r}, no_cache=True, no_logo=True))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in report, report


def test_the_engine_layers_name_every_package() -> None:
    """A new package of the engine is given its layer (the contract is exhaustive)."""
    layers = next(c for c in _contracts() if c["name"] == "Engine layers")
    assert layers.get("exhaustive") is True
    assert layers.get("containers") == ["engine"]


def _engine_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(engine.__path__, prefix="engine."))


def test_the_engine_loads_no_ui_library() -> None:
    """Importing every module of the engine loads neither Textual nor Rich, not even through
    a third-party library."""
    modules = _engine_modules()
    assert "engine.simulation" in modules
    assert "engine.llm.offline.provider" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_headless_commands_load_no_textual(tmp_path) -> None:
    """The command line imports the explorer only inside the functions that open it (the one
    import the Textual contract ignores), so a headless command never loads Textual."""
    db = str(tmp_path / "x.db")
    code = (
        "import json, sys\n"
        "from tui.cli import main\n"
        f"main(['run', 'lighthouse_night', '--headless', '--json', '--db', {db!r}])\n"
        f"main(['runs', '--db', {db!r}])\n"
        "main(['templates'])\n"
        "sys.stderr.write(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stderr.strip().splitlines()[-1]) == []
