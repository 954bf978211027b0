"""Where bundled data lives, in a source checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_path(*parts: str) -> Path:
    """A file shipped inside the engine package (``engine/data``)."""
    return _PACKAGE.joinpath("data", *parts)


def bundled_dir(name: str) -> Path:
    """A top-level folder of the project (``templates``, ``themes``) wherever it was installed."""
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    return _PACKAGE.parent / name
