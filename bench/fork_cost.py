"""What a fork costs against re-running the whole scenario with the intervention (M12).

A 10-timepoint run (vintners_council stretched to 10 timepoints, offline) is forked at its
5th timepoint with one entity removed. The fork replays the shared prefix from the log, so it
should pay only for the 5 timepoints after the fork; a re-run with the intervention would pay
for all 10. Prints calls, tokens and wall time of both, and their ratios.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine_overhead import scenario_10x10
from engine.llm.offline import OfflineProvider
from engine.model.intervention import Intervention
from engine.simulation import Simulation
from engine.store import Store

RUNS = 5


async def once(folder: Path, n: int) -> tuple[float, int, int, float, int, int]:
    loaded = scenario_10x10()
    store = await Store.open(folder / f"fork-{n}.db")
    try:
        start = time.perf_counter()
        full = await Simulation(loaded, provider=OfflineProvider(1), store=store, seed=1).run()
        full_wall = time.perf_counter() - start
        change = Intervention(kind="remove", entity="marguerite_solane")
        start = time.perf_counter()
        sim = await Simulation.fork(
            store,
            full.run_id,
            at="tp05",
            intervention=change,
            provider=OfflineProvider(1),
            branch_id="b1",
        )
        await sim.run()
        fork_wall = time.perf_counter() - start
        made = sim.fork_tally
        assert made.timepoints == 5, made
        return (
            full_wall,
            full.counts.llm_calls,
            full.tokens,
            fork_wall,
            made.llm_calls,
            made.tokens,
        )
    finally:
        await store.close()


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        rows = [await once(Path(folder), n) for n in range(RUNS)]
    full_wall = statistics.median(r[0] for r in rows)
    fork_wall = statistics.median(r[3] for r in rows)
    _, full_calls, full_tokens, _, fork_calls, fork_tokens = rows[0]
    print("10 entities x 10 timepoints, offline; fork at tp05 removing one entity")
    print(
        f"full run (what a re-run with the intervention pays): {full_calls} calls, "
        f"{full_tokens:,} tokens, median {full_wall * 1000:.0f} ms"
    )
    print(
        f"fork (only the 5 timepoints after tp05):             {fork_calls} calls, "
        f"{fork_tokens:,} tokens, median {fork_wall * 1000:.0f} ms"
    )
    print(
        f"fork / full: calls {fork_calls / full_calls:.2f}, tokens "
        f"{fork_tokens / full_tokens:.2f}, wall {fork_wall / full_wall:.2f} "
        "(goal: only the suffix is paid for, about 0.5 with one of ten people removed)"
    )


if __name__ == "__main__":
    asyncio.run(main())
