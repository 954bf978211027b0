"""``timeloom convergence``: run a scenario several times (or take stored runs) and say how
alike their causal graphs are; list and show the sets kept in the database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from .common import EXIT_OK, UsageError, clean, open_store, print_json, user_config

TOP = 5  # contested edges and divergence points a person is shown


def add_parser(
    sub: Any,
    db: argparse.ArgumentParser,
    provider_flags: Callable[[argparse.ArgumentParser], None],
    budget_flags: Callable[[argparse.ArgumentParser], None],
    positive_int: Callable[[str], int],
) -> None:
    conv = sub.add_parser(
        "convergence",
        parents=[db],
        help="how stable runs of one scenario are (their causal graphs compared)",
        description="Run SCENARIO several times with different seeds (or compare stored runs) "
        "and score how alike their causal graphs are: the mean pairwise Jaccard similarity of "
        "their knowledge-flow and causal edges (temporal edges are listed, not scored), graded "
        "A (>= 0.9) to F (< 0.5). Each comparison is kept in the database as a set.",
    )
    conv.add_argument("scenario", metavar="SCENARIO", nargs="?", help="a bundled name or a file")
    conv.add_argument("--runs", metavar="N", help="how many runs (default: 3, or one per seed)")
    conv.add_argument("--seeds", metavar="S,S,...", help="each run's seed (default: 1..N)")
    conv.add_argument(
        "--runs-of", metavar="RUN_ID,RUN_ID,...", help="compare these stored runs instead"
    )
    conv.add_argument("--list", action="store_true", help="list the stored convergence sets")
    conv.add_argument("--show", metavar="SET_ID", help="show a stored set (id or unique prefix)")
    conv.add_argument(
        "--concurrency",
        type=positive_int,
        default=None,
        metavar="N",
        help="runs going on at once (default: 4; 1 for a local server that answers one at a time)",
    )
    conv.add_argument("--json", action="store_true", help="print one JSON object")
    provider_flags(conv)
    budget_flags(conv)


def convergence(args: argparse.Namespace) -> int:
    """``timeloom convergence``."""
    return asyncio.run(_convergence(args))


def _count(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--runs expects a whole number, got {text!r}") from None


def _seeds(text: str | None) -> list[int] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        seeds = [int(p) for p in parts]
    except ValueError:
        raise UsageError(
            f"--seeds expects whole numbers separated by commas, got {text[:80]!r}"
        ) from None
    from engine.safety.limits import LimitError, check_seed

    try:
        for seed in seeds:
            check_seed(seed, "each of --seeds")
    except LimitError as exc:
        raise UsageError(str(exc)) from None
    return seeds


def _mode(args: argparse.Namespace) -> str:
    chosen = [
        name
        for name, given in (
            ("SCENARIO", args.scenario),
            ("--runs-of", args.runs_of is not None),
            ("--list", args.list),
            ("--show", args.show is not None),
        )
        if given
    ]
    if not chosen:
        raise UsageError("name a scenario to run, or give --runs-of, --list or --show")
    if len(chosen) > 1:
        raise UsageError(
            f"give only one of SCENARIO, --runs-of, --list, --show (got {', '.join(chosen)})"
        )
    if chosen[0] != "SCENARIO" and (
        args.runs is not None or args.seeds is not None or args.concurrency is not None
    ):
        raise UsageError("--runs, --seeds and --concurrency go with a SCENARIO to run")
    return chosen[0]


async def _convergence(args: argparse.Namespace) -> int:
    from engine.convergence import (
        ConvergenceError,
        compare_stored,
        run_convergence,
        seeds_for,
        stored_set,
        stored_sets,
    )
    from engine.convergence.running import DEFAULT_CONCURRENCY

    from .running import _request

    mode = _mode(args)
    try:
        seeds = seeds_for(_count(args.runs), _seeds(args.seeds)) if mode == "SCENARIO" else None
        store = await open_store(args, readonly=mode in ("--list", "--show"))
        try:
            if mode == "--list":
                return _list(await stored_sets(store), args.json)
            if mode == "--show":
                data = await stored_set(store, args.show)
            elif mode == "--runs-of":
                ids = [r.strip() for r in args.runs_of.split(",") if r.strip()]
                data = (await compare_stored(store, ids)).to_json()
            else:
                data = (
                    await run_convergence(
                        args.scenario,
                        seeds=seeds,
                        store=store,
                        config=user_config(),
                        request=_request(args),
                        concurrency=args.concurrency or DEFAULT_CONCURRENCY,
                    )
                ).to_json()
        finally:
            await store.close()
    except ConvergenceError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        print_json(data)
    else:
        sys.stdout.write(report(data))
    return EXIT_OK


def _list(rows: list[Any], as_json: bool) -> int:
    if as_json:
        print_json(
            [
                {
                    "set_id": r.set_id,
                    "created_at": r.created_at,
                    "scenario": r.scenario,
                    "runs": [m[0] for m in r.members],
                    "seeds": [m[1] for m in r.members],
                    "score": r.score,
                    "grade": r.grade,
                }
                for r in rows
            ]
        )
        return EXIT_OK
    if not rows:
        sys.stdout.write("no convergence sets yet (timeloom convergence SCENARIO makes one)\n")
    for r in rows:
        seeds = ",".join(str(m[1]) for m in r.members)
        sys.stdout.write(
            f"{r.set_id}  {clean(r.scenario)}  {r.run_count} runs (seeds {seeds})  "
            f"score {r.score:.3f} grade {r.grade}  {r.created_at[:19]}\n"
        )
    return EXIT_OK


def report(data: dict[str, Any]) -> str:
    """A set's result for a person: the score, the counts, then the most contested edges and
    the points where the runs disagree most, in sentences."""
    c = data["counts"]
    seeds = ", ".join(str(r["seed"]) for r in data["runs"])
    lines = [
        f"convergence set {data['set_id']} of {clean(data.get('scenario', '?'))}: "
        f"{c['runs']} runs (seeds {seeds})",
        f"score {data['score']:.3f}, grade {data['grade']} "
        "(mean pairwise Jaccard of knowledge-flow and causal edges; temporal edges not scored)",
        f"{c['edges']} distinct edges: {c['consensus']} in every run, {c['contested']} contested, "
        f"{c['divergence_points']} divergence point(s)",
    ]
    if c["scored_edges"] == 0:
        lines.append("the runs have no knowledge-flow or causal edges to compare")
    contested = data["contested_edges"][:TOP]
    if contested:
        lines.append("most contested edges:")
        for e in contested:
            lines.append(f"  - {clean(e['text'])}: in {e['present_in']} of {e['of']} runs")
    points = data["divergence_points"][:TOP]
    if points:
        lines.append("where the runs diverge (least agreement first):")
    for p in points:
        lines.append(
            f"  - at timepoint {p['position']} ‘{clean(p['title'])}’ the runs share "
            f"{p['shared_edges']} of {p['edges']} edges ({p['agreement']:.0%} agreement)"
        )
        for side in p["sides"]:
            who = ", ".join(
                f"{r} (seed {s})" for r, s in zip(side["runs"], side["seeds"], strict=True)
            )
            did = side["did"]
            if not did:
                lines.append(f"      {who}: nothing beyond what every run did")
                continue
            more = f" and {len(did) - 2} more" if len(did) > 2 else ""
            lines.append(f"      {who}: {'; '.join(clean(d) for d in did[:2])}{more}")
    return "\n".join(lines) + "\n"
