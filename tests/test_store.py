"""The store: migrations, round trips, atomic timepoints, and errors a user can cause."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import ScriptedProvider, persisted, run_scenario

from engine.llm.protocol import ActionType
from engine.model import events as ev
from engine.store import Store, StoreError, UnknownRunError
from engine.store.schema import SCHEMA_VERSION


async def test_migrations_create_the_schema_from_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    store = await Store.open(path)
    assert await store.schema_version() == SCHEMA_VERSION
    await store.close()
    tables = {
        r[0]
        for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {
        "runs",
        "events",
        "entities",
        "entity_states",
        "timepoints",
        "dialogs",
        "dialog_turns",
        "exposure_events",
        "relationships",
        "causal_edges",
        "llm_calls",
    } <= tables
    again = await Store.open(path)  # re-opening does not migrate twice
    assert await again.schema_version() == SCHEMA_VERSION
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    await again.close()


async def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(StoreError, match="newer timeloom"):
        await Store.open(path)


async def test_a_file_that_is_not_a_database_gets_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="is not a timeloom database"):
        await Store.open(path)


async def test_an_unwritable_location_gets_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the folder"):
        await Store.open(blocker / "sub" / "runs.db")


async def test_run_round_trip_events_and_tables(store: Store) -> None:
    summary, events = await run_scenario("harbor_strike", store)
    stored = await store.events(summary.run_id)
    assert [e.model_dump() for e in stored] == [e.model_dump() for e in persisted(events)]
    seqs = [e.seq for e in stored]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    c = summary.counts
    assert await store.count("timepoints", summary.run_id) == c.timepoints
    assert await store.count("dialog_turns", summary.run_id) == c.dialog_turns
    assert await store.count("exposure_events", summary.run_id) == c.exposure_events
    assert await store.count("llm_calls", summary.run_id) == c.llm_calls
    assert await store.count("entities", summary.run_id) == c.entities
    # Entity state is kept per timepoint: one initial row plus one per timepoint present.
    states = await store.table("entity_states", summary.run_id)
    per_entity: dict[str, set[str]] = {}
    for row in states:
        per_entity.setdefault(row["entity_id"], set()).add(row["timepoint_id"])
    assert all("" in tps and len(tps) >= 2 for tps in per_entity.values())
    edges = await store.table("causal_edges", summary.run_id)
    assert len(edges) == c.timepoints - 1
    listed = await store.list_runs()
    assert listed[0].run_id == summary.run_id and listed[0].tokens == summary.tokens


async def test_run_ids_resolve_by_unique_prefix(store: Store) -> None:
    summary, _ = await run_scenario("lighthouse_night", store)
    assert (await store.get_run(summary.run_id[:-2])).run_id == summary.run_id
    with pytest.raises(UnknownRunError):
        await store.get_run("nope")


async def test_a_timepoint_that_fails_midway_leaves_no_partial_rows(store: Store) -> None:
    # The second timepoint's event call fails every attempt: the run stops there.
    provider = ScriptedProvider(
        fail=lambda req, n: req.action is ActionType.TIMEPOINT_EVENT and n >= 2
    )
    provider.retryable = False
    summary, events = await run_scenario("orbital_audit", store, provider=provider)
    assert summary.status.value == "failed"
    assert "timepoint 2" in (summary.status_reason or "")
    timepoints = await store.table("timepoints", summary.run_id, order="idx")
    assert [t["timepoint_id"] for t in timepoints] == ["tp01"]
    turns = await store.table("dialog_turns", summary.run_id)
    assert {t["timepoint_id"] for t in turns} == {"tp01"}
    failed = [e for e in events if isinstance(e, ev.TimepointFailed)]
    assert len(failed) == 1 and failed[0].index == 1
    stored_types = [e.type for e in await store.events(summary.run_id)]
    assert stored_types[-2:] == ["timepoint_failed", "run_finished"]
    # The calls the failed timepoint spent are kept, each as its own row: none is lost.
    calls = await store.table("llm_calls", summary.run_id)
    assert summary.counts.llm_calls == len(calls)
    spent_on_tp02 = [c for c in calls if c["timepoint_id"] == "tp02"]
    assert spent_on_tp02 and all(c["status"] == "failed" for c in spent_on_tp02)
    # The live stream said what would never be stored.
    discarded = [e for e in events if isinstance(e, ev.EventsDiscarded)]
    assert len(discarded) <= 1


async def test_a_failing_batch_is_rolled_back_entirely(store: Store) -> None:
    summary, _ = await run_scenario("lighthouse_night", store)
    events_before = await store.count("events", summary.run_id)
    validations_before = await store.count("validations", summary.run_id)
    fresh = ev.ValidationReported(
        run_id=summary.run_id,
        seq=10_000,
        validator="v",
        entity_id="tomas_vey",
        timepoint_id=None,
        valid=True,
    )
    clash = ev.ValidationReported(
        run_id=summary.run_id,
        seq=1,
        validator="v",
        entity_id="tomas_vey",
        timepoint_id=None,
        valid=True,
    )
    with pytest.raises(StoreError):
        await store.append([fresh, clash])  # seq 1 already exists: nothing may be written
    assert await store.count("events", summary.run_id) == events_before
    assert await store.count("validations", summary.run_id) == validations_before


async def test_a_whole_run_is_read_in_order_without_sorting(tmp_path: Path) -> None:
    """Each table a whole run is read from has an index in the order it happened, so loading
    a long run walks it instead of sorting it (SQLite's plan names a temporary tree when it
    has to sort)."""
    path = tmp_path / "plan.db"
    store = await Store.open(path)
    await store.close()
    conn = sqlite3.connect(path)
    for table in (
        "exposure_events",
        "entity_states",
        "relationships",
        "inner_lives",
        "dialog_turns",
        "timepoints",
        "scenes",
    ):
        plan = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE run_id = ? ORDER BY seq", ("r",)
        ).fetchall()
        text = " ".join(str(row[-1]) for row in plan)
        assert "TEMP B-TREE" not in text, (table, text)
