"""The layers of the design, as import-linter contracts in pyproject.toml: a module imports
only from the layers below it, the engine never imports a UI library, and nothing but provider
selection reaches into the offline provider."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from conftest import ROOT


def test_the_contracts_cover_the_engine_packages() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["name"] == "Engine layers")["layers"]
    named = {n.strip() for layer in layers for n in layer.replace("|", ":").split(":")}
    packages = {
        f"engine.{p.stem if p.is_file() else p.name}"
        for p in (ROOT / "engine").iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.stem != "__init__")
    }
    assert packages <= named, f"packages in no layer: {sorted(packages - named)}"


def test_the_import_contracts_hold() -> None:
    code = (
        "import sys\n"
        "from importlinter.cli import lint_imports\n"
        "sys.exit(lint_imports(no_cache=True, no_logo=True))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
