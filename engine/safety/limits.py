"""The bounds on input sizes, kept in one place, and the checks that apply them before anything
is allocated.

Every size that comes from a file or a flag is bounded here: a file's bytes, how deep its JSON
nests, how long a string or a list in it may be, how many timepoints and entities a scenario may
have, how long a step between timepoints is, how large a seed is, how long a run id or a query
is. A refusal is one sentence that names the limit (:class:`LimitError`, a ``ValueError``);
each caller turns it into its own error type (bad input: exit status 2).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

MiB = 1024 * 1024

MAX_SCENARIO_BYTES = 16 * MiB  # a scenario file (either format)
MAX_CASSETTE_BYTES = 512 * MiB  # a cassette file
MAX_JSON_DEPTH = 64  # nesting of objects and lists in a scenario or cassette file
MAX_TEXT_CHARS = 100_000  # one string of a scenario file
MAX_LIST_ITEMS = 100_000  # one list (or object) of a scenario file
MAX_TIMEPOINTS = 500  # timeline.count (and a reference template's timepoints, all counted)
MAX_ENTITIES = 1000  # entities named in a scenario (a roster)
MAX_GENERATED_ENTITIES = 200  # entity_count: entities made up to fill a cast
MAX_STEP = timedelta(days=3660)  # the time between two timepoints: ten years
LAST_MOMENT = datetime(9000, 1, 1)  # no timepoint after this (dates end at 9999)
MAX_SEED = 2**63 - 1  # a seed is stored as a SQLite INTEGER (signed 64 bits)
MAX_STEP_DIGITS = 12  # the number in a step such as "90m"
MAX_RUN_ID_CHARS = 200  # a run id or a prefix of one, as given on the command line
MAX_QUERY_CHARS = 10_000  # one query
MAX_TOKENS_INT = 2**53  # token counts and other integers read from a cassette file
MAX_NAME_BYTES = 255  # one name of a path (what file systems allow)
MAX_PATH_BYTES = 4096  # a whole path
MAX_SHOWN_ITEMS = 10  # items of a list named in one error message
MAX_MESSAGE_CHARS = 800  # one error message as the command line prints it


class LimitError(ValueError):
    """An input over one of the bounds above, in one sentence naming the limit."""


def check_file_size(path: Path, limit: int, what: str) -> None:
    """Refuse a file larger than ``limit`` bytes before reading it (a missing or unreadable
    file is left to the read that follows, which names the problem)."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size > limit:
        raise LimitError(
            f"{path}: is {size / MiB:.1f} MiB, over the limit of {limit // MiB} MiB for {what}"
        )


def check_path(path: Path, what: str) -> None:
    """Refuse a path the file system would refuse by its length (a name over
    :data:`MAX_NAME_BYTES` bytes, the whole over :data:`MAX_PATH_BYTES`), before any call on it
    raises "File name too long"; and a path holding a NUL, which no file name can."""
    text = str(path)
    if "\x00" in text:
        raise LimitError(f"{what} holds a NUL character, which no file name can")
    if len(os.fsencode(text)) > MAX_PATH_BYTES:
        raise LimitError(f"{what} is over the limit of {MAX_PATH_BYTES} bytes for a path")
    if any(len(os.fsencode(part)) > MAX_NAME_BYTES for part in path.parts):
        raise LimitError(
            f"{what} has a name over the limit of {MAX_NAME_BYTES} bytes for one file or folder"
        )


def check_tree(data: Any, source: str) -> None:
    """Refuse parsed JSON that nests deeper than :data:`MAX_JSON_DEPTH`, or holds a string
    longer than :data:`MAX_TEXT_CHARS` or a list longer than :data:`MAX_LIST_ITEMS`.
    Iterative: it never recurses, however deep the data."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, str):
            if len(node) > MAX_TEXT_CHARS:
                raise LimitError(
                    f"{source}: {where or '(top level)'} is {len(node):,} characters long, over "
                    f"the limit of {MAX_TEXT_CHARS:,}"
                )
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise LimitError(
                f"{source}: {where or '(top level)'} nests deeper than the limit of "
                f"{MAX_JSON_DEPTH} levels"
            )
        if len(node) > MAX_LIST_ITEMS:
            raise LimitError(
                f"{source}: {where or '(top level)'} has {len(node):,} items, over the limit of "
                f"{MAX_LIST_ITEMS:,}"
            )
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and len(key) > MAX_TEXT_CHARS:
                    raise LimitError(
                        f"{source}: {where or '(top level)'} has a field name over the limit of "
                        f"{MAX_TEXT_CHARS:,} characters"
                    )
                stack.append((value, depth + 1, f"{where}.{key}" if where else str(key)))
        else:
            for i, value in enumerate(node):
                stack.append((value, depth + 1, f"{where}[{i}]"))


def check_count(value: int, limit: int, what: str, source: str = "") -> None:
    """Refuse a count over ``limit`` (``what``: the field, as the message names it)."""
    if value > limit:
        prefix = f"{source}: " if source else ""
        raise LimitError(f"{prefix}{what} is {value:,}, over the limit of {limit:,}")


def check_seed(value: int, what: str = "the seed") -> None:
    if not 0 <= value <= MAX_SEED:
        raise LimitError(f"{what} must be a whole number from 0 to the limit of 2^63 - 1")


def check_timeline(start: datetime, step: timedelta, count: int) -> None:
    """Refuse a step over :data:`MAX_STEP`, or a timeline whose last timepoint would fall
    after :data:`LAST_MOMENT` (adding steps to a date near year 9999 overflows)."""
    if step > MAX_STEP:
        raise LimitError(f"has a step over the limit of {MAX_STEP.days} days")
    start = start.replace(tzinfo=None)
    span = step * max(count, 1)
    # Later steps (beats, forks, a portal's origin) stay within the same margins.
    if start >= LAST_MOMENT or span > LAST_MOMENT - start:
        raise LimitError(
            f"runs past the year {LAST_MOMENT.year}, the latest date timeloom handles (the limit); "
            "start earlier or take fewer or shorter steps"
        )
    if start - datetime.min <= span * 2:  # a PORTAL search steps back from its endpoint
        raise LimitError("starts too close to the year 1 for its steps to fit")


def capped(items: Sequence[Any], limit: int = MAX_SHOWN_ITEMS, sep: str = ", ") -> str:
    """A list for a message, cut after ``limit`` items: ``a, b, c … and 990 more``."""
    shown = sep.join(str(i) for i in items[:limit])
    rest = len(items) - limit
    return f"{shown} … and {rest:,} more" if rest > 0 else shown


def shown_value(value: Any, limit: int = 60) -> str:
    """A value for a message: its repr, cut to ``limit`` characters."""
    try:
        text = repr(value)
    except Exception:  # a repr that fails is named by its type (never raised from here)
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
