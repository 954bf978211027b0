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
from ..model import events as ev
from ..model.run import RunSummary
from ..store import RunHeldError, Store, StoreError
from ..world import Recorder
from ..world.world import branch_of
from .answer import Loaded, QueryAnswer, QueryFailed, load
from .elevation import ElevationFailed
from .execute import NO_CONSENT, Consent, Executor, Outcome
from .ondemand import CreationFailed

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


async def run_query(
    store: Store,
    provider: Provider,
    run_id: str,
    text: str,
    *,
    at: str | None = None,
    branch: str | None = None,
    consent: Consent = NO_CONSENT,
    router: Router | None = None,
    transcripts: Transcripts | None = None,
) -> Outcome:
    """Carry out one typed query on a stored run (see :mod:`.execute`); what it records is
    appended to the run's log. Raises :class:`QueryFailed` in one sentence."""
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
            return await _run(
                store, summary, provider, text, at, branch, consent, router, transcripts
            )
        finally:
            await store.end_lease(summary.run_id)


async def _run(
    store: Store,
    summary: RunSummary,
    provider: Provider,
    text: str,
    at: str | None,
    branch: str | None,
    consent: Consent,
    router: Router | None,
    transcripts: Transcripts | None,
) -> Outcome:
    loaded = await load(store, summary.run_id)
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
    return await perform(
        store, loaded, gateway, recorder, summary.counts.queries, text, at, branch, consent
    )


async def perform(
    store: Store,
    loaded: Loaded,
    gateway: Gateway,
    recorder: Recorder,
    asked_before: int,
    text: str,
    at: str | None,
    branch: str | None,
    consent: Consent,
) -> Outcome:
    """Run one query in a unit of ``recorder``'s, committed whatever happens (what was spent
    is recorded, answered or not). The recorder is the run's writer: this module's for a
    stored run, the simulation's for a live one."""
    unit = recorder.open("query")
    run_id = loaded.summary.run_id

    async def profile_of(entity_id: str) -> Any:
        for event in unit.events:  # created by this query, not stored yet
            if isinstance(event, ev.EntityCreated) and event.profile.entity_id == entity_id:
                return event.profile
        return await store.read_profile(run_id, entity_id)

    executor = Executor(loaded, gateway, recorder, unit, asked_before, profile_of)
    try:
        return await executor.run(text, at=at, branch=branch, consent=consent)
    except BudgetExceeded as exc:
        raise QueryFailed(str(exc)) from exc
    except (ElevationFailed, CreationFailed) as exc:
        raise QueryFailed(str(exc)) from exc
    finally:
        await recorder.commit(unit)


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
    """Ask one entity one question about one moment, raising its level as the question needs
    (consent given), and return the answer. Raises :class:`QueryFailed`."""
    outcome = await run_query(
        store,
        provider,
        run_id,
        f"@{entity_id} {question}",
        at=timepoint_id,
        branch=branch_of(timepoint_id),
        consent=Consent(elevate=True),
        router=router,
        transcripts=transcripts,
    )
    if outcome.answer is None:  # an id nobody has: this form does not create anyone
        raise QueryFailed(f"run {run_id} has no entity {entity_id!r}")
    return outcome.answer
