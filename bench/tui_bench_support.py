"""Shared by the TUI benchmarks: a large stored run, made once and cached."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.llm.offline import OfflineProvider
from engine.scenario import load_scenario
from engine.scenario.loader import LoadedScenario
from engine.simulation import Simulation
from engine.store import Store

LARGE_RUN = "bench-large"


def large_scenario(timepoints: int = 500, turns: int = 40) -> LoadedScenario:
    base = load_scenario("vintners_council").scenario
    scenario = base.model_copy(
        update={
            "timeline": base.timeline.model_copy(update={"count": timepoints}),
            "dialog": base.dialog.model_copy(update={"turns": turns, "max_speakers": 6}),
        }
    )
    return LoadedScenario(scenario=scenario, source="bench:large")


async def ensure_large_run(db: Path) -> None:
    """A 500-timepoint, 20,000-turn run in ``db`` (generated offline the first time)."""
    store = await Store.open(db)
    try:
        runs = {r.run_id: r for r in await store.list_runs()}
        if LARGE_RUN in runs and runs[LARGE_RUN].status.value == "completed":
            return
        print(f"generating the large run in {db} (a few minutes, once)...", file=sys.stderr)
        start = time.perf_counter()
        sim = Simulation(
            large_scenario(), provider=OfflineProvider(1), store=store, seed=1, run_id=LARGE_RUN
        )
        summary = await sim.run()
        print(
            f"  {summary.counts.timepoints} timepoints, {summary.counts.dialog_turns} turns, "
            f"{summary.counts.exposure_events} exposure events in "
            f"{time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(ensure_large_run(Path(sys.argv[1])))
