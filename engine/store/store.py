"""The store: one object over one long-lived aiosqlite connection.

It is the only writer. ``append`` writes a batch of events and every table they change in one
transaction, so a timepoint is either wholly in the database or not at all. Readers map rows back
to models. Errors a user can cause (a path that cannot be opened, a file that is not a database,
a database locked by another program, one written by a newer version) become
:class:`StoreError` with one clear sentence.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from ..model import events as ev
from ..model.cassette import CassetteEntry
from ..model.common import RunStatus, TemporalMode
from ..model.run import RunCounts, RunSummary
from .projections import PROJECTIONS, run_deltas
from .schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 5000
COUNTERS = (
    "entities",
    "timepoints",
    "dialog_turns",
    "exposure_events",
    "llm_calls",
    "failed_steps",
    "tokens_in",
    "tokens_out",
    "cost_usd",
    "cached_calls",
)
_CASSETTE_COLUMNS = (
    "request_hash, provider, model, action, response_text, parsed_json, prompt_tokens, "
    "completion_tokens, cost_usd, latency_ms"
)


class StoreError(Exception):
    """A database problem explained in one sentence."""


class UnknownRunError(StoreError):
    pass


class AmbiguousRunError(StoreError):
    pass


def _explain(exc: Exception, path: str) -> StoreError:
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "file is encrypted" in text:
        return StoreError(
            f"{path} is not a timeloom database (the file is not valid SQLite or is damaged)"
        )
    if "locked" in text or "busy" in text:
        return StoreError(f"{path} is locked by another program; close it and try again")
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        return StoreError(
            f"cannot open {path} for writing; check that the folder exists and is writable"
        )
    if "disk" in text and ("full" in text or "i/o" in text):
        return StoreError(f"cannot write to {path}: the disk is full or failing")
    return StoreError(f"database error in {path}: {exc}")


class Store:
    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self.path = path

    # ------------------------------------------------------------------ opening
    @classmethod
    async def open(cls, path: str | Path) -> Store:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
        path = str(path)
        if path != ":memory:":
            parent = Path(path).expanduser().resolve().parent
            if not parent.is_dir():
                try:
                    parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(
                        f"cannot create the folder {parent} for the database: {exc.strerror}"
                    ) from exc
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise _explain(exc, path) from exc
        store = cls(conn, path)
        try:
            await store._prepare()
        except sqlite3.Error as exc:
            await conn.close()
            raise _explain(exc, path) from exc
        except StoreError:
            await conn.close()
            raise
        return store

    async def _prepare(self) -> None:
        conn = self._conn
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        async with conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer timeloom (schema {version}, this one "
                f"understands up to {SCHEMA_VERSION}); upgrade timeloom to open it"
            )
        for number in range(version, SCHEMA_VERSION):
            await conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {number + 1}")
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        await self._conn.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        async with self._conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

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
        run_rows: list[tuple[str, tuple[Any, ...]]] = []
        groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        event_rows: list[tuple[Any, ...]] = []
        deltas: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
        last_seq: dict[str, int] = {}
        for event in persisted:
            event_rows.append(
                (
                    event.run_id,
                    event.seq,
                    event.type,
                    event.branch_id,  # type: ignore[attr-defined]
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
            run_deltas(event, deltas[event.run_id])
            last_seq[event.run_id] = max(last_seq.get(event.run_id, 0), event.seq)
        # The whole transaction as a list of (sql, rows, many) steps, run in one go.
        steps: list[tuple[str, Any, bool]] = [(sql, params, False) for sql, params in run_rows]
        if cassette:
            steps.append(
                (
                    f"INSERT OR IGNORE INTO cassette ({_CASSETTE_COLUMNS}, created_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [_cassette_row(c) for c in cassette],
                    True,
                )
            )
        if event_rows:
            steps.append(
                (
                    "INSERT INTO events (run_id, seq, type, branch_id, sim_time, payload) "
                    "VALUES (?,?,?,?,?,?)",
                    event_rows,
                    True,
                )
            )
        steps.extend((sql, rows, True) for sql, rows in groups.items())
        assignments = ", ".join(f"{name} = {name} + ?" for name in COUNTERS)
        for run_id, delta in deltas.items():
            steps.append(
                (
                    f"UPDATE runs SET {assignments}, last_seq = MAX(last_seq, ?) WHERE run_id = ?",
                    (*[delta[name] for name in COUNTERS], last_seq[run_id], run_id),
                    False,
                )
            )
        try:
            await self._transaction(steps)
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from exc

    async def _transaction(self, steps: list[tuple[str, Any, bool]]) -> None:
        """Run the steps in one transaction. aiosqlite hops to its thread once per statement;
        when it offers its internal ``_execute`` (every version so far), the whole transaction
        is one hop, which is most of the store's write throughput."""
        conn = self._conn
        run_in_thread = getattr(conn, "_execute", None)
        if run_in_thread is not None:
            await run_in_thread(_run_steps, conn, steps)
            return
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, params, many in steps:
                if many:
                    await conn.executemany(sql, params)
                else:
                    await conn.execute(sql, params)
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise

    async def import_cassette(
        self, runs: Sequence[dict[str, Any]], entries: Sequence[CassetteEntry]
    ) -> int:
        """Add a cassette file's entries and run descriptions; return how many entries were new."""
        now = datetime.now(UTC).isoformat()
        conn = self._conn
        try:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                async with conn.execute("SELECT COUNT(*) FROM cassette") as cursor:
                    before = (await cursor.fetchone() or (0,))[0]
                await conn.executemany(
                    f"INSERT OR IGNORE INTO cassette ({_CASSETTE_COLUMNS}, created_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [_cassette_row(c) for c in entries],
                )
                await conn.executemany(
                    "INSERT OR REPLACE INTO cassette_runs (run_id, descriptor_json, imported_at) "
                    "VALUES (?,?,?)",
                    [(r["run_id"], json.dumps(r, separators=(",", ":")), now) for r in runs],
                )
                async with conn.execute("SELECT COUNT(*) FROM cassette") as cursor:
                    after = (await cursor.fetchone() or (0,))[0]
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from exc
        return int(after) - int(before)

    # ------------------------------------------------------------------ cassettes
    async def cassette_get(self, request_hash: str) -> CassetteEntry | None:
        rows = await self._all(
            f"SELECT {_CASSETTE_COLUMNS} FROM cassette WHERE request_hash = ?", (request_hash,)
        )
        return _cassette_entry(rows[0]) if rows else None

    async def cassette_for_run(self, run_id: str) -> list[CassetteEntry]:
        """The recorded answers a run used (in the order it first asked for them)."""
        rows = await self._all(
            f"SELECT {', '.join('c.' + c.strip() for c in _CASSETTE_COLUMNS.split(','))} "
            "FROM cassette c JOIN (SELECT request_hash, MIN(seq) AS first FROM llm_calls "
            "WHERE run_id = ? GROUP BY request_hash) l ON l.request_hash = c.request_hash "
            "ORDER BY l.first",
            (run_id,),
        )
        return [_cassette_entry(r) for r in rows]

    async def cassette_count(self) -> int:
        rows = await self._all("SELECT COUNT(*) AS n FROM cassette")
        return int(rows[0]["n"])

    async def run_descriptor(self, run_id: str) -> dict[str, Any]:
        """What a replay needs to know about a recorded run: its ``RunStarted`` event, from this
        database's runs or from an imported cassette. ``run_id`` may be a unique prefix."""
        try:
            full = await self.resolve_run_id(run_id)
        except UnknownRunError:
            rows = await self._all(
                "SELECT descriptor_json FROM cassette_runs WHERE substr(run_id, 1, ?) = ? "
                "ORDER BY run_id LIMIT 2",
                (len(run_id), run_id),
            )
            if len(rows) == 1:
                return json.loads(rows[0]["descriptor_json"])
            raise
        rows = await self._all(
            "SELECT payload FROM events WHERE run_id = ? AND type = 'run_started'", (full,)
        )
        if not rows:
            raise UnknownRunError(f"the run {full} has no recorded start in {self.path}")
        descriptor = json.loads(rows[0]["payload"])
        descriptor["attempts"] = await self.run_attempts(full)
        return descriptor

    async def run_attempts(self, run_id: str) -> list[dict[str, Any]]:
        """Every attempt of every call a run made, in order: what a faithful replay plays
        back (see :class:`engine.llm.cassette.Transcripts`)."""
        rows = await self._all(
            "SELECT call_id, action, model, status, prompt_tokens, completion_tokens, cost_usd, "
            "request_hash, error FROM llm_calls WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------ reading
    async def record_query(self, row: dict[str, Any]) -> None:
        """Store one answered query (its own small transaction: queries are not events of the
        simulation and take no place in its sequence)."""
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        try:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                await self._conn.execute(
                    f"INSERT INTO queries ({columns}) VALUES ({marks})", tuple(row.values())
                )
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from exc

    async def rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query (for read models such as :mod:`engine.runview`)."""
        return await self._all(sql, params)

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        try:
            self._conn.row_factory = sqlite3.Row
            async with self._conn.execute(sql, tuple(params)) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from exc

    @staticmethod
    def _summary(row: sqlite3.Row) -> RunSummary:
        return RunSummary(
            run_id=row["run_id"],
            scenario=row["scenario"],
            title=row["title"],
            mode=TemporalMode(row["mode"]),
            seed=row["seed"],
            config_hash=row["config_hash"],
            provider=row["provider"],
            model=row["model"],
            status=RunStatus(row["status"]),
            status_reason=row["status_reason"],
            counts=RunCounts(
                entities=row["entities"],
                timepoints=row["timepoints"],
                dialog_turns=row["dialog_turns"],
                exposure_events=row["exposure_events"],
                llm_calls=row["llm_calls"],
                failed_steps=row["failed_steps"],
            ),
            planned_timepoints=row["planned_timepoints"],
            tokens_in=row["tokens_in"],
            tokens_out=row["tokens_out"],
            cost_usd=row["cost_usd"],
            started_at=datetime.fromisoformat(row["started_at"]),
            finished_at=datetime.fromisoformat(row["finished_at"]) if row["finished_at"] else None,
            wall_seconds=row["wall_seconds"],
        )

    async def list_runs(self, limit: int | None = None) -> list[RunSummary]:
        sql = "SELECT * FROM runs ORDER BY started_at DESC, run_id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._summary(r) for r in await self._all(sql)]

    async def resolve_run_id(self, run_id: str) -> str:
        """The full id of the run ``run_id`` names exactly or as a unique prefix."""
        rows = await self._all("SELECT run_id FROM runs WHERE run_id = ?", (run_id,))
        if rows:
            return rows[0]["run_id"]
        escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._all(
            "SELECT run_id FROM runs WHERE run_id LIKE ? ESCAPE '\\' ORDER BY run_id LIMIT 6",
            (escaped + "%",),
        )
        if not rows:
            raise UnknownRunError(f"there is no run {run_id!r} in {self.path}")
        if len(rows) > 1:
            ids = ", ".join(r["run_id"] for r in rows[:5])
            raise AmbiguousRunError(f"{run_id!r} matches several runs ({ids}); give more of the id")
        return rows[0]["run_id"]

    async def get_run(self, run_id: str) -> RunSummary:
        full = await self.resolve_run_id(run_id)
        rows = await self._all("SELECT * FROM runs WHERE run_id = ?", (full,))
        return self._summary(rows[0])

    async def run_warnings(self, run_id: str) -> list[str]:
        rows = await self._all("SELECT warnings_json FROM runs WHERE run_id = ?", (run_id,))
        return json.loads(rows[0]["warnings_json"]) if rows else []

    async def events(self, run_id: str) -> list[ev.EventBase]:
        rows = await self._all(
            "SELECT payload FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        )
        return [ev.parse_event(r["payload"]) for r in rows]

    async def timepoints(self, run_id: str) -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT * FROM timepoints WHERE run_id = ? ORDER BY branch_id, idx", (run_id,)
        )
        return [dict(r) for r in rows]

    async def table(self, name: str, run_id: str, order: str = "rowid") -> list[dict[str, Any]]:
        """All rows of one materialized table for a run (used by ``show``, tests and export)."""
        if name not in _TABLES:
            raise ValueError(f"unknown table {name}")
        rows = await self._all(f"SELECT * FROM {name} WHERE run_id = ? ORDER BY {order}", (run_id,))
        return [dict(r) for r in rows]

    async def count(self, name: str, run_id: str) -> int:
        if name not in _TABLES:
            raise ValueError(f"unknown table {name}")
        rows = await self._all(f"SELECT COUNT(*) AS n FROM {name} WHERE run_id = ?", (run_id,))
        return int(rows[0]["n"])


def _cassette_row(c: CassetteEntry) -> tuple[Any, ...]:
    return (
        c.request_hash,
        c.provider,
        c.model,
        c.action,
        c.response_text,
        c.parsed_json,
        c.prompt_tokens,
        c.completion_tokens,
        c.cost_usd,
        c.latency_ms,
        datetime.now(UTC).isoformat(),
    )


def _cassette_entry(row: sqlite3.Row) -> CassetteEntry:
    return CassetteEntry(
        request_hash=row["request_hash"],
        provider=row["provider"],
        model=row["model"],
        action=row["action"],
        response_text=row["response_text"],
        parsed_json=row["parsed_json"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        cost_usd=row["cost_usd"],
        latency_ms=row["latency_ms"],
    )


_TABLES = frozenset(
    {
        "events",
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
    }
)


def _run_steps(conn: aiosqlite.Connection, steps: list[tuple[str, Any, bool]]) -> None:
    """Runs in aiosqlite's thread: one transaction, rolled back whole on any error."""
    raw = conn._conn  # the sqlite3 connection, used only from its own thread
    raw.execute("BEGIN IMMEDIATE")
    try:
        for sql, params, many in steps:
            if many:
                raw.executemany(sql, params)
            else:
                raw.execute(sql, params)
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
