"""Commands that run a simulation: ``run`` (and ``run --replay``), ``resume``, and the progress
they show."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
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
    summary_line,
    user_config,
)
from .explore import watch
from .progress import provider_line, reporter


def run(args: argparse.Namespace) -> int:
    """``timeloom run``: headless, or in the explorer when a person is at a terminal."""
    outcome = asyncio.run(_run(args))
    if isinstance(outcome, int):
        return outcome
    return watch(args, outcome)


def resume(args: argparse.Namespace) -> int:
    """``timeloom resume``."""
    return asyncio.run(_resume(args))


async def _run(args: argparse.Namespace) -> Any:
    """The run's exit status, or the live run to hand over to the explorer."""
    from engine import session

    config = user_config()
    if args.replay:
        return await _replay(args)
    if not args.scenario:
        raise UsageError("name a scenario to run (or give --replay RUN_ID)")
    plan = session.plan_run(config, _request(args))
    loaded = plan.loaded
    if args.estimate:
        estimate = await session.estimate(plan, session.estimate_router(plan))
        if args.json:
            print_json({"scenario": loaded.scenario.name, "estimate": estimate.to_json()})
        else:
            print(f"estimate for {loaded.scenario.name}: {estimate.text()}")
        return EXIT_OK
    if _interactive(args):
        session.ensure_supported(loaded)
        return session.LiveRun(plan)
    opened = await session.open_plan(plan)
    err = make_console(stderr=True)
    line = provider_line(opened)
    if line and not args.quiet:
        err.print(line, markup=False, highlight=False)
    store = None
    try:
        store = await open_store(args)
        sim = session.build_simulation(plan, opened, store)
        estimate = None
        if plan.settings is not None or sim.budget is not None:
            estimate = await session.estimate(plan, opened.router)
            if not args.json:
                err.print(f"estimate: {estimate.text()}", markup=False)
                _warn_over_budget(err, session.over_budget(estimate, sim.budget))
        if loaded.warnings and not args.json:
            err.print(
                f"[yellow]{loaded.source}: {len(loaded.warnings)} setting(s) are not "
                "supported by this version and were not used:[/]"
            )
            for warning in loaded.warnings:
                err.print(f"  - {warning}", markup=False)
        summary = await _execute(sim, err, args.quiet)
        db = store_path(store)
        from engine.view.fidelity import fidelity_profile

        events = await store.events(summary.run_id)
        actual = fidelity_profile(events)
        portal = _portal(summary, events)
    finally:
        if store is not None:
            await store.close()
        await opened.aclose()
    return _report(summary, loaded.warnings, db, args.json, estimate, actual, portal, args.strict)


def _portal(summary: Any, events: Sequence[Any]) -> Any:
    """A PORTAL run's search folded from its events (None for a run of another mode)."""
    if summary.mode.value != "portal":
        return None
    from engine.view.portal import PortalView

    return PortalView.of(events)


async def _stored_portal(store: Any, summary: Any) -> Any:
    if summary.mode.value != "portal":
        return None
    return _portal(summary, await store.portal_events(summary.run_id))


def _request(args: argparse.Namespace) -> Any:
    """What the command line asks for, for the session module to resolve."""
    from engine.session import RunRequest

    return RunRequest(
        scenario=getattr(args, "scenario", None),
        seed=getattr(args, "seed", None),
        provider=args.provider,
        base_url=args.base_url,
        model=args.model,
        prefer=getattr(args, "prefer", None),
        training_safe=getattr(args, "training_safe", False),
        budget_tokens=args.budget_tokens,
        budget_usd=args.budget_usd,
        no_budget=args.no_budget,
        cache=not getattr(args, "no_cache", False),
        estimate_only=getattr(args, "estimate", False),
    )


def _interactive(args: argparse.Namespace) -> bool:
    """Open the explorer for a run when a person is at a terminal and did not ask otherwise."""
    if getattr(args, "headless", False) or getattr(args, "json", False):
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


def _warn_over_budget(console: Any, over: Any) -> None:
    if over is not None:
        what = "stop when it is spent (resume it with a larger budget)" if over.stops else "warn"
        console.print(
            f"[yellow]the estimate is over the budget ({over.budget}); the run will {what}[/]"
        )


async def _execute(sim: Any, console: Any, quiet: bool) -> Any:
    """Run ``sim`` to its end. SIGTERM, SIGHUP and SIGINT stop it the way the explorer's stop
    does (:mod:`tui.signals`): the timepoint under way is discarded, the run is recorded as
    stopped with the signal's reason and the command reports it, so a supervisor that
    terminates timeloom, a closed terminal or Ctrl+C leaves a run that says what happened."""
    from tui.signals import stopping_on_signals

    shown, on_event = reporter(sim, console, quiet=quiet)
    task = asyncio.ensure_future(_shown(shown, sim.run(on_event)))

    def terminate(reason: str) -> None:
        if sim.control.stop_reason is None:  # a second signal waits for the first stop
            sim.control.stop(reason)
            task.cancel()

    with stopping_on_signals(terminate):
        try:
            return await task
        except asyncio.CancelledError:
            if sim.control.stop_reason is None:
                raise
            if sim.summary is None:  # stopped before its start was recorded: nothing to keep
                raise KeyboardInterrupt from None
            return sim.summary


async def _shown(shown: Any, work: Any) -> Any:
    with shown:
        return await work


def _report(
    summary: Any,
    warnings: Sequence[str],
    db: Path,
    as_json: bool,
    estimate: Any,
    fidelity: dict[str, Any] | None = None,
    portal: Any = None,
    strict: bool = False,
) -> int:
    """The run's line (or JSON), with its fidelity against the plan when one was made (and a
    PORTAL run's paths and candidates, from ``portal``, its ``PortalView``). Exit 0 for a
    completed run, but for one with a failed step when ``strict``."""
    from engine.view.fidelity import profile_line

    planned = estimate.fidelity if estimate is not None else None
    if as_json:
        data = summary_json(summary, warnings, db, portal)
        if estimate is not None:
            data["estimate"] = estimate.to_json()
        if fidelity is not None:
            data["fidelity"] = {"planned": planned, "actual": fidelity}
        print_json(data)
    else:
        print(clean(summary_line(summary, portal)))
        if fidelity is not None and fidelity.get("cells"):
            plan = f" (planned: {profile_line(planned)})" if planned else ""
            print(f"fidelity: {profile_line(fidelity)}{plan}", file=sys.stderr)
    if strict and summary.counts.failed_steps:
        return EXIT_FAILED
    return EXIT_OK if summary.status.value == "completed" else EXIT_FAILED


async def _replay(args: argparse.Namespace) -> int:
    from engine.reopen import prepare_replay

    store = await open_store(args)
    try:
        replay = await prepare_replay(
            store, user_config(), args.replay, scenario=args.scenario, seed=args.seed
        )
        err = make_console(stderr=True)
        if not args.json:
            err.print(
                f"replaying run {replay.run_id} ({replay.provider}/{replay.model})", markup=False
            )
        summary = await _execute(replay.simulation, err, args.quiet)
        db = store_path(store)
        portal = await _stored_portal(store, summary)
    finally:
        await store.close()
    warnings = replay.simulation.loaded.warnings
    return _report(summary, warnings, db, args.json, None, None, portal, args.strict)


async def _resume(args: argparse.Namespace) -> int:
    from engine.reopen import prepare_resume

    store = await open_store(args)
    resumed = None
    try:
        resumed = await prepare_resume(store, user_config(), args.run_id, _request(args))
        sim = resumed.simulation
        err = make_console(stderr=True)
        if not args.json:
            done = sim.timepoints
            err.print(
                f"resuming run {resumed.run_id} after {len(done)} of "
                f"{sim.scenario.timeline.count} timepoints"
                + (f" (budget: {sim.budget.text()})" if sim.budget else ""),
                markup=False,
            )
        result = await _execute(sim, err, args.quiet)
        db = store_path(store)
        warnings = await store.run_warnings(resumed.run_id)
        portal = await _stored_portal(store, result)
    finally:
        await store.close()
        if resumed is not None:
            await resumed.opened.aclose()
    return _report(result, warnings, db, args.json, None, None, portal, args.strict)
