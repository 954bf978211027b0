"""A run on a local model that must finish: the bundled 270M GGUF on llama.cpp's server, CPU only.

Starts ``python -m llama_cpp.server`` with the model of the ``local-llm`` extra on a free port.
It then runs a small bundled scenario through the ``llamacpp`` preset (3 people, 2 timepoints,
8 turns each by default) and prints the wall time, the calls, and how many answers per action
type were valid at the first attempt and after at most one repair. A degraded answer (numbers
clamped back into range) counts as valid. Goal: the run completes, with at least 90% of calls
valid after at most one repair, within 10 minutes on 2 cores.

    pip install '.[local-llm]'
    python bench/local_model.py [--scenario harbor_strike] [--timepoints 2] [--turns 8]
                                [--concurrency N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from llama_support import cut, llama_server, share_valid, validity  # noqa: E402

from engine.config import Config, ProviderConfig, resolve_provider  # noqa: E402
from engine.llm.factory import open_provider  # noqa: E402
from engine.llm.registry import load_registry  # noqa: E402
from engine.model import events as ev  # noqa: E402
from engine.simulation import Simulation  # noqa: E402
from engine.store import Store  # noqa: E402


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="harbor_strike")
    parser.add_argument("--timepoints", type=int, default=2)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--concurrency", type=int, help="calls in flight (default: the preset's)")
    parser.add_argument(
        "--max-tokens", type=int, help="a cap on every answer (default: none, as a user runs it)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, llama_server(Path(tmp), 4096) as url:
        config = Config(
            provider=ProviderConfig(
                name="llamacpp",
                max_tokens=args.max_tokens,
                timeout=600,
                concurrency=args.concurrency,
            )
        )
        settings = resolve_provider(config, base_url=url, env={})
        assert settings is not None
        opened = await open_provider(settings, load_registry(), seed=0)
        store = await Store.open(Path(tmp) / "runs.db")
        seen: list[ev.EventBase] = []
        t0 = time.perf_counter()
        try:
            sim = Simulation(
                cut(args.scenario, args.timepoints, args.turns),
                provider=opened.provider,
                store=store,
                router=opened.router,
                retry={"max_attempts": 2, "backoff": 0},
            )
            summary = await sim.run(seen.append)
        finally:
            wall = time.perf_counter() - t0
            await opened.aclose()
            await store.close()
    calls = [e for e in seen if isinstance(e, ev.LLMCallFinished)]
    table = validity(calls)
    logical = sum(r["calls"] for r in table.values())
    repaired = sum(r["repaired"] for r in table.values())
    result = {
        "status": summary.status.value,
        "reason": summary.status_reason,
        "wall_seconds": round(wall, 1),
        "concurrency": settings.concurrency,
        "attempts": len(calls),
        "calls": logical,
        "valid_first": sum(r["first"] for r in table.values()),
        "valid_after_repair": repaired,
        "by_action": table,
        "turns": summary.counts.dialog_turns,
        "timepoints": summary.counts.timepoints,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{args.scenario}, {args.timepoints} timepoints x {args.turns} turns, "
        f"concurrency {settings.concurrency}: {result['status']} in {wall:.0f} s "
        f"({summary.counts.timepoints} timepoints, {summary.counts.dialog_turns} turns)"
    )
    if summary.status_reason:
        print(f"  reason: {summary.status_reason}")
    print(f"  {len(calls)} attempts for {logical} calls")
    print(f"  {'action':28} calls  valid first  valid after one repair")
    for action, row in sorted(table.items()):
        n = row["calls"]
        print(f"  {action:28} {n:5}  {row['first'] / n:10.0%}  {row['repaired'] / n:10.0%}")
    reasons: dict[str, int] = defaultdict(int)
    for c in calls:
        if c.status.value == "failed" and c.error:
            reasons[f"{c.action}: {c.error.split(': ', 1)[-1][:90]}"] += 1
    for reason, n in sorted(reasons.items(), key=lambda r: -r[1])[:6]:
        print(f"  failed {n}x {reason}")
    share = share_valid(table)
    print(f"  all: {share:.0%} valid after at most one repair (goal 90%), {wall / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
