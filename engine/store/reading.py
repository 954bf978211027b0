"""The store's read methods: each returns records or models, read in one transaction."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..model import events as ev
from ..model.common import RunStatus
from ..model.entity import EntityProfile
from ..model.records import BranchInfo, CallModel, EntityRecords, MomentRecords, RunSnapshot
from ..model.run import RunSummary
from ..view.runview import RunView
from . import cassettes, convergence, readers
from .errors import AmbiguousRunError, StoreError, UnknownRunError, check_id, damaged
from .leases import Leases

T = TypeVar("T")

TABLES = frozenset(
    {
        "events",
        "fidelity",
        "branches",
        "entities",
        "entity_states",
        "timepoints",
        "causal_edges",
        "dialogs",
        "dialog_turns",
        "exposure_events",
        "relationships",
        "scenes",
        "inner_lives",
        "llm_calls",
        "validations",
        "queries",
        "lookups",
        "portal_searches",
        "portal_candidates",
        "portal_paths",
        "portal_divergence",
        "portal_pivots",
        "portal_failures",
    }
)


@dataclass(frozen=True)
class WholeRun:
    """Everything stored about one run, read in one transaction (:meth:`Readers.load_whole`)."""

    summary: RunSummary
    view: RunView  # every timepoint's dialog and every entity's knowledge loaded
    warnings: tuple[str, ...]
    branches: tuple[BranchInfo, ...]
    scenario: dict[str, Any]
    events: list[ev.EventBase]
    calls: tuple[CallModel, ...]


class Readers:
    """The typed readers, mixed into :class:`~engine.store.store.Store`, which provides the
    path, the leases and ``_read`` (one read transaction in the store's thread)."""

    path: str
    leases: Leases
    _read: Callable[..., Awaitable[Any]]

    def _summary(self, row: Any) -> RunSummary:
        """A run row as a summary: a run that says ``running`` while nobody holds its lease
        was interrupted (its process died); one that is held names its writer."""
        with damaged(self.path, str(row["run_id"]), "run row"):
            summary = readers.summary(row)
        if summary.status is not RunStatus.RUNNING:
            return summary
        if not self.leases.is_held(summary.run_id):
            return summary.model_copy(update={"status": RunStatus.INTERRUPTED})
        return summary.model_copy(update={"owner": readers.owner_of(row)})

    # ------------------------------------------------------------------ runs
    async def list_runs(self, limit: int | None = None) -> list[RunSummary]:
        rows = await self._read(readers.run_rows, None, limit)
        return [self._summary(r) for r in rows]

    async def resolve_run_id(self, run_id: str) -> str:
        """The full id of the run ``run_id`` names exactly or as a unique prefix."""
        check_id(run_id)
        ids = await self._read(readers.matching_ids, run_id)
        if not ids:
            raise UnknownRunError(f"there is no run {run_id!r} in {self.path}")
        if len(ids) > 1:
            listed = ", ".join(ids[:5])
            raise AmbiguousRunError(
                f"{run_id!r} matches several runs ({listed}); give more of the id"
            )
        return ids[0]

    async def get_run(self, run_id: str) -> RunSummary:
        full = await self.resolve_run_id(run_id)
        rows = await self._read(readers.run_rows, full, None)
        return self._summary(rows[0])

    async def branches(self, run_id: str) -> tuple[BranchInfo, ...]:
        """The run's branches, the main one first, in the order they were made."""
        return await self._read(readers.branches, run_id)

    async def branch(self, run_id: str, branch_id: str) -> BranchInfo:
        """One branch of a run (StoreError when the run has no such branch)."""
        found = await self._read(readers.branch, run_id, branch_id)
        if found is None:
            raise StoreError(f"the run {run_id} has no branch {branch_id!r}")
        return found

    async def run_warnings(self, run_id: str) -> list[str]:
        return list(await self._read(readers.warnings, run_id))

    async def events(self, run_id: str) -> list[ev.EventBase]:
        def read(conn: Any) -> list[str]:
            rows = conn.execute(
                "SELECT payload FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
            ).fetchall()
            return [r[0] for r in rows]

        payloads = await self._read(read, run=run_id)
        with damaged(self.path, run_id, "event"):
            return [ev.parse_event(p) for p in payloads]

    async def events_after(self, run_id: str, after_seq: int, limit: int) -> list[ev.EventBase]:
        """At most ``limit`` of a run's events with a ``seq`` above ``after_seq``, in order: a
        long run's log read a page at a time (pass the last ``seq`` of a page for the next)."""

        def read(conn: Any) -> list[str]:
            rows = conn.execute(
                "SELECT payload FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (run_id, after_seq, limit),
            ).fetchall()
            return [r[0] for r in rows]

        payloads = await self._read(read, run=run_id)
        with damaged(self.path, run_id, "event"):
            return [ev.parse_event(p) for p in payloads]

    async def portal_events(self, run_id: str) -> list[ev.EventBase]:
        """A run's PORTAL events (its search, what it kept, the analysis), in order: what
        :meth:`PortalView.of <engine.view.portal.PortalView.of>` folds. Only those rows of the
        log are read, so this stays quick for a long run; a run of another mode has none."""
        return await self._read(readers.portal_events, run_id)

    async def last_seq(self, run_id: str) -> int:
        def read(conn: Any) -> int:
            row = conn.execute("SELECT last_seq FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            return int(row[0]) if row else 0

        return await self._read(read, run=run_id)

    # ------------------------------------------------------------------ replay
    async def run_descriptor(self, run_id: str) -> dict[str, Any]:
        """What a replay needs to know about a recorded run: its ``RunStarted`` event and its
        calls' attempts, from this database's runs or from an imported cassette. ``run_id``
        may be a unique prefix."""
        try:
            full = await self.resolve_run_id(run_id)
        except UnknownRunError:
            imported = await self._read(cassettes.imported_descriptor, run_id)
            if imported is not None:
                return imported
            raise

        def read(conn: Any) -> tuple[str | None, list[dict[str, Any]]]:
            row = conn.execute(
                "SELECT payload FROM events WHERE run_id = ? AND type = 'run_started'", (full,)
            ).fetchone()
            return (row[0] if row else None), cassettes.attempts(conn, full)

        payload, attempts = await self._read(read, run=full)
        if payload is None:
            raise UnknownRunError(f"the run {full} has no recorded start in {self.path}")
        with damaged(self.path, full, "event"):
            descriptor = json.loads(payload)
        descriptor["attempts"] = attempts
        return descriptor

    async def run_attempts(self, run_id: str) -> list[dict[str, Any]]:
        """Every attempt of every call a run made, in order (see ``Transcripts``)."""
        return await self._read(cassettes.attempts, run_id)

    # ------------------------------------------------------------------ the read model
    async def read_snapshot(self, run_id: str) -> tuple[RunSummary, RunSnapshot]:
        """A run's summary and everything to show any of its moments but dialog and
        knowledge, read together. ``run_id`` may be a unique prefix."""
        full = await self.resolve_run_id(run_id)

        def read(conn: Any) -> tuple[Any, RunSnapshot]:
            return readers.run_rows(conn, full, None)[0], readers.snapshot(conn, full)

        row, snapshot = await self._read(read, run=full)
        return self._summary(row), snapshot

    async def read_moments(
        self, run_id: str, timepoint_ids: Sequence[str] | None = None
    ) -> MomentRecords:
        """The dialog, scenes and questions of some timepoints (None: all of them)."""
        return await self._read(readers.moments, run_id, timepoint_ids)

    async def read_entities(
        self, run_id: str, entity_id: str | None = None
    ) -> dict[str, EntityRecords]:
        """Exposures and inner lives by entity (None: every entity)."""
        return await self._read(readers.entity_records, run_id, entity_id)

    async def read_profile(self, run_id: str, entity_id: str) -> EntityProfile | None:
        return await self._read(readers.profile, run_id, entity_id)

    async def read_call_models(self, run_id: str) -> list[CallModel]:
        return await self._read(readers.call_models, await self.resolve_run_id(run_id))

    async def read_budget(self, run_id: str) -> dict[str, Any] | None:
        """The budget a run last started or resumed with (``Budget.describe()``), if any."""
        return await self._read(readers.budget, run_id)

    async def read_scenario(self, run_id: str) -> dict[str, Any] | None:
        """The scenario a run was made from, as it was recorded."""
        return await self._read(readers.scenario_data, run_id)

    async def load_view(self, run_id: str, *, everything: bool = False) -> RunView:
        """The read model of a stored run. Without ``everything``, dialog and knowledge are
        left to be read when they are looked at (what the explorer does); with it, every
        timepoint's dialog and every entity's knowledge are read too, in the same
        transaction (what ``show`` and exports do)."""
        return (await self._load(run_id, everything))[1]

    async def load_run(self, run_id: str) -> tuple[RunSummary, RunView]:
        """A run's summary and its whole read model, read in one transaction (they agree
        while the run is being written). ``run_id`` may be a unique prefix."""
        return await self._load(run_id, True)

    async def _load(self, run_id: str, everything: bool) -> tuple[RunSummary, RunView]:
        full = await self.resolve_run_id(run_id)

        def read(conn: Any) -> tuple[Any, ...]:
            row = readers.run_rows(conn, full, None)[0]
            snapshot = readers.snapshot(conn, full)
            if not everything:
                return row, snapshot, None, None
            return (
                row,
                snapshot,
                readers.moments(conn, full, None),
                readers.entity_records(conn, full, None),
            )

        row, snapshot, moments, entities = await self._read(read, run=full)
        return self._summary(row), self._view(row, snapshot, moments, entities)

    def _view(
        self,
        row: Any,
        snapshot: RunSnapshot,
        moments: MomentRecords | None,
        entities: dict[str, EntityRecords] | None,
    ) -> RunView:
        summary = self._summary(row)
        with damaged(self.path, summary.run_id):
            view = RunView.from_snapshot(summary, snapshot)
            if moments is not None and entities is not None:
                view.add_moments([t.timepoint_id for t in view.timepoints], moments)
                for entity_id in view.entities:
                    records = entities.get(entity_id) or EntityRecords((), ())
                    view.add_entity_records(entity_id, records)
        return view

    async def load_whole(self, run_id: str) -> WholeRun:
        """A run's summary, its whole read model, warnings, branches, scenario, events and
        call models, all read in one transaction: one consistent state of the run even while
        it is being written, the summary agreeing with the rows (what ``show`` and exports
        read). ``run_id`` may be a unique prefix."""
        full = await self.resolve_run_id(run_id)

        def read(conn: Any) -> tuple[Any, ...]:
            row = readers.run_rows(conn, full, None)[0]
            snapshot = readers.snapshot(conn, full)
            payloads = conn.execute(
                "SELECT payload FROM events WHERE run_id = ? ORDER BY seq", (full,)
            ).fetchall()
            return (
                row,
                snapshot,
                readers.moments(conn, full, None),
                readers.entity_records(conn, full, None),
                readers.scenario_data(conn, full),
                [ev.parse_event(p[0]) for p in payloads],
                readers.call_models(conn, full),
            )

        row, snapshot, moments, entities, scenario, events, calls = await self._read(read, run=full)
        view = self._view(row, snapshot, moments, entities)
        return WholeRun(
            self._summary(row),
            view,
            snapshot.warnings,
            snapshot.branches,
            scenario or {},
            events,
            tuple(calls),
        )

    # ------------------------------------------------------------------ convergence sets
    async def convergence_sets(self, limit: int | None = None) -> list[convergence.ConvergenceRow]:
        """The stored convergence sets, newest first (their results are not read)."""
        return await self._read(convergence.list_sets, limit)

    async def convergence_set(self, set_id: str) -> convergence.ConvergenceRow:
        """One convergence set by id or unique prefix, with its result (StoreError if none)."""
        check_id(set_id, "convergence set")
        return await self._read(convergence.get_set, set_id, self.path)

    # ------------------------------------------------------------------ raw tables (tests)
    async def table(self, name: str, run_id: str, order: str = "rowid") -> list[dict[str, Any]]:
        """All rows of one materialized table for a run, as dicts (for tests and debugging;
        commands and screens use the typed readers above)."""
        if (
            name not in TABLES
            or not order.replace("_", "").replace(",", "").replace(" ", "").isalnum()
        ):
            raise ValueError(f"unknown table {name} or order {order}")

        def read(conn: Any) -> list[dict[str, Any]]:
            cursor = conn.execute(
                f"SELECT * FROM {name} WHERE run_id = ? ORDER BY {order}", (run_id,)
            )
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

        return await self._read(read, run=run_id)

    async def count(self, name: str, run_id: str) -> int:
        if name not in TABLES:
            raise ValueError(f"unknown table {name}")

        def read(conn: Any) -> int:
            sql = f"SELECT COUNT(*) FROM {name} WHERE run_id = ?"
            return int(conn.execute(sql, (run_id,)).fetchone()[0])

        return await self._read(read, run=run_id)
