"""The export formats: each renders a selection as text chunks and counts what it wrote. A
format is one module with one ``render`` function; this table is the only place that lists them
(the SQLite export writes a database, not text: it has no ``render``, and the export job builds
it with :func:`engine.export.sqlite.build_database`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .fountain import fountain_lines
from .jsonl import jsonl_lines
from .markdown import markdown_lines
from .selection import Selection
from .tally import Tally
from .tdf import tdf_lines

Render = Callable[[Selection, Tally], Iterator[str] | Iterator[bytes]]  # bytes: UTF-8


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    summary: str
    render: Render | None  # None: a database, written by the writer


FORMATS: dict[str, Format] = {
    "jsonl": Format("jsonl", "jsonl", "training data, one prompt/completion per turn", jsonl_lines),
    "fountain": Format("fountain", "fountain", "screenplay, a scene per timepoint", fountain_lines),
    "markdown": Format("markdown", "md", "a readable report of the run", markdown_lines),
    "tdf": Format("tdf", "tdf.jsonl", "JSON-LD timeline records, one per branch", tdf_lines),
    "sqlite": Format(
        "sqlite", "db", "a database in the store's schema, holding the selection", None
    ),
}


def known() -> str:
    return ", ".join(FORMATS)
