"""A run that stops its own process when the n-th event of a given type is emitted: the crash
half of the resume tests. With KILL it dies at once (SIGKILL, no clean-up of any kind); with
TERM, HUP or INT it sends itself that signal and the command line's own handling stops the run
(the timepoint under way discarded, the run recorded as stopped).

    python crash_child.py DB SCENARIO SEED RUN_ID EVENT_TYPE N [KILL|TERM|HUP|INT]
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
from tui.cli.common import make_console
from tui.cli.running import _execute


async def main(db: str, scenario: str, seed: int, run_id: str, kind: str, n: int, how: str) -> None:
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
                os.kill(os.getpid(), getattr(signal, f"SIG{how}"))

    sim.recorder.listeners.append(watch)
    summary = await _execute(sim, make_console(stderr=True), True)
    await store.close()
    if summary.status.value == "completed":
        print("the run ended before the kill point", file=sys.stderr)
        sys.exit(3)
    print(f"{summary.status.value}: {summary.status_reason}")


if __name__ == "__main__":
    db, scenario, seed, run_id, kind, n = sys.argv[1:7]
    how = sys.argv[7] if len(sys.argv) > 7 else "KILL"
    asyncio.run(main(db, scenario, int(seed), run_id, kind, int(n), how))
