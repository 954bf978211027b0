"""What a projection returns (``(sql, params)`` rows) and how it writes JSON and times."""

from __future__ import annotations

import json
from typing import Any

Row = tuple[str, tuple[Any, ...]]


def as_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def as_time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
