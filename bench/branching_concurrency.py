"""A BRANCHING run's branches run side by side, not one after another (M12, M17).

lighthouse_log (3 named alternatives, decided after timepoint 3 of 5) is run on the offline
provider slowed so that every call answers after 200 ms, as a remote model would. The branch
phase of that run (from the first branch opening to the end) is compared with the same three
branches run one after another: each forked from the stored trunk with the same intervention,
in turn, on the same slow provider. Prints both wall times and their ratio (goal: 0.4 or less).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.llm.offline import OfflineProvider
from engine.model import events as ev
from engine.model.intervention import Intervention
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store

DELAY = 0.2


class SlowOffline(OfflineProvider):
    """The offline provider, answering every call after DELAY seconds."""

    async def complete(self, request):  # type: ignore[override]
        await asyncio.sleep(DELAY)
        return await super().complete(request)

    async def stream(self, request) -> AsyncIterator:  # type: ignore[override]
        await asyncio.sleep(DELAY)
        async for piece in super().stream(request):
            yield piece


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db")
        try:
            opened: list[float] = []

            def watch(event: ev.EventBase) -> None:
                if isinstance(event, ev.BranchCreated) and not opened:
                    opened.append(time.perf_counter())

            sim = Simulation(
                load_scenario("lighthouse_log"), provider=SlowOffline(1), store=store, seed=1
            )
            start = time.perf_counter()
            summary = await sim.run(watch)
            end = time.perf_counter()
            assert summary.status.value == "completed", summary.status_reason
            together = end - opened[0]
            branches = [b for b in await store.branches(summary.run_id) if b.parent_branch_id]
            calls_together = summary.counts.llm_calls
            alone = 0.0
            calls_alone = 0
            for n, b in enumerate(branches, 1):
                change = Intervention.model_validate(b.intervention)
                t0 = time.perf_counter()
                fork = await Simulation.fork(
                    store,
                    summary.run_id,
                    at=b.fork_timepoint_id,
                    intervention=change,
                    provider=SlowOffline(1),
                    branch_id=f"seq{n}",
                )
                await fork.run()
                alone += time.perf_counter() - t0
                calls_alone += fork.fork_tally.llm_calls
        finally:
            await store.close()
    print(f"lighthouse_log, {len(branches)} branches, every call answered after 200 ms")
    print(f"whole BRANCHING run        {end - start:7.2f} s  ({calls_together} calls)")
    print(f"its branches, side by side {together:7.2f} s")
    print(f"the branches one by one    {alone:7.2f} s  ({calls_alone} calls)")
    print(f"ratio side by side / one by one: {together / alone:.2f} (goal 0.4 or less)")


if __name__ == "__main__":
    asyncio.run(main())
