"""The state of one template's conversion: checked access to its fields, and the warnings
that name what is not used."""

from __future__ import annotations

import math
from typing import Any

from ...safety import limits
from ..errors import ScenarioError


class _Fields:
    """A template being converted: its data, its source for messages, and the warnings so far."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.warnings: list[str] = []

    def fail(self, path: str, expected: str, value: Any) -> ScenarioError:
        return ScenarioError(
            f"{self.source}: {path} expected {expected}, got {limits.shown_value(value)}"
        )

    def section(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "an object", value)
        return value

    def strings(self, path: str, value: Any) -> list[str]:
        """A list of text (None: an empty one); anything else is refused, naming the field."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, "a list of text", value)
        return [v for v in value if isinstance(v, str)]

    def number(self, path: str, value: Any, *, integer: bool = False) -> float | int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, "a whole number" if integer else "a number", value)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(path, "a finite number", value)
        if integer and int(value) != value:
            raise self.fail(path, "a whole number", value)
        return int(value) if integer else float(value)

    def warn(self, path: str, why: str) -> None:
        self.warnings.append(f"{path}: {why}")
