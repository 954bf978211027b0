"""Running an export, the one way the command line and the explorer both do it: gather what a
run holds from the store, select, preview the first lines, and write the chosen format
atomically with its manifest, reporting progress as it goes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.records import CallModel
from ..view.runview import RunView
from .formats import FORMATS, Format, known
from .heap import settled_heap
from .selection import ExportError, Selection
from .sqlite import build_database
from .tally import Tally
from .writer import write_export

if TYPE_CHECKING:
    from ..store import Store

# the tally key that counts the turns a format has written (records, where it is not listed)
_TURN_KEYS = {"jsonl": "dialog_turn", "tdf": "turns_written", "sqlite": "dialog_turn"}
PREVIEW_CHARS = 4000  # read this much of a format's text at most for its first lines


@dataclass(frozen=True)
class Source:
    """Everything an export of one run selects from."""

    view: RunView
    summary: Any  # RunSummary
    calls: tuple[CallModel, ...]
    database: str = ":memory:"  # the store it was read from (the SQLite export copies from it)

    @property
    def run_id(self) -> str:
        return str(self.summary.run_id)


async def load_source(store: Store, run_id: str) -> Source:
    """The whole run (every turn loaded), its summary and the models its calls used; a run
    id may be a unique prefix. Raises :class:`~engine.store.StoreError`."""
    whole = await store.load_whole(run_id)  # one transaction: a consistent state
    return Source(whole.view, whole.summary, whole.calls, store.path)


def format_named(name: str) -> Format:
    fmt = FORMATS.get(name)
    if fmt is None:
        raise ExportError(f"unknown format {name!r} (known: {known()})")
    return fmt


def default_path(run_id: str, fmt: Format, folder: Path | None = None) -> Path:
    """``RUN_ID.SUFFIX``, here or in ``folder``."""
    name = f"{run_id}.{fmt.suffix}"
    return folder / name if folder is not None else Path(name)


def turns_written(fmt: Format, tally: Tally) -> int:
    """How many turns a format has written so far, from its tally."""
    key = _TURN_KEYS.get(fmt.name)
    return tally.extra.get(key, 0) if key else tally.records


def export_selection(
    selection: Selection,
    fmt: Format,
    path: Path,
    force: bool,
    *,
    progress: Callable[[Tally], None] | None = None,
    database: str | None = None,
) -> dict[str, Any]:
    """Write ``selection`` in ``fmt`` at ``path`` (atomically, never over an existing file
    unless ``force``), with the manifest beside it; return the manifest. ``progress`` is
    called with the tally after each chunk written. A database export copies the selected
    events from the store at ``database``, the one the selection was read from."""
    with settled_heap():
        return _export(selection, fmt, path, force, progress, database)


def _export(
    selection: Selection,
    fmt: Format,
    path: Path,
    force: bool,
    progress: Callable[[Tally], None] | None,
    database: str | None,
) -> dict[str, Any]:
    if fmt.render is None:
        if database is None:
            raise ExportError(f"the {fmt.name} format needs the database the run was read from")
        source = database

        def build(tmp: Path) -> dict[str, int]:
            return build_database(selection, source, tmp, progress)

        return write_export(selection, fmt.name, path, force, build=build)
    tally = Tally()
    chunks: Iterator[str] | Iterator[bytes] = fmt.render(selection, tally)
    if progress is not None:
        chunks = _reporting(chunks, tally, progress)
    return write_export(selection, fmt.name, path, force, chunks=chunks, tally=tally)


def _reporting(
    chunks: Iterator[str] | Iterator[bytes], tally: Tally, progress: Callable[[Tally], None]
) -> Iterator[str | bytes]:
    for chunk in chunks:
        yield chunk
        progress(tally)


def preview(selection: Selection, fmt: Format, lines: int = 3, width: int = 160) -> tuple[str, ...]:
    """The first ``lines`` non-blank lines ``fmt`` writes for ``selection``, each cut to
    ``width`` characters. Only the start of the text is rendered: reading stops at ``lines``
    lines or, within one long line (a TDF record is a whole branch), after
    :data:`PREVIEW_CHARS` characters. A database has no lines."""
    if fmt.render is None:
        return ()
    found: list[str] = []
    partial, skipping, read = "", False, 0
    chunks = fmt.render(selection, Tally())
    try:
        for piece in chunks:
            chunk = piece.decode("utf-8") if isinstance(piece, bytes) else piece
            read += len(chunk)
            parts = chunk.split("\n")
            for i, part in enumerate(parts):
                ended = i < len(parts) - 1
                if not skipping:
                    partial += part
                    if len(partial) > width:  # its start is all that is shown
                        found.append(_cut(partial, width))
                        partial, skipping = "", True
                if ended:
                    if partial.strip():
                        found.append(partial.rstrip())
                    partial, skipping = "", False
                if len(found) >= lines:
                    return tuple(found[:lines])
            if skipping and read >= PREVIEW_CHARS:
                break
        if partial.strip() and not skipping:
            found.append(partial.rstrip())
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return tuple(found[:lines])


def _cut(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"
