"""Crash and resume at random points: a run of vintners_council (offline) is stopped at each of
N random points of its log, once by SIGKILL (no clean-up of any kind) and once by SIGTERM (the
command line's own handling: the run is recorded as stopped), then resumed in another process,
and compared with an uninterrupted run of the same scenario and seed.

A SIGKILL trial passes when the killed run reads as interrupted and, resumed, equals the
uninterrupted run event for event (ids included; seqs and RunResumed aside). A SIGTERM trial
passes when the run reads as stopped "stopped by SIGTERM" and, resumed, equals the uninterrupted
run once what the stop recorded is left out (the calls of the timepoint it discarded, which
must each equal the uninterrupted run's call of that id but for the time it was recorded at,
and the stop itself) and the re-made
timepoint's second-attempt call ids read as the first's; its counts are the uninterrupted run's
plus the stop's calls. The suite runs a few fixed points (tests/test_crash_resume.py).

Run by hand: python bench/crash_resume.py [--points 50] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_crash_resume import (  # noqa: E402
    RUN_ID,
    SCENARIO,
    SEED,
    _comparable,
    _kill_at,
    _stop_left_out,
)

from engine.llm.offline import OfflineProvider  # noqa: E402
from engine.model import events as ev  # noqa: E402
from engine.model.common import RunStatus  # noqa: E402
from engine.scenario import load_scenario  # noqa: E402
from engine.simulation import Simulation  # noqa: E402
from engine.store import Store  # noqa: E402


async def uninterrupted(folder: Path) -> tuple[list[dict], list[ev.EventBase]]:
    store = await Store.open(folder / "whole.db")
    try:
        await Simulation(
            load_scenario(SCENARIO),
            provider=OfflineProvider(SEED),
            store=store,
            seed=SEED,
            run_id=RUN_ID,
        ).run()
        events = await store.events(RUN_ID)
        return _comparable(events), events
    finally:
        await store.close()


def points(events: list[ev.EventBase], n: int, rng: random.Random) -> list[tuple[str, int]]:
    """``n`` random points of the log: the k-th event of a type, as the child counts them."""
    seen: dict[str, int] = {}
    every = []
    for e in events:
        kind = e.type  # type: ignore[attr-defined]
        seen[kind] = seen.get(kind, 0) + 1
        if kind not in ("run_started", "run_finished"):  # a stop needs a run under way
            every.append((kind, seen[kind]))
    return rng.sample(every, n)


async def trial(folder: Path, whole: list[dict], kind: str, n: int, how: str) -> tuple[bool, str]:
    db = folder / f"{how}-{kind}-{n}.db"
    try:
        said = _kill_at(db, kind, n, how)
    except AssertionError as exc:
        return False, str(exc).splitlines()[0]
    store = await Store.open(db)
    try:
        run = await store.get_run(RUN_ID)
        if how == "KILL" and run.status is not RunStatus.INTERRUPTED:
            return False, f"killed, the run reads {run.status.value}"
        if how == "TERM" and (
            said != "stopped: stopped by SIGTERM"
            or (run.status, run.status_reason) != (RunStatus.STOPPED, "stopped by SIGTERM")
        ):
            return False, f"terminated, the run reads {run.status.value} ({run.status_reason})"
        sim = await Simulation.resume(store, RUN_ID, provider=OfflineProvider(SEED))
        summary = await sim.run()
        if summary.status is not RunStatus.COMPLETED:
            return False, f"resumed, it ended {summary.status.value}"
        events = await store.events(RUN_ID)
        if how == "KILL":
            same = _comparable(events) == whole
            return same, "" if same else "resumed, it differs from the uninterrupted run"
        left, stop_calls = _stop_left_out(events)
        counts, last = left[-1].pop("counts"), dict(whole[-1])
        expected = last.pop("counts")
        by_id = {d["call_id"]: d for d in whole if d["type"] == "llm_call_finished"}
        ok = (
            left[:-1] == whole[:-1]
            and left[-1] == last
            and all(
                {**by_id.get(d["call_id"], {}), "sim_time": None} == {**d, "sim_time": None}
                for d in _comparable(stop_calls)
            )
            and counts["llm_calls"] == expected["llm_calls"] + len(stop_calls)
            and counts["dialog_turns"] == expected["dialog_turns"]
            and counts["timepoints"] == expected["timepoints"]
        )
        return ok, "" if ok else "resumed, it differs from the uninterrupted run"
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        whole, events = await uninterrupted(folder)
        chosen = points(events, args.points, rng)
        print(f"{SCENARIO}, seed {SEED}: {len(events)} events; {len(chosen)} random points")
        totals = {}
        for how in ("KILL", "TERM"):
            passes, failures = 0, []
            for kind, n in chosen:
                ok, why = await trial(folder, whole, kind, n, how)
                if ok:
                    passes += 1
                else:
                    failures.append(f"{kind} #{n}: {why}")
            totals[how] = (len(chosen), passes, len(chosen) - passes)
            print(f"SIG{how}: trials {len(chosen)}, passes {passes}, failures {len(failures)}")
            for line in failures:
                print(f"  failed at {line}")
        trials = sum(t for t, _, _ in totals.values())
        passes = sum(p for _, p, _ in totals.values())
        print(f"all: trials {trials}, passes {passes}, failures {trials - passes}")


if __name__ == "__main__":
    asyncio.run(main())
