"""The store under concurrent use, many times over: two processes opening one new database at
once, and readers assembling a run's summary and rows while another process writes it.

    python bench/store_faults.py [--openers N] [--reads N] [--writers N]

Prints, for each check, its trials, passes and failures (and the first failures' reasons):

- opener race: N trials, each two processes released together by a barrier onto a new file;
  a trial passes when both open it and find the whole schema;
- read consistency: a writer process runs scenarios into one database (the simulation's own
  transactions) while this process reads the live run's summary and rows together
  (``load_whole``) N times; a read passes when the summary's counts agree with its rows;
- several writers: N processes each run a scenario into one database at once; a trial passes
  when every run completes and its rows are all there.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.llm.offline import OfflineProvider
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store, StoreError
from engine.store.schema import SCHEMA_VERSION

FORK = multiprocessing.get_context("fork")


def report(name: str, trials: int, failures: list[str]) -> None:
    print(f"{name}: trials {trials}, passes {trials - len(failures)}, failures {len(failures)}")
    for reason in failures[:3]:
        print(f"  {reason}")


# --------------------------------------------------------------------------- opener race
def _open(path: str, barrier: Any, results: Any) -> None:
    barrier.wait()

    async def go() -> int:
        store = await Store.open(path)
        try:
            return await store.schema_version()
        finally:
            await store.close()

    try:
        results.put(("ok", asyncio.run(go())))
    except Exception as exc:
        results.put(("failed", f"{exc.__class__.__name__}: {exc}"))


def opener_race(folder: Path, trials: int) -> None:
    failures: list[str] = []
    for trial in range(trials):
        path = str(folder / f"new{trial}.db")
        barrier, results = FORK.Barrier(2), FORK.Queue()
        procs = [FORK.Process(target=_open, args=(path, barrier, results)) for _ in range(2)]
        for p in procs:
            p.start()
        got = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        bad = [g for g in got if g != ("ok", SCHEMA_VERSION)]
        if bad:
            failures.append(f"trial {trial}: {bad[0][1]}")
    report("opener race (two processes, one new database)", trials, failures)


# --------------------------------------------------------------------------- readers
def _simulate(path: str, scenarios: list[str], seed: int, ready: Any, done: Any) -> None:
    async def go() -> None:
        async with await Store.open(path) as store:
            ready.set()
            for i, name in enumerate(scenarios):
                sim = Simulation(
                    load_scenario(name), provider=OfflineProvider(seed + i), store=store, seed=i
                )
                await sim.run()

    try:
        asyncio.run(go())
    finally:
        ready.set()
        done.set()


def disagreement(whole: Any) -> str | None:
    c, view = whole.summary.counts, whole.view
    pairs = {
        "timepoints": (c.timepoints, len(view.timepoints)),
        "dialog_turns": (
            c.dialog_turns,
            sum(len(view.turns(t.timepoint_id)) for t in view.timepoints),
        ),
        "entities": (c.entities, len(view.entities)),
        "llm_calls": (c.llm_calls, sum(call.calls for call in whole.calls)),
    }
    wrong = [f"{k} {a} vs {b} rows" for k, (a, b) in pairs.items() if a != b]
    return ", ".join(wrong) if wrong else None


async def read_consistency(folder: Path, reads: int) -> None:
    path = str(folder / "live.db")
    failures: list[str] = []
    done_reads = live_reads = 0
    round_ = 0
    while done_reads < reads:
        ready, done = FORK.Event(), FORK.Event()
        writer = FORK.Process(
            target=_simulate,
            args=(path, ["vintners_council", "harbor_strike"] * 3, round_, ready, done),
        )
        writer.start()
        await asyncio.to_thread(ready.wait, 60)
        async with await Store.open(path, readonly=True) as store:
            while not done.is_set() and done_reads < reads:
                runs = await store.list_runs(limit=1)
                if not runs:
                    continue
                try:
                    whole = await store.load_whole(runs[0].run_id)
                except StoreError as exc:
                    failures.append(f"read {done_reads}: {exc}")
                    done_reads += 1
                    continue
                done_reads += 1
                live_reads += whole.summary.finished_at is None
                wrong = disagreement(whole)
                if wrong:
                    failures.append(f"read {done_reads} of {whole.summary.run_id}: {wrong}")
        writer.join(timeout=120)
        round_ += 1
    report(
        f"read consistency (summary against rows, {live_reads} reads of a run being written)",
        done_reads,
        failures,
    )


# --------------------------------------------------------------------------- writers
def _write(path: str, seed: int, barrier: Any, results: Any) -> None:
    barrier.wait()

    async def go() -> tuple[str, str]:
        async with await Store.open(path) as store:
            sim = Simulation(
                load_scenario("lighthouse_night"),
                provider=OfflineProvider(seed),
                store=store,
                seed=seed,
            )
            summary = await sim.run()
            return summary.status.value, summary.run_id

    try:
        results.put(asyncio.run(go()))
    except Exception as exc:
        results.put(("failed", f"{exc.__class__.__name__}: {exc}"))


async def several_writers(folder: Path, trials: int, writers: int) -> None:
    failures: list[str] = []
    for trial in range(trials):
        path = str(folder / f"shared{trial}.db")
        barrier, results = FORK.Barrier(writers), FORK.Queue()
        procs = [
            FORK.Process(target=_write, args=(path, seed, barrier, results))
            for seed in range(writers)
        ]
        for p in procs:
            p.start()
        got = [await asyncio.to_thread(results.get, True, 120) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        bad = [g for g in got if g[0] != "completed"]
        if not bad:
            async with await Store.open(path, readonly=True) as store:
                for _, run_id in got:
                    if await store.count("timepoints", run_id) != 3:
                        bad.append(("missing rows", run_id))
        if bad:
            failures.append(f"trial {trial}: {bad[0][1]}")
    report(f"several writers ({writers} processes, one database)", trials, failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--openers", type=int, default=200, help="opener-race trials")
    parser.add_argument("--reads", type=int, default=3000, help="reads during writes")
    parser.add_argument("--writers", type=int, default=20, help="several-writer trials")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        opener_race(folder, args.openers)
        asyncio.run(read_consistency(folder, args.reads))
        asyncio.run(several_writers(folder, args.writers, 4))


if __name__ == "__main__":
    main()
