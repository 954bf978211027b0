"""The state of one template's conversion: checked access to its fields, and the warnings
that name what is not used."""

from __future__ import annotations

from typing import Any

from ..errors import ScenarioError


class _Fields:
    """A template being converted: its data, its source for messages, and the warnings so far."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.warnings: list[str] = []

    def fail(self, path: str, expected: str, value: Any) -> ScenarioError:
        return ScenarioError(f"{self.source}: {path} expected {expected}, got {value!r}")

    def section(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "an object", value)
        return value

    def number(self, path: str, value: Any, *, integer: bool = False) -> float | int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, "a whole number" if integer else "a number", value)
        if integer and int(value) != value:
            raise self.fail(path, "a whole number", value)
        return int(value) if integer else float(value)

    def warn(self, path: str, why: str) -> None:
        self.warnings.append(f"{path}: {why}")
