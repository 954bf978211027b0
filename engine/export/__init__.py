"""Exports of a stored run (issue 12): a selection of what happened, written atomically with a
manifest beside it, in the formats :mod:`engine.export.formats` lists."""

from .jsonl import jsonl_records
from .selection import ExportError, Selection, select
from .writer import write_export

__all__ = ["ExportError", "Selection", "jsonl_records", "select", "write_export"]
