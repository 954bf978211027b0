"""Events appended to the store per second, in timepoint-sized batches.

Takes the events of a real offline run and appends copies of them under fresh run ids, the way
the simulation commits them (one transaction per batch), to a file database in WAL mode.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.llm.offline import OfflineProvider
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store

TARGET_EVENTS = 100_000


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "append.db")
        sim = Simulation(
            load_scenario("vintners_council"), provider=OfflineProvider(1), store=store, seed=1
        )
        # Record the batches exactly as the simulation commits them.
        batches: list[list] = []
        append = store.append

        async def recording(events, cassette=()):
            batches.append([e for e in events if e.PERSIST])
            await append(events, cassette)

        store.append = recording  # type: ignore[method-assign]
        await sim.run()
        store.append = append  # type: ignore[method-assign]
        batches = [b for b in batches if b]
        template = [e for b in batches for e in b]
        copies = []
        n = 0
        i = 0
        while n < TARGET_EVENTS:
            run_id = f"bench-{i:05d}"
            copies.append([[e.model_copy(update={"run_id": run_id}) for e in b] for b in batches])
            n += len(template)
            i += 1
        start = time.perf_counter()
        for run in copies:
            for batch in run:
                await store.append(batch)
        elapsed = time.perf_counter() - start
        await store.close()
    sizes = [len(b) for b in batches]
    print(
        f"appended {n:,} events in {sum(len(r) for r in copies):,} transactions "
        f"(batches of {min(sizes)}-{max(sizes)} events, {len(template)} per run) "
        f"in {elapsed:.2f} s"
    )
    print(f"{n / elapsed:,.0f} events per second  (goal >= 20,000)")


if __name__ == "__main__":
    asyncio.run(main())
