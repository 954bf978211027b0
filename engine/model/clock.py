"""The hour of a moment in words ("early morning", "late at night"), from a data file."""

from __future__ import annotations

import json
from functools import lru_cache

from ..resources import data_path


@lru_cache(maxsize=1)
def _table() -> tuple[tuple[int, str], ...]:
    with open(data_path("time_of_day.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    return tuple(sorted((int(hour), str(text)) for hour, text in data["phrases"].items()))


def time_of_day(hour: int) -> str:
    """The phrase for a clock hour (0-23): the entry with the latest start at or before it."""
    table = _table()
    best = table[0][1]
    for start, text in table:
        if start <= hour:
            best = text
    return best


def phrases() -> tuple[str, ...]:
    """Every phrase, in the order of the day."""
    return tuple(text for _, text in _table())
