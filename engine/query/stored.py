"""Questions put to a stored run (one no process is writing): answered through a gateway set
up as the run's own (its cassette, its budget with what it has spent) and appended to its log
after its last event. A run being written by a live simulation is questioned through that
simulation instead (``Simulation.ask``), so that one writer numbers its events."""

from __future__ import annotations

import asyncio
from typing import Any

from ..llm.budget import Budget, BudgetExceeded, BudgetTracker
from ..llm.cassette import Cassette, Transcripts
from ..llm.gateway import Gateway
from ..llm.protocol import Provider
from ..llm.registry import Router
from ..model.run import RunSummary
from ..store import RunHeldError, Store, StoreError
from ..world import Recorder
from ..world.world import branch_of
from .answer import QueryAnswer, QueryFailed, ask, build_context, query_id

_LOCKS: dict[tuple[str, str], asyncio.Lock] = {}


def _budget(recorded: dict[str, Any] | None) -> Budget | None:
    if not recorded or (recorded.get("tokens") is None and recorded.get("usd") is None):
        return None
    return Budget(
        tokens=recorded.get("tokens"),
        usd=recorded.get("usd"),
        hard=recorded.get("mode", "hard") == "hard",
        warn_fraction=float(recorded.get("warn_fraction", 0.8)),
    )


async def answer_query(
    store: Store,
    provider: Provider,
    run_id: str,
    entity_id: str,
    timepoint_id: str | None,
    question: str,
    *,
    router: Router | None = None,
    transcripts: Transcripts | None = None,
) -> QueryAnswer:
    """Ask, validate, record and return the answer. Raises :class:`QueryFailed`."""
    try:
        summary = await store.get_run(run_id)
    except StoreError as exc:
        raise QueryFailed(str(exc)) from exc
    async with _LOCKS.setdefault((store.path, summary.run_id), asyncio.Lock()):
        try:
            await store.take_lease(summary.run_id)
        except RunHeldError as exc:
            raise QueryFailed(f"{exc}; ask it there") from exc
        try:
            return await _answer(
                store, summary, provider, entity_id, timepoint_id, question, router, transcripts
            )
        finally:
            await store.end_lease(summary.run_id)


async def _answer(
    store: Store,
    summary: RunSummary,
    provider: Provider,
    entity_id: str,
    timepoint_id: str | None,
    question: str,
    router: Router | None,
    transcripts: Transcripts | None,
) -> QueryAnswer:
    context = await build_context(store, summary.run_id, entity_id, timepoint_id, question)
    budget = _budget(await store.read_budget(summary.run_id))
    tracker = None
    if budget is not None:
        tracker = BudgetTracker(budget)
        tracker.spent_tokens, tracker.spent_usd = summary.spent_tokens, summary.spent_usd
    cassette = (
        Cassette(store.cassette_get, record=transcripts is None)
        if getattr(provider, "cacheable", False)
        else None
    )
    gateway = Gateway(
        provider, router=router, cassette=cassette, budget=tracker, transcripts=transcripts
    )
    recorder = Recorder(summary.run_id, store, cassette)
    recorder.seq = await store.last_seq(summary.run_id)
    unit = recorder.open("query")
    asked = query_id((await store.get_run(summary.run_id)).counts.queries)
    try:
        event = await ask(gateway, recorder, unit, asked, context, branch_of(context.timepoint_id))
    except BudgetExceeded as exc:
        raise QueryFailed(str(exc)) from exc
    finally:
        await recorder.commit(unit)  # what was spent is recorded, answered or not
    return QueryAnswer.of(event)
