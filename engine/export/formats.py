"""The export formats: each renders a selection as text chunks and counts what it wrote. A
format is one module with one ``render`` function; this table is the only place that lists them
(the SQLite export writes a database, not text, and is handled by the writer itself)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .selection import Selection


@dataclass
class Tally:
    """What a render wrote, filled in as it goes (the manifest's ``counts``)."""

    records: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        self.extra[key] = self.extra.get(key, 0) + n


Render = Callable[[Selection, Tally], Iterator[str]]


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    summary: str
    render: Render | None  # None: a database, written by the writer


def _jsonl(sel: Selection, tally: Tally) -> Iterator[str]:
    from .jsonl import jsonl_lines

    return jsonl_lines(sel, tally)


FORMATS: dict[str, Format] = {
    "jsonl": Format("jsonl", "jsonl", "training data, one prompt/completion per turn", _jsonl),
}


def known() -> str:
    return ", ".join(FORMATS)
