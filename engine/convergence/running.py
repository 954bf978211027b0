"""Making and keeping convergence sets: run one scenario N times with N seeds, concurrently,
into one database (through the session's planned runs, the way ``timeloom run`` does), or take
runs already stored; compare their graphs and record the set through the store's writer."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import session
from .compare import Convergence, ConvergenceError, RunGraph, compare
from .graphs import run_graph

if TYPE_CHECKING:
    from ..config import Config
    from ..store import Store

MAX_RUNS = 20
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class ConvergenceSet:
    """A compared, stored set of runs."""

    set_id: str
    created_at: str
    scenario: str
    result: Convergence

    def to_json(self) -> dict[str, Any]:
        return {
            "set_id": self.set_id,
            "created_at": self.created_at,
            "scenario": self.scenario,
            **self.result.to_json(),
        }


def new_set_id() -> str:
    return f"cv-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def seeds_for(runs: int | None, seeds: Sequence[int] | None) -> list[int]:
    """The seed of each run: ``seeds`` as given (their count must match ``runs`` when both are
    given), else 1..``runs``."""
    if seeds:
        seeds = list(seeds)
        if runs is not None and runs != len(seeds):
            raise ConvergenceError(
                f"--runs {runs} asks for {runs} runs but {len(seeds)} seeds are given"
            )
        runs = len(seeds)
    if runs is None:
        runs = 3
    if runs < 2:
        raise ConvergenceError(f"convergence compares at least two runs (got {runs})")
    if runs > MAX_RUNS:
        raise ConvergenceError(f"at most {MAX_RUNS} runs can be compared at once (got {runs})")
    if seeds:
        if any(s < 0 for s in seeds):
            raise ConvergenceError("seeds are whole numbers of 0 or more")
        return list(seeds)
    return list(range(1, runs + 1))


async def run_convergence(
    scenario: str,
    runs: int | None = None,
    seeds: Sequence[int] | None = None,
    db: str | Path | None = None,
    *,
    store: Store | None = None,
    config: Config | None = None,
    request: session.RunRequest | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> ConvergenceSet:
    """Run ``scenario`` once per seed, at most ``concurrency`` at a time, into ``store`` (or the
    database at ``db``), then compare the runs and record the set. ``request`` carries the other
    choices of a run (provider, model, budget); its scenario and seed are replaced."""
    chosen = seeds_for(runs, seeds)
    if config is None:
        from ..config import ConfigError, load_config

        try:
            config = load_config()
        except ConfigError as exc:
            raise ConvergenceError(str(exc)) from exc
    base = request or session.RunRequest()
    try:
        plans = [
            session.plan_run(config, replace(base, scenario=scenario, seed=s, estimate_only=False))
            for s in chosen
        ]
        session.ensure_supported(plans[0].loaded)
    except session.SessionError as exc:
        raise ConvergenceError(str(exc)) from exc
    owned = store is None
    if store is None:
        store = await _open(db)
    try:
        summaries = await _run_all(plans, store, max(1, concurrency))
        for s in summaries:
            if s.status.value != "completed":
                why = f" ({s.status_reason})" if s.status_reason else ""
                raise ConvergenceError(f"run {s.run_id} (seed {s.seed}) {s.status.value}{why}")
        graphs = [await _graph(store, s.run_id) for s in summaries]
        return await _record(store, summaries[0].scenario, graphs)
    finally:
        if owned:
            await store.close()


async def compare_stored(store: Store, run_ids: Sequence[str]) -> ConvergenceSet:
    """Compare runs already in ``store`` (ids or unique prefixes; one scenario) and record the
    set."""
    from ..store import StoreError

    if len(run_ids) < 2:
        raise ConvergenceError(f"convergence compares at least two runs (got {len(run_ids)})")
    if len(run_ids) > MAX_RUNS:
        raise ConvergenceError(f"at most {MAX_RUNS} runs can be compared at once")
    try:
        summaries = [await store.get_run(r) for r in run_ids]
    except StoreError as exc:
        raise ConvergenceError(str(exc)) from exc
    seen: set[str] = set()
    for s in summaries:
        if s.run_id in seen:
            raise ConvergenceError(f"the run {s.run_id} is named twice")
        seen.add(s.run_id)
    scenarios = sorted({s.scenario for s in summaries})
    if len(scenarios) > 1:
        raise ConvergenceError(
            f"the runs are of different scenarios ({', '.join(scenarios)}); compare runs of one"
        )
    graphs = [await _graph(store, s.run_id) for s in summaries]
    return await _record(store, scenarios[0], graphs)


async def stored_sets(store: Store, limit: int | None = None) -> list[Any]:
    """The stored sets, newest first (``ConvergenceRow`` without results)."""
    return await store.convergence_sets(limit)


async def stored_set(store: Store, set_id: str) -> dict[str, Any]:
    """One stored set's result as :meth:`ConvergenceSet.to_json` gave it."""
    from ..store import StoreError

    try:
        row = await store.convergence_set(set_id)
    except StoreError as exc:
        raise ConvergenceError(str(exc)) from exc
    return {**row.result, "set_id": row.set_id, "created_at": row.created_at}


async def _open(db: str | Path | None) -> Store:
    from ..paths import resolve_db_path
    from ..store import Store, StoreError

    try:
        return await Store.open(resolve_db_path(str(db) if db is not None else None))
    except StoreError as exc:
        raise ConvergenceError(str(exc)) from exc


async def _run_all(plans: Sequence[session.RunPlan], store: Store, limit: int) -> list[Any]:
    """Each plan's run to its end, at most ``limit`` at a time; the first failure cancels the
    rest (their committed timepoints stay, as with any stopped run)."""
    from ..store import StoreError

    gate = asyncio.Semaphore(limit)

    async def one(plan: session.RunPlan) -> Any:
        async with gate:
            opened = await session.open_plan(plan)
            try:
                sim = session.build_simulation(plan, opened, store)
                return await sim.run()
            finally:
                await opened.aclose()

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(p)) for p in plans]
    except ExceptionGroup as failed:  # the first failure, as itself
        first = failed.exceptions[0]
        while isinstance(first, ExceptionGroup):
            first = first.exceptions[0]
        if isinstance(first, session.SessionError | StoreError):
            raise ConvergenceError(str(first)) from None
        raise first from None
    return [t.result() for t in tasks]


async def _graph(store: Store, run_id: str) -> RunGraph:
    summary, view = await store.load_run(run_id)  # one transaction: they agree
    return run_graph(view, summary)


async def _record(store: Store, scenario: str, graphs: Sequence[RunGraph]) -> ConvergenceSet:
    result = compare(graphs)
    made = ConvergenceSet(new_set_id(), datetime.now(UTC).isoformat(), scenario, result)
    data = made.to_json()
    await store.save_convergence_set(
        made.set_id,
        made.created_at,
        scenario,
        result.score,
        result.grade,
        data,
        [(g.run_id, g.seed) for g in graphs],
    )
    return made
