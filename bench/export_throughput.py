"""Export throughput: JSONL training data and TDF records of a run with 100,000 dialog turns.

The run is made from a real offline run of ``vintners_council``: its timepoints are repeated,
each copy with its own timepoint, dialog and exposure ids, a later date and the previous copy's
last timepoint as its causal parent, until the run holds the turns asked for. The events go
through the store's one writer in timepoint-sized batches, as a simulation commits them, so the
export reads an ordinary stored run. Each format is timed from ``load_view`` to the renamed file
(selection, rendering, hashing, the manifest), next to the time to load the run, and the peak
memory the export adds over the loaded run is sampled, at a tenth of the size and at full size
(flat means the two are alike: the export streams, it does not hold its output). What
a first export of a loaded run adds is mostly the read model's per-entity indexes, built on
first use and kept with the run (a second JSONL export of the same run adds a few MiB); a TDF
record also holds its branch's turn and knowledge lookups while it is written. After each text
format's export, its rendering alone is timed on the same selection (no file, no hash): the
writing runs on a second thread, so this is the floor the export's time approaches.

    python bench/export_throughput.py [--turns N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.export import select
from engine.export.formats import FORMATS
from engine.export.heap import settled_heap
from engine.export.job import export_selection
from engine.export.tally import Tally
from engine.llm.offline import OfflineProvider
from engine.model import events as ev
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store

_STAMP = re.compile(r'"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)"')


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


class _Peak:
    """Samples the resident size every 10 ms while a block runs."""

    def __enter__(self) -> _Peak:
        self.base = _rss_kib()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss_kib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_kib())

    @property
    def added_mib(self) -> float:
        return (self.peak - self.base) / 1024


async def _template(folder: Path) -> list[list[str]]:
    """A real run's committed batches, as JSON payloads."""
    store = await Store.open(folder / "template.db")
    sim = Simulation(
        load_scenario("vintners_council"), provider=OfflineProvider(1), store=store, seed=1
    )
    batches: list[list[str]] = []
    append = store.append

    async def recording(events, cassette=()):  # type: ignore[no-untyped-def]
        batches.append([e.model_dump_json() for e in events if e.PERSIST])
        await append(events, cassette)

    store.append = recording  # type: ignore[method-assign]
    await sim.run()
    await store.close()
    return [b for b in batches if b]


def _copy(payload: str, suffix: str, shift: timedelta, ids: list[str], parent: str | None) -> str:
    for old in ids:  # "tp01" and "tp01-d1", "x000123": every id of the copied moments
        payload = payload.replace(f'"{old}', f'"{old}{suffix}')
    if parent is not None:
        payload = payload.replace('"causal_parent":null', f'"causal_parent":"{parent}"')

    def later(m: re.Match[str]) -> str:
        return '"' + (datetime.fromisoformat(m.group(1)) + shift).isoformat() + '"'

    return _STAMP.sub(later, payload)


async def _build(folder: Path, name: str, turns: int) -> tuple[str, int]:
    """A stored run with at least ``turns`` dialog turns; its id and its turn count."""
    batches = await _template(folder)
    flat = [json.loads(p) for b in batches for p in b]
    run_id = flat[0]["run_id"]
    tp_ids = [e["timepoint"]["timepoint_id"] for e in flat if e["type"] == "timepoint_created"]
    x_ids = [
        e["exposure"]["exposure_id"]
        for e in flat
        if e["type"] == "exposure_recorded" and e["exposure"]["timepoint_id"] is not None
    ]
    per_copy = sum(1 for e in flat if e["type"] == "dialog_turn_finished")
    copies = -(-turns // per_copy)
    first_tp = next(i for i, b in enumerate(batches) if '"timepoint_created"' in "".join(b))
    last_tp = max(i for i, b in enumerate(batches) if '"timepoint_completed"' in "".join(b))
    prelude, moments, ending = (
        batches[:first_tp],
        batches[first_tp : last_tp + 1],
        batches[last_tp + 1 :],
    )
    stamps = [
        datetime.fromisoformat(s) for s in _STAMP.findall("".join(p for b in moments for p in b))
    ]
    span = max(stamps) - min(stamps) + timedelta(days=1)
    store = await Store.open(folder / name)
    seq = 0

    async def put(batch: list[str]) -> None:
        nonlocal seq
        events = []
        for payload in batch:
            seq += 1
            data = json.loads(payload)
            data["seq"] = seq
            events.append(ev.EVENT_ADAPTER.validate_python(data))
        await store.append(events)

    for b in prelude:
        await put(b)
    previous: str | None = None
    for r in range(copies):
        suffix = f"r{r:05d}" if r else ""
        shift = span * r
        for b in moments:
            await put([_copy(p, suffix, shift, tp_ids + x_ids, previous if r else None) for p in b])
        previous = tp_ids[-1] + suffix
    for b in ending:
        await put(b)
    await store.close()
    return run_id, copies * per_copy


async def _export(db: Path, run_id: str, fmt: str, out: Path) -> dict[str, float]:
    store = await Store.open(db)
    t0 = time.perf_counter()
    view = await store.load_view(run_id, everything=True)
    summary = await store.get_run(run_id)
    calls = await store.read_call_models(run_id)
    loaded = time.perf_counter() - t0
    await store.close()
    with _Peak() as peak:
        t1 = time.perf_counter()
        selection = select(view, summary, calls=calls, registry=None)
        manifest = export_selection(selection, FORMATS[fmt], out, True, database=str(db))
        took = time.perf_counter() - t1
    render = FORMATS[fmt].render
    rendered = None
    if render is not None:  # the text alone, no file: what is left once writing overlaps it
        with settled_heap():
            t2 = time.perf_counter()
            for _ in render(selection, Tally()):
                pass
            rendered = round(time.perf_counter() - t2, 2)
    return {
        "load_seconds": round(loaded, 2),
        "export_seconds": round(took, 2),
        "render_seconds": rendered,
        "records": manifest["counts"]["records"],
        "turns": manifest["counts"]["dialog_turns"],
        "megabytes": round(out.stat().st_size / 1e6, 1),
        "added_memory_mib": round(peak.added_mib, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for turns in (args.turns // 10, args.turns):
            t0 = time.perf_counter()
            run_id, made = await _build(folder, f"run{turns}.db", turns)
            if not args.json:
                print(f"built a run of {made:,} turns in {time.perf_counter() - t0:.1f} s")
            for fmt in ("jsonl", "tdf", "sqlite"):
                out = folder / f"out{turns}.{FORMATS[fmt].suffix}"
                figures = await _export(folder / f"run{turns}.db", run_id, fmt, out)
                results.setdefault(str(made), {})[fmt] = figures
                if not args.json:
                    print(
                        f"  {fmt:6} {figures['records']:>7,} records, {figures['megabytes']:>7} MB: "
                        f"export {figures['export_seconds']:.2f} s (load {figures['load_seconds']:.2f} s), "
                        f"+{figures['added_memory_mib']} MiB over the loaded run"
                        + (
                            f"; rendering alone {figures['render_seconds']:.2f} s"
                            if figures["render_seconds"] is not None
                            else ""
                        )
                    )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
