"""Reading the reference engine's template format (timepoint-pro) into our scenario format.

What maps onto something our engine does is converted; everything else that carries a value is
reported as a warning naming the field. Nothing is dropped silently.
"""

from __future__ import annotations

from typing import Any

from .converter import _Converter


def convert_reference(data: dict[str, Any], source: str) -> tuple[dict[str, Any], list[str]]:
    """Convert a timepoint-pro template; return our scenario data and the warnings."""
    converter = _Converter(data, source)
    converted = converter.convert()
    return converted, converter.warnings
