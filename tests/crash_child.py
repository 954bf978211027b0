"""A run that kills its own process (SIGKILL, no clean-up of any kind) when the n-th event of
a given type is emitted: the crash half of the resume tests.

    python crash_child.py DB SCENARIO SEED RUN_ID EVENT_TYPE N
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from engine.llm.offline import OfflineProvider
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store


async def main(db: str, scenario: str, seed: int, run_id: str, kind: str, n: int) -> None:
    store = await Store.open(db)
    sim = Simulation(
        load_scenario(scenario),
        provider=OfflineProvider(seed),
        store=store,
        seed=seed,
        run_id=run_id,
    )
    seen = 0

    def watch(event: object) -> None:
        nonlocal seen
        if getattr(event, "type", None) == kind:
            seen += 1
            if seen == n:
                sys.stdout.flush()
                os.kill(os.getpid(), signal.SIGKILL)

    sim.recorder.listeners.append(watch)
    await sim.run()
    print("the run ended before the kill point", file=sys.stderr)
    sys.exit(3)


if __name__ == "__main__":
    db, scenario, seed, run_id, kind, n = sys.argv[1:7]
    asyncio.run(main(db, scenario, int(seed), run_id, kind, int(n)))
