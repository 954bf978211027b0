"""An answer that is right but for a number just past its range, brought back into range.

Small models often put a number just outside its range, such as an atmosphere's energy at
-0.1 where the range starts at 0. Where the field is a bounded quantity (a level, a
likelihood, an intensity), the nearest allowed value is what the model meant. So the value is
clamped, the change is recorded on the call, and the answer is kept. Nothing else is changed:
a missing field, a wrong type or text out of range still goes to a repair request.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ValidationError

from .jsonparse import JSONExtractionError, extract_json
from .protocol import LLMResponse

_LIMITS = {
    "greater_than_equal": "ge",
    "less_than_equal": "le",
    "greater_than": "gt",
    "less_than": "lt",
}
_PASSES = 4  # nested errors surface one level at a time at most this often


def rescue(
    response: LLMResponse, model: type[BaseModel], error: ValidationError
) -> tuple[BaseModel, tuple[str, ...]] | None:
    """``response`` as ``model`` once its out-of-range numbers are clamped, with one note per
    change ("atmosphere.energy -0.1 -> 0"); None when anything else is wrong with it."""
    try:
        data: Any = (
            response.parsed.model_dump(mode="json")
            if response.parsed is not None
            else extract_json(response.text)
        )
    except JSONExtractionError:
        return None
    notes: list[str] = []
    for _ in range(_PASSES):
        changes = _clamps(error)
        if changes is None:
            return None
        for loc, limit in changes:
            old = _set(data, loc, limit)
            if old is None:
                return None
            notes.append(f"{'.'.join(str(p) for p in loc)} {old:g} -> {limit:g}")
        try:
            return model.model_validate(data), tuple(notes)
        except ValidationError as again:
            error = again
    return None


def _clamps(error: ValidationError) -> list[tuple[tuple[Any, ...], float]] | None:
    """(where, the nearest allowed value) for every error, or None if one is not a number
    out of range."""
    out: list[tuple[tuple[Any, ...], float]] = []
    for err in error.errors():
        kind = _LIMITS.get(err["type"])
        value = err.get("input")
        limit = (err.get("ctx") or {}).get(kind) if kind else None
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if kind is None or limit is None or not numeric or math.isnan(value):
            return None  # (an infinity is past its end: the end is what was meant)
        if kind in ("gt", "lt"):
            return None  # an open end has no nearest allowed value to clamp to
        out.append((tuple(err["loc"]), float(limit)))
    return out


def _set(data: Any, loc: tuple[Any, ...], value: float) -> float | None:
    """Put ``value`` at ``loc`` in ``data``; the value it replaces, or None if ``loc`` is not
    there."""
    node = data
    for step in loc[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    try:
        old = node[loc[-1]]
        node[loc[-1]] = value
    except (KeyError, IndexError, TypeError):
        return None
    return float(old) if isinstance(old, int | float) else None
