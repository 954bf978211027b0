"""What fidelity that follows attention saves (M1, M2, M5, M6): tokens of one scenario and seed
run with every entity at TRAINED throughout against the same run with heterogeneous fidelity
(the balanced template, or the one named by ``--template``) plus 10 queries that raise the people they ask about; then the
heterogeneous run at 25, 50, 100 and 200 entities with the same 10 queries, to see whether
tokens follow the queries or the size of the simulation.

The scenario is the bundled vintners_council stretched to 10 timepoints, with its roster grown
to N by villagers (each tied to one member of the council) and everyone present at every
timepoint: the most that "simulate everyone in detail" could mean, in both runs. Offline, so
the figures are the prompts and answers the engine actually built, not a model's bill.

    python bench/token_economics.py            # a table
    python bench/token_economics.py --json     # one JSON object; "reduction" is the fraction saved
    python bench/token_economics.py --template minimal   # the heterogeneous runs on another template
    python bench/token_economics.py --seed 1     # another seed (the figures move with the dialog)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.llm.offline import OfflineProvider
from engine.query.execute import Consent
from engine.query.stored import run_query
from engine.scenario import LoadedScenario, Scenario, load_scenario
from engine.simulation import Simulation
from engine.store import Store

SEED = 3
TEMPLATE = "balanced"  # the fidelity template of the heterogeneous runs (--template)
TIMEPOINTS = 10
QUERIES = 10
ROLES = ("grower", "picker", "cellar hand", "cooper", "carter", "pruner", "bottler", "clerk")
FIRST = ("Anne", "Luc", "Mireille", "Paul", "Sylvie", "Jean", "Claire", "Yves", "Rose", "Marc")
LAST = ("Vidal", "Roux", "Fabre", "Girard", "Bonnet", "Mercier", "Lambert", "Faure", "Blanc")


def scenario(entities: int, *, level: str | None) -> LoadedScenario:
    """vintners_council with ``entities`` people, all present at each of 10 timepoints; every
    one pinned to ``level`` (None: the balanced template decides)."""
    data: dict[str, Any] = load_scenario("vintners_council").scenario.model_dump(mode="json")
    roster = data["entities"]
    council = [e["id"] for e in roster]
    for i in range(entities - len(roster)):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"
        role = ROLES[i % len(ROLES)]
        roster.append(
            {
                "id": f"villager_{i + 1:03d}",
                "name": f"{name} {i + 1}" if i >= len(FIRST) * len(LAST) else name,
                "type": "human",
                "role": role,
                "description": f"A {role} of the cooperative, at every meeting, rarely heard.",
                "knowledge": [f"{name} keeps the {role}s' tally for row {i + 1} of the terraces."],
            }
        )
        data["relationships"].append(
            {"between": [f"villager_{i + 1:03d}", council[i % len(council)]], "trust": 0.2}
        )
    for entity in roster:
        entity["resolution"] = level
    ids = [e["id"] for e in roster]
    beats = data["timeline"]["beats"]
    beats.extend({} for _ in range(TIMEPOINTS - len(beats)))
    for beat in beats:
        beat["present"] = ids
        beat["reveals"] = [r for r in beat.get("reveals", []) if r["entity"] in ids]
    data["timeline"]["count"] = TIMEPOINTS
    data["fidelity"] = {"template": TEMPLATE}
    data["entity_count"] = None
    clean = Scenario.model_validate(data)
    return LoadedScenario(scenario=clean, source=f"bench:token_economics x{entities}")


async def run(folder: Path, entities: int, level: str | None, label: str) -> dict[str, Any]:
    store = await Store.open(folder / f"{label}.db")
    try:
        started = time.perf_counter()
        sim = Simulation(
            scenario(entities, level=level), provider=OfflineProvider(SEED), store=store, seed=SEED
        )
        summary = await sim.run()
        assert summary.status.value == "completed", summary.status_reason
        run_tokens = summary.tokens
        elevations = 0
        villagers = [f"villager_{i:03d}" for i in range(1, entities - 9)]
        for n in range(QUERIES):
            who = villagers[(n * 7) % len(villagers)]
            at = f"tp{(n % TIMEPOINTS) + 1:02d}"
            out = await run_query(
                store,
                OfflineProvider(SEED),
                summary.run_id,
                f"@{who}@{at} why did you stay quiet about row {n + 1}?",
                consent=Consent(elevate=True),
            )
            elevations += out.elevated is not None
        after = await store.get_run(summary.run_id)
        return {
            "entities": entities,
            "fidelity": level or TEMPLATE,
            "run_tokens": run_tokens,
            "query_tokens": after.tokens - run_tokens,
            "tokens": after.tokens,
            "calls": after.counts.llm_calls,
            "elevations": elevations,
            "seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        await store.close()


async def compression(folder: Path) -> dict[str, Any]:
    """The real ratio of an entity's full context to its compressed form (M6): 25 people over
    10 timepoints, the villagers present one timepoint in four, so that they fall out of
    sight and are compressed; every compression's two sizes, as the engine measured them."""
    loaded = scenario(25, level=None)
    beats = []
    for index, beat in enumerate(loaded.scenario.timeline.beats):
        here = [e for e in beat.present or [] if not e.startswith("villager_")]
        here += [
            e
            for e in beat.present or []
            if e.startswith("villager_") and int(e[-3:]) % 4 == index % 4
        ]
        beats.append(beat.model_copy(update={"present": here}))
    timeline = loaded.scenario.timeline.model_copy(update={"beats": beats})
    loaded = LoadedScenario(
        scenario=loaded.scenario.model_copy(update={"timeline": timeline}), source="bench"
    )
    store = await Store.open(folder / "compression.db")
    seen: list[Any] = []
    try:
        await Simulation(loaded, provider=OfflineProvider(SEED), store=store, seed=SEED).run(
            seen.append
        )
    finally:
        await store.close()
    sizes = [(e.full_tokens, e.compressed_tokens) for e in seen if e.type == "entity_compressed"]
    if not sizes:
        return {"compressions": 0}
    full = sum(f for f, _ in sizes) / len(sizes)
    small = sum(c for _, c in sizes) / len(sizes)
    return {
        "compressions": len(sizes),
        "mean_full_tokens": round(full),
        "mean_compressed_tokens": round(small),
        "ratio": round(full / small, 1),
        "saved": round(1 - small / full, 4),
    }


def slope(points: list[tuple[int, int]]) -> float:
    """Least-squares tokens per additional entity."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


async def main(as_json: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        uniform = await run(folder, 100, "trained", "uniform")
        mixed = await run(folder, 100, None, "mixed-100")
        sizes = [await run(folder, n, None, f"mixed-{n}") for n in (25, 50)]
        sizes.append(mixed)
        sizes.append(await run(folder, 200, None, "mixed-200"))
        compressed = await compression(folder)
    reduction = 1 - mixed["tokens"] / uniform["tokens"]
    per_entity = slope([(r["entities"], r["tokens"]) for r in sizes])
    result = {
        "template": TEMPLATE,
        "seed": SEED,
        "reduction": round(reduction, 4),
        "ratio": round(mixed["tokens"] / uniform["tokens"], 4),
        "uniform": uniform,
        "heterogeneous": mixed,
        "scaling": sizes,
        "tokens_per_extra_entity": round(per_entity, 1),
        "growth_25_to_200": round(sizes[-1]["tokens"] / sizes[0]["tokens"], 3),
        "query_share_at_100": round(mixed["query_tokens"] / mixed["tokens"], 4),
        "compression": compressed,
    }
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"100 entities x {TIMEPOINTS} timepoints, seed {SEED}, {QUERIES} queries each, "
        f"template {TEMPLATE}"
    )
    print(f"  every entity TRAINED: {uniform['tokens']:>10,} tokens  ({uniform['calls']} calls)")
    print(f"  heterogeneous:        {mixed['tokens']:>10,} tokens  ({mixed['calls']} calls)")
    print(f"  reduction: {reduction:.1%}  (ratio {result['ratio']})")
    print("scaling at 10 queries (heterogeneous):")
    for r in sizes:
        print(
            f"  {r['entities']:>4} entities: {r['tokens']:>9,} tokens "
            f"(run {r['run_tokens']:,}, queries {r['query_tokens']:,}, "
            f"{r['elevations']} elevations)"
        )
    print(
        f"  slope: {per_entity:,.1f} tokens per extra entity; 25 -> 200 entities (x8) grows "
        f"tokens x{result['growth_25_to_200']}"
    )
    if compressed.get("compressions"):
        c = compressed
        print(
            f"compression (M6): {c['compressions']} compressions, full context "
            f"{c['mean_full_tokens']:,} tokens -> {c['mean_compressed_tokens']} "
            f"(x{c['ratio']}, {c['saved']:.1%} smaller)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--template", default=TEMPLATE, help="fidelity template (engine/data)")
    parser.add_argument(
        "--seed", type=int, default=SEED, help=f"seed of every run (default {SEED})"
    )
    args = parser.parse_args()
    TEMPLATE, SEED = args.template, args.seed
    asyncio.run(main(args.json))
