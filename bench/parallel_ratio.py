"""How much of a run's model time the engine overlaps: a 5-entity x 5-timepoint run against a
local OpenAI-compatible server that answers every call after a fixed 200 ms.

    ratio = wall time / (number of calls x 200 ms)

A run that makes its calls one after another (the reference engine) scores about 1.0; lower
is better. The server runs in its own process (as a real one would), so the engine's event loop
only carries the engine.

The figure depends on the dialog's shape: a turn answers the turns before it, so the rounds of
a dialog are sequential, and the next dialog needs what the last one taught. What overlaps:
the turns of a round, the scene read (M10) with the opening turn, every knowledge extraction
with the turns after it, and, once a dialog's last round is spoken, its last extractions, the
inner-life calls of everyone present (M15) and the next timepoint's event call. The script
prints that critical path (the longest chain of calls that must wait for each other), which is
the floor for the ratio.

Run by hand: python bench/parallel_ratio.py
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from engine.llm.openai import OpenAIProvider  # noqa: E402
from engine.model import events as ev  # noqa: E402
from engine.scenario import load_scenario  # noqa: E402
from engine.scenario.loader import LoadedScenario  # noqa: E402
from engine.simulation import Simulation  # noqa: E402
from engine.store import Store  # noqa: E402

DELAY = 0.2


def scenario(parallel: int, infer_presence: bool) -> LoadedScenario:
    base = load_scenario("snowbound_ward")  # 5 entities, 5 timepoints
    s = base.scenario
    assert len(s.entities) == 5 and s.timeline.count == 5
    beats = [
        b.model_copy(update={"present": None}) if infer_presence else b for b in s.timeline.beats
    ]
    s = s.model_copy(
        update={
            "dialog": s.dialog.model_copy(update={"parallel": parallel}),
            "timeline": s.timeline.model_copy(update={"beats": beats}),
        }
    )
    return LoadedScenario(scenario=s, source=f"bench: snowbound_ward, parallel {parallel}")


def critical_path(events: list[ev.EventBase]) -> int:
    """Sequential waves of calls per run: a timepoint's event call unless it ran during the
    previous dialog's last wave, its presence call, one wave per dialog round (the turns of a
    round start together), and the wave after the last round (extractions, inner life, the next
    event)."""
    waves = 0
    previous: ev.EventBase | None = None
    after_dialog = False
    for e in events:
        if not e.PERSIST:
            continue
        if isinstance(e, ev.LLMCallFinished) and e.action == "timepoint_event":
            waves += 0 if after_dialog else 1
            after_dialog = False
        elif isinstance(e, ev.LLMCallFinished) and e.action == "entity_presence":
            waves += 1
        elif isinstance(e, ev.DialogTurnStarted) and not isinstance(previous, ev.DialogTurnStarted):
            waves += 1  # a round: the turns started together, before any of them is answered
        elif isinstance(e, ev.DialogFinished):
            waves += 1  # the last extractions, the inner life and the next event, together
            after_dialog = True
        elif isinstance(e, ev.DialogSkipped):
            after_dialog = False
        previous = e
    return waves


@contextlib.asynccontextmanager
async def server_process(delay: float) -> AsyncIterator[str]:
    """The tests' fake OpenAI-compatible server, in a process of its own; yields its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVER,
        str(delay),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=str(ROOT / "tests"),
    )
    assert proc.stdout is not None and proc.stdin is not None
    url = (await proc.stdout.readline()).decode().strip()
    try:
        yield url
    finally:
        proc.stdin.close()
        await proc.wait()


SERVER = """
import asyncio, sys
from test_llm_fakeserver import FakeServer

async def main():
    async with FakeServer(keep_alive=True) as server:
        server.default_delay = float(sys.argv[1])
        print(server.url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


async def once(loaded: LoadedScenario, folder: Path, seed: int) -> tuple[float, int, int]:
    async with server_process(DELAY) as url:
        provider = OpenAIProvider(
            name="vllm", base_url=url, model="bench", local=True, concurrency=32
        )
        store = await Store.open(folder / f"bench-{seed}-{time.monotonic_ns()}.db")
        sim = Simulation(loaded, provider=provider, store=store, seed=seed, cache=False)
        seen: list[ev.EventBase] = []
        start = time.perf_counter()
        summary = await sim.run(seen.append)
        wall = time.perf_counter() - start
        await store.close()
        await provider.aclose()
    assert summary.status.value == "completed", summary.status_reason
    return wall, summary.counts.llm_calls, critical_path(seen)


async def main() -> None:
    print(f"5 entities x 5 timepoints, every call answered after {DELAY * 1000:.0f} ms")
    print("dialog parallel  presence   calls  wall s  ratio  floor (critical path / calls)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for parallel, infer in ((2, False), (2, True), (3, False), (4, False), (8, False)):
            loaded = scenario(parallel, infer)
            wall, calls, waves = await once(loaded, folder, seed=1)
            ratio = wall / (calls * DELAY)
            print(
                f"{parallel:>15}  {'inferred' if infer else 'scripted':>8}  {calls:>6}  "
                f"{wall:6.2f}  {ratio:5.2f}  {waves / calls:5.2f} ({waves}/{calls})"
            )


if __name__ == "__main__":
    asyncio.run(main())
