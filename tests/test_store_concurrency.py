"""The store under concurrent use: two processes opening one new database at once, several
writers of one database, and readers assembling a run's summary and rows while it is written
(each read one consistent snapshot). Processes and threads wait on events, never on sleeps."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from pathlib import Path
from typing import Any

from conftest import run_scenario

from engine.llm.offline import OfflineProvider
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store
from engine.store.schema import SCHEMA_VERSION

FORK = multiprocessing.get_context("fork")


def _open_new(path: str, barrier: Any, results: Any) -> None:
    barrier.wait()  # both processes reach the new file at once

    async def go() -> str:
        store = await Store.open(path)
        try:
            return f"ok {await store.schema_version()}"
        finally:
            await store.close()

    try:
        results.put(asyncio.run(go()))
    except Exception as exc:  # reported to the test, which fails naming it
        results.put(f"failed {exc.__class__.__name__}: {exc}")


def test_two_openers_of_a_new_database_both_succeed(tmp_path: Path) -> None:
    outcomes = []
    for trial in range(10):
        path = str(tmp_path / f"new{trial}.db")
        barrier, results = FORK.Barrier(2), FORK.Queue()
        procs = [FORK.Process(target=_open_new, args=(path, barrier, results)) for _ in range(2)]
        for p in procs:
            p.start()
        outcomes += [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
    assert outcomes == [f"ok {SCHEMA_VERSION}"] * 20


def _write_run(path: str, seed: int, barrier: Any, results: Any) -> None:
    barrier.wait()

    async def go() -> str:
        async with await Store.open(path) as store:
            sim = Simulation(
                load_scenario("lighthouse_night"),
                provider=OfflineProvider(seed),
                store=store,
                seed=seed,
            )
            summary = await sim.run()
            return f"{summary.status.value} {summary.run_id}"

    try:
        results.put(asyncio.run(go()))
    except Exception as exc:
        results.put(f"failed {exc.__class__.__name__}: {exc}")


async def test_several_writers_of_one_database_all_succeed(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    barrier, results = FORK.Barrier(3), FORK.Queue()
    procs = [
        FORK.Process(target=_write_run, args=(path, seed, barrier, results)) for seed in (1, 2, 3)
    ]
    for p in procs:
        p.start()
    outcomes = [await asyncio.to_thread(results.get, True, 120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [o.split()[0] for o in outcomes] == ["completed"] * 3, outcomes
    async with await Store.open(path, readonly=True) as store:
        runs = await store.list_runs()
        assert sorted(r.run_id for r in runs) == sorted(o.split()[1] for o in outcomes)
        for r in runs:
            assert r.counts.timepoints == 3 and await store.count("timepoints", r.run_id) == 3


def _agrees(whole: Any) -> list[str]:
    """What a run's summary says against the rows read with it (empty: they agree)."""
    c, view = whole.summary.counts, whole.view
    found = {
        "timepoints": (c.timepoints, len(view.timepoints)),
        "dialog_turns": (
            c.dialog_turns,
            sum(len(view.turns(t.timepoint_id)) for t in view.timepoints),
        ),
        "entities": (c.entities, len(view.entities)),
        "llm_calls": (c.llm_calls, sum(call.calls for call in whole.calls)),
    }
    return [f"{k}: summary {a}, rows {b}" for k, (a, b) in found.items() if a != b]


async def test_readers_during_a_write_see_consistent_snapshots(tmp_path: Path) -> None:
    batches: list[list[Any]] = []  # the run's transactions, as the simulation commits them
    async with await Store.open(tmp_path / "recorded.db") as source:
        append = source.append

        async def recording(events: Any, cassette: Any = ()) -> None:
            batches.append([e for e in events if e.PERSIST])
            await append(events, cassette)

        source.append = recording  # type: ignore[method-assign]
        summary, _ = await run_scenario("vintners_council", source)
    live = tmp_path / "live.db"
    started, done, reading = threading.Event(), threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def writer() -> None:  # the same transactions again, as fast as it can
        async def go() -> None:
            async with await Store.open(live) as store:
                for i, batch in enumerate(batches):
                    await store.append(batch)
                    if i == 0:
                        started.set()
                    await asyncio.to_thread(reading.wait, 30)  # go on once a read is on
                    reading.clear()

        try:
            asyncio.run(go())
        except BaseException as exc:
            failure.append(exc)
        finally:
            started.set()
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    assert await asyncio.to_thread(started.wait, 30)
    reads, disagreements, while_running = 0, [], 0
    async with await Store.open(live, readonly=True) as store:
        while not done.is_set():
            reading.set()
            whole = await store.load_whole(summary.run_id)
            reads += 1
            while_running += whole.summary.finished_at is None  # the run still being written
            disagreements += _agrees(whole)
        final = await store.load_whole(summary.run_id)
    thread.join(timeout=30)
    assert not failure, failure
    assert len(batches) >= 5 and while_running >= len(batches) - 2, (reads, while_running)
    assert disagreements == []
    assert _agrees(final) == [] and final.summary.counts.timepoints == summary.counts.timepoints
