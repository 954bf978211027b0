"""Does a provider preset's default concurrency cap the engine's pipeline? The reference
engine's own templates (``board_meeting``, ``detective_prospection``), run against a model
that answers every call after 200 ms, at each preset's default concurrency and rate limit,
and at fixed concurrencies for comparison.

The model is the offline provider behind a 200 ms delay, limited exactly as the
OpenAI-compatible provider limits its calls (a semaphore of ``concurrency`` calls in flight, a
limiter of ``requests_per_minute``): unlike the tests' fake HTTP server, its answers have the
shape of real ones (a cast of five for the board, dialogs of several rounds), so the run has
the calls a real one has.

    ratio = wall time / (number of calls x 200 ms)

The reference engine makes one call at a time: its ratio is 1.0 by construction. The floor is
the run's critical path (the chain of calls that must wait for each other) over its calls, as
``bench/parallel_ratio.py`` computes it; a default is good when its ratio is within 10% of it.

Needs the reference fixtures (TIMELOOM_FIXTURES, else ../shared/fixtures/timepoint-pro beside
the repository). Run by hand: python bench/default_concurrency.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from aiolimiter import AsyncLimiter  # noqa: E402
from parallel_ratio import DELAY, critical_path  # noqa: E402

from engine.llm.offline import OfflineProvider  # noqa: E402
from engine.llm.protocol import LLMRequest, LLMResponse  # noqa: E402
from engine.llm.registry import load_presets  # noqa: E402
from engine.model import events as ev  # noqa: E402
from engine.scenario import load_scenario  # noqa: E402
from engine.simulation import Simulation  # noqa: E402
from engine.store import Store  # noqa: E402

FIXTURES = Path(
    os.environ.get("TIMELOOM_FIXTURES") or ROOT.parent / "shared" / "fixtures" / "timepoint-pro"
)
TEMPLATES = ("board_meeting", "detective_prospection")
SEED = 1


class Delayed:
    """The offline provider's answers, each after ``DELAY``, limited like a real provider."""

    name, model = "bench", "bench-1"

    def __init__(self, seed: int, concurrency: int, rpm: int) -> None:
        self.inner = OfflineProvider(seed)
        self._semaphore = asyncio.Semaphore(concurrency)
        self._limiter = AsyncLimiter(rpm, 60) if rpm else None

    async def complete(self, request: LLMRequest) -> LLMResponse:
        async with self._semaphore:
            if self._limiter is not None:
                await self._limiter.acquire()
            await asyncio.sleep(DELAY)
            return await self.inner.complete(request)

    async def stream(self, request: LLMRequest):  # type: ignore[no-untyped-def]
        async with self._semaphore:
            if self._limiter is not None:
                await self._limiter.acquire()
            await asyncio.sleep(DELAY)
            async for piece in self.inner.stream(request):
                yield piece


async def once(path: Path, folder: Path, concurrency: int, rpm: int) -> tuple[float, int, int]:
    provider = Delayed(SEED, concurrency, rpm)
    store = await Store.open(folder / f"bench-{time.monotonic_ns()}.db")
    sim = Simulation(load_scenario(path), provider=provider, store=store, seed=SEED, cache=False)
    seen: list[ev.EventBase] = []
    start = time.perf_counter()
    summary = await sim.run(seen.append)
    wall = time.perf_counter() - start
    await store.close()
    assert summary.status.value == "completed", summary.status_reason
    return wall, summary.counts.llm_calls, critical_path(seen)


async def main() -> None:
    paths = {t: next(FIXTURES.glob(f"templates/*/{t}.json"), None) for t in TEMPLATES}
    if not all(paths.values()):
        sys.exit(f"the reference templates are not under {FIXTURES}; set TIMELOOM_FIXTURES")
    presets = load_presets()
    settings: list[tuple[str, int, int]] = [
        (f"preset {name}", p.concurrency, p.requests_per_minute) for name, p in presets.items()
    ]
    settings += [(f"fixed {c}", c, 0) for c in (1, 2, 4, 8, 16, 32)]
    print(f"every call answered after {DELAY * 1000:.0f} ms; the reference engine scores 1.00")
    print(
        f"{'template':<22} {'setting':<18} {'conc':>4} {'rpm':>4} {'calls':>5} {'wall s':>7} "
        f"{'ratio':>6} {'floor':>6} {'vs floor':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for template, path in paths.items():
            assert path is not None
            for label, concurrency, rpm in settings:
                wall, calls, waves = await once(path, folder, concurrency, rpm)
                ratio, floor = wall / (calls * DELAY), waves / calls
                print(
                    f"{template:<22} {label:<18} {concurrency:>4} {rpm:>4} {calls:>5} "
                    f"{wall:7.2f} {ratio:6.2f} {floor:6.2f} {ratio / floor:7.2f}x",
                    flush=True,
                )


if __name__ == "__main__":
    asyncio.run(main())
