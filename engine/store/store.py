"""The store: one object over one long-lived aiosqlite connection, and the only place with SQL.

It is the only writer. ``append`` writes a batch of events and every table they change in one
transaction, so a timepoint is either wholly in the database or not at all; the run row's
counters are folded from the same events by the one run fold (:class:`RunTally`). Readers
return records and models and read inside one transaction, a consistent snapshot. Errors a user
can cause (a path that cannot be opened, a file that is not a database, a database locked by
another program, one written by a newer version, a full disk) become :class:`StoreError` with
one clear sentence.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from ..model import events as ev
from ..model.cassette import CassetteEntry
from ..view.tally import COLUMNS, RunTally
from . import cassettes, convergence, opening, readers
from .checking import PendingCheck
from .errors import damaged, explain
from .leases import Leases, RunHeldError
from .projections import PROJECTIONS
from .reading import Readers

T = TypeVar("T")
Steps = list[tuple[str, Any, bool]]


class Store(Readers):
    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self.path = path
        self.leases = Leases(path)
        self.readonly = False
        self._check: PendingCheck | None = None  # a large store's check, run while it is read

    # ------------------------------------------------------------------ opening
    @classmethod
    async def open(cls, path: str | Path, *, readonly: bool = False) -> Store:
        """Open the database at ``path``: for writing (creating it if needed and bringing its
        schema up to date) or, with ``readonly``, only to read a timeloom database that exists
        (nothing is created or changed). See :mod:`.opening`."""
        path = str(path)
        opening.check_path(path, readonly=readonly)
        conn = await opening.connect(path, readonly=readonly)
        store = cls(conn, path)
        store.readonly = readonly
        prepare = opening.prepare_reader if readonly else opening.prepare_writer
        try:
            if await store._in_thread(prepare, path):
                store._check = PendingCheck(path)  # writes wait for it (see .checking)
        except BaseException:
            await conn.close()
            raise
        return store

    async def close(self) -> None:
        if self._check is not None:
            self._check.cancel()
        self.leases.release_all()
        await self._conn.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        async with self._conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ running in the thread
    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(sqlite3_connection, *args)`` in aiosqlite's thread: one hop for a whole
        transaction, which is most of the store's throughput."""
        conn = self._conn

        def call() -> T:
            return fn(conn._conn, *args)

        try:
            return await conn._execute(call)
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from exc

    async def _read(self, fn: Callable[..., T], *args: Any, run: str | None = None) -> T:
        """``fn`` inside one read transaction: it sees one consistent state of the database.
        A row it cannot map back (damaged by hand or by another program) is one sentence that
        names the run (``run``, else the first text argument: :class:`DamagedRowError`)."""
        run_id = run or next((a for a in args if isinstance(a, str)), None)
        with damaged(self.path, run_id):
            return await self._in_thread(_reading, fn, *args)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn`` inside one write transaction, rolled back whole on any error; a large
        store's first write waits for its check, and a damaged store takes none."""
        if self._check is not None:
            await self._check.wait()
            self._check = None
        return await self._in_thread(_writing, fn, *args)

    # ------------------------------------------------------------------ writing
    async def append(
        self, events: Sequence[ev.EventBase], cassette: Sequence[CassetteEntry] = ()
    ) -> None:
        """Append events and update the tables they change, all in one transaction; cassette
        entries recorded while making those events are written in the same transaction.

        Events that are not persisted (streamed chunks) are skipped.
        """
        persisted = [e for e in events if e.PERSIST]
        if not persisted and not cassette:
            return
        await self._write(_run_steps, _append_steps(persisted, cassette))

    async def import_cassette(
        self, runs: Sequence[dict[str, Any]], entries: Sequence[CassetteEntry]
    ) -> int:
        """Add a cassette file's entries and run descriptions; return how many entries were new."""
        return await self._write(cassettes.import_entries, runs, entries)

    async def cassette_get(self, request_hash: str) -> CassetteEntry | None:
        return await self._in_thread(cassettes.get, request_hash)

    async def cassette_for_run(self, run_id: str) -> list[CassetteEntry]:
        """The recorded answers a run used (in the order it first asked for them)."""
        return await self._read(cassettes.for_run, run_id)

    async def cassette_count(self) -> int:
        return await self._in_thread(
            lambda c: int(c.execute("SELECT COUNT(*) FROM cassette").fetchone()[0])
        )

    async def save_convergence_set(
        self,
        set_id: str,
        created_at: str,
        scenario: str,
        score: float,
        grade: str,
        result: dict[str, Any],
        members: Sequence[tuple[str, int]],
    ) -> None:
        """Record a convergence set and its member runs ``(run id, seed)`` in one transaction."""
        await self._write(
            convergence.insert, set_id, created_at, scenario, score, grade, result, members
        )

    # ------------------------------------------------------------------ leases
    async def take_lease(self, run_id: str) -> None:
        """Become the writer of ``run_id`` (see :mod:`.leases`), and record which process that
        is, for the sentence that names it. Raises :class:`RunHeldError` when another writer
        holds it, naming that writer."""
        try:
            self.leases.hold(run_id)
        except RunHeldError as exc:
            owner = await self._read(readers.owner, run_id)
            raise RunHeldError(f"{exc}{f' ({owner})' if owner else ''}") from exc
        since = datetime.now(UTC).isoformat()
        try:
            await self._write(
                lambda c: c.execute(
                    "INSERT OR REPLACE INTO live_runs (run_id, pid, host, since) VALUES (?,?,?,?)",
                    (run_id, os.getpid(), socket.gethostname(), since),
                )
            )
        except BaseException:
            self.leases.release(run_id)
            raise

    async def end_lease(self, run_id: str) -> None:
        """Stop being the writer of ``run_id``."""
        if not self.leases.holds(run_id):
            return
        try:
            await self._write(
                lambda c: c.execute("DELETE FROM live_runs WHERE run_id = ?", (run_id,))
            )
        finally:
            self.leases.release(run_id)


def _reading(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> T:
    conn.execute("BEGIN")
    try:
        return fn(conn, *args)
    finally:
        conn.execute("COMMIT")


def _writing(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
    except BaseException:
        if conn.in_transaction:  # a full disk may already have ended the transaction
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _append_steps(persisted: Iterable[ev.EventBase], cassette: Sequence[CassetteEntry]) -> Steps:
    """The statements of one append, in order: new runs, cassette entries, the events, their
    projections (grouped for executemany, inserts first) and the run rows' counters."""
    run_rows: list[tuple[str, tuple[Any, ...]]] = []
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    event_rows: list[tuple[Any, ...]] = []
    tallies: dict[str, RunTally] = defaultdict(RunTally)
    last_seq: dict[str, int] = {}
    for event in persisted:
        event_rows.append(
            (
                event.run_id,
                event.seq,
                event.type,  # type: ignore[attr-defined]
                event.branch_id,
                event.sim_time.isoformat() if event.sim_time else None,
                event.model_dump_json(),
            )
        )
        projection = PROJECTIONS.get(type(event))
        if projection is not None:
            rows = projection(event)
            if isinstance(event, ev.RunStarted):
                run_rows.extend(rows)
            else:
                for sql, params in rows:
                    groups[sql].append(params)
        tallies[event.run_id].add(event)
        last_seq[event.run_id] = max(last_seq.get(event.run_id, 0), event.seq)
    steps: Steps = [(sql, params, False) for sql, params in run_rows]
    if cassette:
        steps.append((cassettes.INSERT, [cassettes.row(c) for c in cassette], True))
    if event_rows:
        steps.append(
            (
                "INSERT INTO events (run_id, seq, type, branch_id, sim_time, payload) "
                "VALUES (?,?,?,?,?,?)",
                event_rows,
                True,
            )
        )
    # Equal statements run together, in the order each first appeared, but a batch's inserts
    # before its updates: an update then never runs before the insert of the row it changes,
    # whatever the order of the events within the batch.
    ordered = sorted(groups.items(), key=lambda group: not group[0].startswith("INSERT"))
    steps.extend((sql, rows, True) for sql, rows in ordered)
    assignments = ", ".join(f"{name} = {name} + ?" for name in COLUMNS)
    for run_id, tally in tallies.items():
        delta = tally.as_dict()
        steps.append(
            (
                f"UPDATE runs SET {assignments}, last_seq = MAX(last_seq, ?) WHERE run_id = ?",
                (*[delta[name] for name in COLUMNS], last_seq[run_id], run_id),
                False,
            )
        )
    return steps


def _run_steps(conn: sqlite3.Connection, steps: Steps) -> None:
    for sql, params, many in steps:
        if many:
            conn.executemany(sql, params)
        else:
            conn.execute(sql, params)
