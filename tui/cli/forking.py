"""``timeloom fork``: a what-if branch of a stored run (M12), with its blast radius and cost
shown before it runs."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Any

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    clean,
    make_console,
    open_store,
    print_json,
    store_path,
    summary_json,
    user_config,
)

SHOWN = 4  # knowledge items listed per person in the text diff


def add_parser(
    sub: Any,
    db: argparse.ArgumentParser,
    provider_flags: Callable[[argparse.ArgumentParser], None],
    budget_flags: Callable[[argparse.ArgumentParser], None],
    positive_int: Callable[[str], int],
) -> None:
    fork = sub.add_parser(
        "fork",
        parents=[db],
        help="branch a stored run at a timepoint with an intervention (what if…)",
        description="Open a new branch of a stored run at one of its completed timepoints, "
        "change one thing there, and run the branch forward. The shared prefix is replayed, "
        "not re-run: none of its model calls is made again.",
    )
    fork.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    fork.add_argument("--quiet", action="store_true", help="print no progress on stderr")
    fork.add_argument("--at", required=True, metavar="TIMEPOINT", help="e.g. tp03 or b1.tp04")
    change = fork.add_mutually_exclusive_group()
    change.add_argument("--inject", metavar="TEXT", help="an event that happens at the fork")
    change.add_argument("--remove", metavar="ENTITY", help="an entity absent from then on")
    change.add_argument(
        "--withhold", metavar="ENTITY=TEXT", help="something ENTITY does not know from then on"
    )
    change.add_argument("--tell", metavar="ENTITY=TEXT", help="something ENTITY learns there")
    change.add_argument(
        "--intervention",
        metavar="TEXT",
        help="a what-if in your own words, read by the provider as one of the above",
    )
    fork.add_argument("--name", default="", metavar="NAME", help="a label for the branch")
    fork.add_argument(
        "--steps", type=positive_int, metavar="N", help="run N timepoints (default: to the end)"
    )
    fork.add_argument(
        "--preview", action="store_true", help="show the blast radius and cost, then exit"
    )
    fork.add_argument("--json", action="store_true", help="print one JSON object when done")
    provider_flags(fork)
    budget_flags(fork)


def fork(args: argparse.Namespace) -> int:
    return asyncio.run(_fork(args))


def intervention(args: argparse.Namespace) -> Any:
    """The structured intervention the flags ask for (None: a plain fork)."""
    from pydantic import ValidationError

    from engine.model.intervention import Intervention

    fields: dict[str, Any] | None = None
    if args.inject is not None:
        fields = {"kind": "inject", "event": args.inject}
    elif args.remove is not None:
        fields = {"kind": "remove", "entity": args.remove}
    for kind in ("withhold", "tell"):
        value = getattr(args, kind)
        if value is not None:
            entity, sep, text = value.partition("=")
            if not sep or not entity.strip() or not text.strip():
                raise UsageError(f"--{kind} expects ENTITY=TEXT, got {value!r}")
            fields = {"kind": kind, "entity": entity.strip(), "information": text.strip()}
    if fields is None:
        return None
    try:
        return Intervention.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(f"the intervention is not valid: {first['msg']}") from None


async def _fork(args: argparse.Namespace) -> int:
    from engine import forks

    from .running import _execute, _request

    change = intervention(args)
    store = await open_store(args)
    forked = None
    err = make_console(stderr=True)
    text = args.intervention
    try:
        if args.preview and text is None:
            shown = await forks.preview(store, args.run_id, args.at, change, args.steps)
            _print_preview(shown, err, args.json)
            return EXIT_OK
        forked = await forks.prepare_fork(
            store,
            user_config(),
            _request(args),
            args.run_id,
            args.at,
            change,
            label=args.name,
            steps=args.steps,
            text=text,
        )
        shown = forked.preview
        if args.preview:  # a free-text what-if is read (one call), shown, and not run
            _print_preview(shown, err, args.json)
            await forked.release()
            forked = None
            return EXIT_OK
        if not args.json:
            _print_preview(shown, err, False)
        summary = await _execute(forked.simulation, err, args.quiet)
        db = store_path(store)
        made = forked.simulation.fork_tally
        branch = await store.branch(shown.run_id, shown.branch_id)
    finally:
        await store.close()
        if forked is not None:
            await forked.opened.aclose()
    data = summary_json(summary, (), db)
    data.update(_fork_counts(made))
    data.update(
        branch_id=shown.branch_id,
        status=branch.status,
        reason=branch.status_reason,
        wall_seconds=branch.wall_seconds,
        fork_timepoint_id=shown.at,
        intervention=shown.to_json()["intervention"],
        blast_radius=[r.to_json() for r in shown.reach],
        estimate=shown.cost.to_json(),
    )
    if args.json:
        print_json(data)
    else:
        print(
            clean(
                f"branch {shown.branch_id} of run {shown.run_id} {branch.status}: "
                f"{data['timepoints']} timepoints, {data['dialog_turns']} dialog turns, "
                f"{data['llm_calls']} LLM calls, {data['tokens']:,} tokens, "
                f"${data['cost_usd']:.4f}, {branch.wall_seconds or 0:.2f} s"
                + (f" ({branch.status_reason})" if branch.status_reason else "")
            )
        )
    return EXIT_OK if branch.status == "completed" else EXIT_FAILED


def _fork_counts(made: Any) -> dict[str, Any]:
    c = made.counts()
    return {
        "entities": c.entities,
        "timepoints": c.timepoints,
        "dialog_turns": c.dialog_turns,
        "exposure_events": c.exposure_events,
        "llm_calls": c.llm_calls,
        "failed_steps": c.failed_steps,
        "prompt_tokens": c.prompt_tokens,
        "completion_tokens": c.completion_tokens,
        "tokens": made.tokens,
        "cost_usd": round(made.cost_usd, 6),
        "spent_tokens": made.spent_tokens,
        "spent_usd": round(made.spent_usd, 6),
        "cached_calls": made.cached_calls,
        "queries": c.queries,
    }


def _print_preview(shown: Any, console: Any, as_json: bool) -> None:
    if as_json:
        print_json(shown.to_json())
        return
    change = shown.intervention
    what = change.describe(shown.names) if change else "no change"
    if change is not None and change.source == "provider":
        what += f' (read from "{change.text}")'
    console.print(f"fork {shown.run_id} at {shown.at} as {shown.branch_id}: {what}", markup=False)
    console.print(f"  cost: {shown.cost.text()}", markup=False)
    if shown.intervention is None:
        return
    if not shown.reach:
        console.print(
            "  blast radius: nobody else, as far as the parent branch shows", markup=False
        )
    for r in shown.reach:
        if r.hop == 0:
            console.print(f"  changes {r.name} directly at {r.timepoint_id}", markup=False)
            continue
        via = f", told by {shown.names.get(r.via, r.via)}" if r.via else ""
        said = r.information if len(r.information) <= 70 else r.information[:69] + "…"
        console.print(
            f"  reaches {r.name} ({r.timepoint_id}, hop {r.hop}{via}): {said}", markup=False
        )
    if len(shown.reach) == 1:
        console.print("  nobody else, as far as the parent branch shows", markup=False)


def add_diff_parser(sub: Any, db: argparse.ArgumentParser) -> None:
    diff = sub.add_parser(
        "diff",
        parents=[db],
        help="compare two branches of a run",
        description="Two branches side by side from their common ancestor: where they part, "
        "what happened on each, what only one side knows, moods and relationships at the end.",
    )
    diff.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    diff.add_argument("branch_a", metavar="BRANCH_A", help="e.g. main")
    diff.add_argument("branch_b", metavar="BRANCH_B", help="e.g. b1")
    diff.add_argument("--json", action="store_true", help="print JSON")


def diff(args: argparse.Namespace) -> int:
    return asyncio.run(_diff(args))


async def _diff(args: argparse.Namespace) -> int:
    from engine.model import events as ev
    from engine.query.diff import DiffError, diff
    from engine.scenario.schema import Scenario
    from engine.store import StoreError

    store = await open_store(args, readonly=True)
    try:
        try:
            run_id = await store.resolve_run_id(args.run_id)
            events = await store.events(run_id)
        except StoreError as exc:
            raise UsageError(str(exc)) from exc
    finally:
        await store.close()
    start = events[0] if events else None
    if not isinstance(start, ev.RunStarted):
        raise UsageError(f"the run {run_id} has no recorded start")
    try:
        result = diff(
            Scenario.model_validate(start.scenario_data),
            events,
            run_id,
            args.branch_a,
            args.branch_b,
        )
    except DiffError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        print_json(result.to_json())
    else:
        _print_diff(result)
    return EXIT_OK


def _print_diff(d: Any) -> None:
    from rich.markup import escape

    out = make_console()
    name = d.names.get
    part = f"after {d.common}" if d.common else "from the start"
    out.print(f"[bold]{d.a}[/] and [bold]{d.b}[/] of run {d.run_id} part {part}")
    for branch in (d.a, d.b):
        for change in d.interventions[branch]:
            what = change.get("event") or change.get("information") or ""
            who = name(change.get("entity", ""), change.get("entity", ""))
            out.print(f"  {branch}: {change['kind']} {escape(who or '')} {escape(what)}".rstrip())
    for index, x, y in d.steps:
        out.print(f"\n[bold]moment {index + 1}[/]")
        for label, side, other in ((d.a, x, y), (d.b, y, x)):
            if side is None:
                out.print(f"  [dim]{label}: nothing[/]")
                continue
            missing = set(other.present) - set(side.present) if other else set()
            extra = (
                f" [red](without {', '.join(sorted(name(m, m) for m in missing))})[/]"
                if missing
                else ""
            )
            style = "yellow" if other is None or other.event != side.event else "dim"
            out.print(f"  {label} {side.timepoint_id} [bold]{escape(side.title)}[/]{extra}")
            out.print(f"    [{style}]{escape(side.event)}[/]")
    for label, only in ((d.a, d.only_a), (d.b, d.only_b)):
        if only:
            out.print(f"\n[bold]known only on {label}[/]")
            for entity, items in only.items():
                for item in items[:SHOWN]:
                    out.print(f"  [green]{escape(name(entity, entity))}[/]: {escape(item)}")
                if len(items) > SHOWN:
                    out.print(f"  [dim]… and {len(items) - SHOWN} more (--json lists them)[/]")
    if d.moods:
        out.print(f"\n[bold]moods at the end ({d.a} → {d.b})[/]")
        for entity, moved in d.moods.items():
            parts = ", ".join(f"{f} {a:+.2f} → {b:+.2f}" for f, (a, b) in moved.items())
            out.print(f"  {escape(name(entity, entity))}: {parts}")
    if d.relations:
        out.print(f"\n[bold]relationships at the end ({d.a} → {d.b})[/]")
        for pair, moved in d.relations.items():
            a, b = pair.split("~")
            parts = ", ".join(f"{f} {x:+.2f} → {y:+.2f}" for f, (x, y) in moved.items())
            out.print(f"  {escape(name(a, a))} and {escape(name(b, b))}: {parts}")
