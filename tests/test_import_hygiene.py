"""The engine never imports a UI library; headless commands never import Textual."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

from conftest import ROOT

import engine


def _engine_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(engine.__path__, prefix="engine."))


def test_engine_has_modules_to_check() -> None:
    modules = _engine_modules()
    assert "engine.simulation" in modules
    assert "engine.llm.offline.provider" in modules


def test_engine_never_imports_textual_or_rich() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {_engine_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_headless_commands_do_not_import_textual(tmp_path) -> None:
    code = (
        "import json, sys\n"
        "from tui.cli import main\n"
        f"main(['run', 'lighthouse_night', '--headless', '--json', '--db', {str(tmp_path / 'x.db')!r}])\n"
        "main(['runs', '--db', " + repr(str(tmp_path / "x.db")) + "])\n"
        "main(['templates'])\n"
        "sys.stderr.write(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stderr.strip().splitlines()[-1]) == []
