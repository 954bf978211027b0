"""How much of a PORTAL run's model time the engine overlaps (M17).

harrowgate_fossil (4 people) set to 5 backward steps, 3 candidates a step and 3 paths, run on
the offline provider slowed so that every call answers after 200 ms, as a remote model would:

    ratio = wall time / (number of calls x 200 ms)        (goal: 0.15 or less)

for the whole run and for the backward search alone (its calls are those whose call id starts
with ``portal/``; its time runs from the PortalSearchStarted event to PortalPathsKept). The rest
of the run plays the kept paths as branches, side by side, with their dialog.

Next to each ratio is its floor: the waves of calls that had to wait for each other (calls
that started within 50 ms of the previous one belong to its wave) over the calls. The search
has two waves a slot (the antecedents of every chain together, then the scores of all their
proposals together) and one to judge the paths, plus those of its backtracks; no amount of
concurrency takes a ratio below its floor.

The gateway limits nothing itself; ``--concurrency N`` caps the calls in flight as an
OpenAI-compatible provider does (its default is 8).

Run by hand: python bench/portal_latency.py [--json] [--concurrency N] [--strategy NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.llm.offline import OfflineProvider
from engine.llm.protocol import LLMRequest, LLMResponse
from engine.model import events as ev
from engine.model import portal_events as pe
from engine.scenario import load_scenario
from engine.scenario.loader import LoadedScenario
from engine.simulation import Simulation
from engine.store import Store

DELAY = 0.2
GOAL = 0.15
WAVE_GAP = 0.05
SEED = 1


class SlowOffline(OfflineProvider):
    """The offline provider, answering every call after DELAY seconds, with at most
    ``concurrency`` calls in flight (None: no limit). Notes when each call starts."""

    def __init__(self, seed: int, concurrency: int | None) -> None:
        super().__init__(seed)
        self._semaphore = asyncio.Semaphore(concurrency) if concurrency else None
        self.starts: list[tuple[float, str]] = []

    @contextlib.asynccontextmanager
    async def _slot(self, request: LLMRequest) -> AsyncIterator[None]:
        async with self._semaphore or contextlib.nullcontext():
            self.starts.append((time.perf_counter(), request.action.value))
            await asyncio.sleep(DELAY)
            yield

    async def complete(self, request: LLMRequest) -> LLMResponse:
        async with self._slot(request):
            return await super().complete(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[Any]:
        async with self._slot(request):
            async for piece in super().stream(request):
                yield piece


def scenario(strategy: str) -> LoadedScenario:
    base = load_scenario("harrowgate_fossil")
    s = base.scenario
    assert len(s.entities) == 4 and s.portal is not None
    portal = s.portal.model_copy(
        update={
            "backward_steps": 5,
            "candidates_per_step": 3,
            "path_count": 3,
            "beam": None,
            "strategy": strategy,
        }
    )
    s = s.model_copy(update={"portal": portal})
    return LoadedScenario(scenario=s, source=f"bench: harrowgate_fossil, {strategy}")


def waves(starts: list[float]) -> int:
    """Calls grouped by when they started: a gap of more than WAVE_GAP begins a new wave."""
    count, last = 0, None
    for t in sorted(starts):
        if last is None or t - last > WAVE_GAP:
            count += 1
        last = t
    return count


def phase(calls: int, wall: float, started: list[float]) -> dict[str, Any]:
    serial = calls * DELAY
    n = waves(started)
    return {
        "calls": calls,
        "wall_seconds": round(wall, 3),
        "serial_seconds": round(serial, 3),
        "ratio": round(wall / serial, 3) if serial else None,
        "waves": n,
        "floor": round(n / calls, 3) if calls else None,
        "goal": GOAL,
        "meets_goal": bool(serial) and wall / serial <= GOAL,
    }


async def measure(strategy: str, concurrency: int | None) -> dict[str, Any]:
    provider = SlowOffline(SEED, concurrency)
    marks: dict[str, float] = {}
    seen: list[ev.EventBase] = []

    def watch(event: ev.EventBase) -> None:
        seen.append(event)
        if isinstance(event, pe.PortalSearchStarted):
            marks.setdefault("search", time.perf_counter())
        elif isinstance(event, pe.PortalPathsKept):
            marks.setdefault("kept", time.perf_counter())

    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db")
        try:
            sim = Simulation(
                scenario(strategy), provider=provider, store=store, seed=SEED, cache=False
            )
            start = time.perf_counter()
            summary = await sim.run(watch)
            end = time.perf_counter()
        finally:
            await store.close()
    assert summary.status.value == "completed", summary.status_reason
    calls = [e for e in seen if isinstance(e, ev.LLMCallFinished)]
    search_calls = sum(1 for e in calls if e.call_id.startswith("portal/"))
    started = [t for t, _ in provider.starts]
    searched = [t for t in started if marks["search"] <= t <= marks["kept"]]
    played = [t for t in started if t > marks["kept"]]
    judged = [e for e in seen if isinstance(e, pe.PortalPathJudged)]
    return {
        "scenario": "harrowgate_fossil: 4 people, 5 steps, 3 candidates a step, 3 paths",
        "strategy": strategy,
        "concurrency": concurrency,
        "delay_seconds": DELAY,
        "backtracks": sum(1 for j in judged if j.action == "backtrack"),
        "run": phase(len(calls), end - start, started),
        "search": phase(search_calls, marks["kept"] - marks["search"], searched),
        "play": phase(len(calls) - search_calls, end - marks["kept"], played),
    }


def report(result: dict[str, Any]) -> None:
    limit = result["concurrency"] or "no limit"
    print(
        f"{result['scenario']}, {result['strategy']}, every call answered after "
        f"{DELAY * 1000:.0f} ms, calls in flight: {limit}; {result['backtracks']} backtrack(s)"
    )
    print(f"{'':<8} {'calls':>6} {'wall s':>8} {'calls x 0.2 s':>14} {'ratio':>6} {'floor':>6}")
    for name in ("run", "search", "play"):
        p = result[name]
        verdict = "meets" if p["meets_goal"] else "misses"
        print(
            f"{name:<8} {p['calls']:>6} {p['wall_seconds']:8.2f} {p['serial_seconds']:14.2f} "
            f"{p['ratio']:6.3f} {p['floor']:6.3f}  ({p['waves']} waves; {verdict} the goal "
            f"{GOAL})"
        )


async def main(as_json: bool, concurrency: int | None, strategy: str) -> None:
    result = await measure(strategy, concurrency)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        report(result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument(
        "--strategy",
        default="reverse_chronological",
        choices=("reverse_chronological", "oscillating", "adaptive"),
    )
    args = parser.parse_args()
    asyncio.run(main(args.json, args.concurrency, args.strategy))
