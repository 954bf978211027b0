"""The SQLite export: a standalone database, in the store's own schema, holding exactly a
selection of one run. It is made the way every database is: the run's events that belong to
the selection are appended through the store (the one writer), so every table of the new file
is the fold of what it holds, and ``timeloom show --db FILE`` reads it like any other.

What belongs to the selection: an event at a timepoint belongs if the timepoint was selected;
a turn's events if the turn was (its dialog's timepoint, its speaker, the training-safe
filter); an event of no timepoint if its branch is one the selection walks; per-entity events
(state, inner life, knowledge) only for the selected entities, when some are named. The roster
is kept whole, so names resolve. The recorded answers (the cassette) of the calls kept go with
them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from ..model import events as ev
from ..store import Store, StoreError
from .selection import ExportError, Selection
from .tally import Tally

# events appended per transaction, at least: a batch is cut only where a timepoint begins, as a
# simulation commits, so no batch holds a turn of a dialog begun in an earlier batch ahead of a
# dialog of its own (progress is reported after each)
BATCH = 2000
PAGE = 5000  # events read from the source at a time

_TURN_EVENTS = (ev.DialogTurnStarted, ev.DialogTurnFailed, ev.KnowledgeExtractionFailed)


def _timepoint_of(event: ev.EventBase) -> str | None:
    if isinstance(event, ev.TimepointCreated):
        return event.timepoint.timepoint_id
    if isinstance(event, ev.ExposureRecorded):
        return event.exposure.timepoint_id
    found = getattr(event, "timepoint_id", None)
    return found if isinstance(found, str) else None


def _entity_of(event: ev.EventBase) -> str | None:
    """The one entity an event is about, for events that belong to one entity's record."""
    if isinstance(event, ev.ExposureRecorded):
        return event.exposure.entity_id
    if isinstance(event, ev.TensorUpdated | ev.InnerLifeUpdated | ev.QueryAnswered):
        return str(event.entity_id)
    return None


class _Filter:
    """Which of a run's events a selection holds."""

    def __init__(self, selection: Selection) -> None:
        view = selection.view
        self.timepoints = {t.timepoint_id for t in selection.timepoints}
        self.branches = {t.branch_id for t in selection.timepoints}
        if selection.branch is not None:
            self.branches.add(selection.branch)
        elif not selection.timepoints:
            self.branches |= set(view.branches) | {t.branch_id for t in view.timepoints}
        self.entities = set(selection.entities)
        self.turns = {(t.dialog_id, t.turn_index) for t in selection.turns}
        self.dialogs: dict[str, str] = {}  # dialog id -> its timepoint
        self.request_hashes: set[str] = set()

    def keeps(self, event: ev.EventBase) -> bool:
        if isinstance(event, ev.RunStarted | ev.RunResumed | ev.RunFinished):
            return True
        if isinstance(event, ev.DialogStarted):
            self.dialogs[event.dialog_id] = event.timepoint_id
        if isinstance(event, ev.DialogTurnFinished):
            turn = event.turn
            return (turn.dialog_id, turn.turn_index) in self.turns
        if isinstance(event, _TURN_EVENTS):
            if self.dialogs.get(event.dialog_id) not in self.timepoints:
                return False
            speaker = getattr(event, "speaker", None)
            return not (self.entities and speaker is not None and speaker not in self.entities)
        timepoint = _timepoint_of(event)
        if timepoint is not None:
            if timepoint not in self.timepoints:
                return False
        elif event.branch_id not in self.branches:
            return False
        entity = _entity_of(event)
        if self.entities and entity is not None and entity not in self.entities:
            return False
        if isinstance(event, ev.LLMCallFinished):
            self.request_hashes.add(event.request_hash)
        return True


async def _pages(store: Store, run_id: str) -> AsyncIterator[list[ev.EventBase]]:
    after = -1
    while page := await store.events_after(run_id, after, PAGE):
        yield page
        after = page[-1].seq


async def _copy(
    selection: Selection, source: str, target: Path, progress: Callable[[Tally], None] | None
) -> dict[str, int]:
    """Read the run's log a page at a time, keep what the selection holds and append it in
    timepoint-aligned batches: memory holds a page and a batch, never the whole run."""
    run_id = selection.run.run_id
    keep = _Filter(selection)
    tally = Tally()
    pending: list[ev.EventBase] = []

    async def flush(out: Store, upto: int) -> None:
        batch = pending[:upto]
        del pending[:upto]
        await out.append(batch)
        tally.records += len(batch)
        turns = sum(isinstance(e, ev.DialogTurnFinished) for e in batch)
        tally.extra["dialog_turn"] = tally.extra.get("dialog_turn", 0) + turns
        if progress is not None:
            progress(tally)

    async with await Store.open(source, readonly=True) as store, await Store.open(target) as out:
        async for page in _pages(store, run_id):
            for event in page:
                if not keep.keeps(event):
                    continue
                if len(pending) >= BATCH and isinstance(event, ev.TimepointCreated):
                    await flush(out, len(pending))
                pending.append(event)
        if pending:
            await flush(out, len(pending))
        recorded = await store.cassette_for_run(run_id)
        cassette = [c for c in recorded if c.request_hash in keep.request_hashes]
        await out.append((), cassette)
    return {"records": tally.records, "events": tally.records, "cassette_entries": len(cassette)}


def build_database(
    selection: Selection,
    source: str,
    target: Path,
    progress: Callable[[Tally], None] | None = None,
) -> dict[str, int]:
    """Write the database of ``selection`` (a run of the store at ``source``) at ``target``,
    a path that does not exist yet; return its counts. Runs its own event loop in a thread of
    its own, so it may be called from inside another loop or from a worker thread."""
    if source == ":memory:":
        raise ExportError("a database in memory cannot be exported to SQLite")
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["counts"] = asyncio.run(_copy(selection, source, target, progress))
        except BaseException as exc:  # carried to the caller's thread and raised there
            result["error"] = exc

    worker = threading.Thread(target=run, name="timeloom-sqlite-export")
    worker.start()
    worker.join()
    error = result.get("error")
    if isinstance(error, StoreError):
        raise ExportError(str(error)) from error
    if error is not None:
        raise error
    return dict(result["counts"])
