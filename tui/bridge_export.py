"""The bridge's export work: read a run whole, preview a selection, write it. Reading is an
async worker on the store; selecting, previewing and writing are CPU-bound and run in thread
workers that only post messages. The export itself is :func:`engine.export.job.export_selection`,
the same function the command line calls."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.export import ExportError, Selection, select
from engine.export.formats import Format
from engine.export.job import (
    Source,
    default_path,
    export_selection,
    format_named,
    load_source,
    preview,
    turns_written,
)
from engine.export.selection import parse_time
from engine.export.tally import Tally

from .messages import ExportChoices, ExportFinished, ExportPreviewed, ExportProgress, ExportReady

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

    from engine.store import Store

PROGRESS_SECONDS = 0.1  # at most ten progress messages a second


@dataclass(frozen=True)
class ExportBasis:
    """A run read whole for exports, and the model registry that says what may train. The lock
    keeps a preview and an export from reading the one read model at once."""

    source: Source
    registry: Any  # engine.llm.registry.Registry, or None
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False)


def _naive(a: Any) -> Any:
    return a.replace(tzinfo=None) if a.tzinfo is not None else a


def prepare(basis: ExportBasis, choices: ExportChoices) -> tuple[Selection, Format, Path]:
    """The selection, format and destination the form's choices mean (``ExportError`` with one
    sentence when they mean nothing)."""
    from engine.query import QueryError, resolve_entity

    source = basis.source
    fmt = format_named(choices.fmt)
    names = {k: e.name for k, e in source.view.entities.items()}
    entities: list[str] = []
    for typed in (p.strip() for p in choices.entities.split(",")):
        if not typed:
            continue
        try:
            found = resolve_entity(typed, names)
        except QueryError as exc:
            raise ExportError(str(exc)) from None
        if found not in entities:
            entities.append(found)
    start = parse_time(choices.start.strip() or None)
    end = parse_time(choices.end.strip() or None)
    if start is not None and end is not None and _naive(start) > _naive(end):
        raise ExportError("the from time is after the to time")
    selection = select(
        source.view,
        source.summary,
        calls=source.calls,
        registry=basis.registry,
        branch=choices.branch,
        entities=entities,
        start=start,
        end=end,
        training_safe=choices.training_safe,
    )
    typed_path = choices.path.strip()
    path = Path(typed_path).expanduser() if typed_path else default_path(source.run_id, fmt)
    return selection, fmt, path


def branch_labels(source: Source) -> tuple[tuple[str, str], ...]:
    """Each branch of the run, in the order it first appears, with its label."""
    view = source.view
    ids = list(dict.fromkeys([t.branch_id for t in view.timepoints]))
    ids += [b for b in view.branches if b not in ids]
    out = []
    for branch in ids:
        info = view.branches.get(branch)
        named = info is not None and info.label and info.label != branch
        label = f"branch {branch}" + (f" · {info.label}" if named and info else "")
        out.append((branch, label))
    return tuple(out)


class ExportWork:
    """Mixed into :class:`~tui.bridge.EngineBridge`."""

    app: App[Any]
    registry_path: str | None

    if TYPE_CHECKING:

        async def _store(self) -> Store: ...

        def _work(self, coro: Any, name: str, group: str = ..., exclusive: bool = ...) -> None: ...

    def load_export(self, target: MessagePump, run_id: str) -> None:
        """Read ``run_id`` whole and the registry, as :class:`ExportReady`."""

        async def work() -> None:
            from engine.llm.registry import RegistryError, load_registry
            from engine.store import StoreError

            try:
                source = await load_source(await self._store(), run_id)
                registry = load_registry(self.registry_path)
            except (StoreError, RegistryError) as exc:
                target.post_message(ExportReady(None, error=str(exc)))
                return
            target.post_message(ExportReady(ExportBasis(source, registry), branch_labels(source)))

        self._work(work, f"export-read-{run_id}", group="export-read", exclusive=True)

    def preview_export(
        self, target: MessagePump, basis: ExportBasis, choices: ExportChoices
    ) -> None:
        """What ``choices`` select and the first lines they write, as :class:`ExportPreviewed`
        (tagged with ``choices.seq``: a thread cannot be stopped, so a late answer to older
        choices is told apart by the form)."""

        def work() -> None:
            try:
                with basis.lock:
                    selection, fmt, _ = prepare(basis, choices)
                    lines = preview(selection, fmt)
            except ExportError as exc:
                target.post_message(ExportPreviewed(choices.seq, None, error=str(exc)))
                return
            counts = (len(selection.timepoints), len(selection.turns), selection.dropped_unsafe)
            target.post_message(
                ExportPreviewed(choices.seq, counts, lines, database=fmt.render is None)
            )

        self.app.run_worker(
            work,
            name="export-preview",
            group="export-preview",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def run_export(self, target: MessagePump, basis: ExportBasis, choices: ExportChoices) -> None:
        """Write the export ``choices`` describe: :class:`ExportProgress` as it goes, then
        :class:`ExportFinished`. Should the form be closed by then, the app says how it ended."""

        def post(message: Any) -> None:
            if not target.post_message(message) and isinstance(message, ExportFinished):
                text = message.error or f"wrote {message.path}"
                severity = "error" if message.error else "information"
                self.app.call_from_thread(self.app.notify, text, title="Export", severity=severity)

        def work() -> None:
            try:
                with basis.lock:
                    selection, fmt, path = prepare(basis, choices)
                    if path.is_dir():
                        raise ExportError(f"cannot write {path}: it is a folder")
                    if path.exists() and not choices.force:
                        raise ExportError(f"{path} already exists; tick overwrite to replace it")
                    total = len(selection.turns)
                    last = [0.0]

                    def progress(tally: Tally) -> None:
                        now = time.monotonic()
                        if now - last[0] >= PROGRESS_SECONDS:
                            last[0] = now
                            done = min(turns_written(fmt, tally), total)
                            target.post_message(ExportProgress(tally.records, done, total))

                    manifest = export_selection(
                        selection,
                        fmt,
                        path,
                        choices.force,
                        progress=progress,
                        database=basis.source.database,
                    )
            except ExportError as exc:
                post(ExportFinished(None, error=str(exc)))
                return
            except OSError as exc:
                post(ExportFinished(None, error=f"cannot write the export: {exc.strerror or exc}"))
                return
            counts = tuple((k, int(v)) for k, v in manifest["counts"].items())
            post(ExportFinished(str(path), counts))

        self.app.run_worker(work, name="export", group="export", thread=True, exit_on_error=False)
