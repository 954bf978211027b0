"""The bridge: the one object in the TUI that owns the engine and the store.

Screens ask it for things; it does the work in workers (explicit group and name,
``exit_on_error=False``) and answers with messages posted to the screen that asked. Widgets never
touch the engine or the store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from textual.message_pump import MessagePump

from engine.model import events as ev
from engine.model.records import QueryInfo
from engine.scenario import ScenarioError, scenario_catalog
from engine.session import ProviderUnavailable
from engine.store import Store, StoreError
from engine.view import RunView

from .messages import (
    BridgeError,
    EngineEvents,
    KnowledgeLoaded,
    LiveRunEnded,
    QueryDone,
    RunOpened,
    RunRow,
    RunsLoaded,
    TemplatesLoaded,
    TurnsLoaded,
)

if TYPE_CHECKING:
    from textual.app import App

    from engine.simulation import RunControl, Simulation

FLUSH_SECONDS = 1 / 15
EventSource = Callable[[], AsyncIterator[ev.EventBase]]


class SimulationFactory(Protocol):
    """Builds the simulation a live screen watches, and releases what it opened afterwards."""

    async def __call__(self, store: Store, control: RunControl) -> Simulation: ...

    async def aclose(self) -> None: ...


class QueryProviders(Protocol):
    """Opens the provider a stored run was made with, to put questions to its entities.
    Returns ``(provider, router, close)``; raises :class:`ProviderUnavailable` with one
    sentence saying what is missing."""

    async def __call__(
        self, provider: str, model: str, seed: int
    ) -> tuple[Any, Any, Callable[[], Any]]: ...


class EngineBridge:
    def __init__(
        self, app: App[Any], db_path: Path, query_providers: QueryProviders | None = None
    ) -> None:
        self.app = app
        self.db_path = db_path
        self.query_providers = query_providers
        self.store: Store | None = None
        self.control: RunControl | None = None  # the live run's, once one starts
        self.factory: SimulationFactory | None = None
        self._pending: list[ev.EventBase] = []
        self._target: MessagePump | None = None
        self._timer: Any = None
        self.live_run_id: str | None = None
        self._opening = asyncio.Lock()

    # ------------------------------------------------------------------ plumbing
    def _work(self, coro: Any, name: str, group: str = "bridge") -> None:
        self.app.run_worker(coro, name=name, group=group, exit_on_error=False)

    async def _store(self) -> Store:
        async with self._opening:  # two workers asking at once must not both migrate
            if self.store is None:
                self.store = await Store.open(self.db_path)
        return self.store

    @property
    def paused(self) -> bool:
        return self.control is not None and self.control.paused

    async def close(self) -> None:
        if self.control is not None:
            self.control.stop("the explorer was closed")
        if self.store is not None:
            await self.store.close()
            self.store = None

    # ------------------------------------------------------------------ home
    def refresh_runs(self, target: MessagePump) -> None:
        async def work() -> None:
            try:
                store = await self._store()
                runs = await store.list_runs()
            except StoreError as exc:
                target.post_message(BridgeError(str(exc), fatal=True))
                return
            target.post_message(
                RunsLoaded(
                    tuple(
                        RunRow(
                            r.run_id,
                            r.scenario,
                            r.title,
                            r.mode.value,
                            r.status.value,
                            r.counts.entities,
                            r.counts.timepoints,
                            r.planned_timepoints,
                            r.counts.dialog_turns,
                            r.tokens,
                            r.cost_usd,
                            r.started_at,
                            r.wall_seconds,
                        )
                        for r in runs
                    )
                )
            )

        self._work(work(), "refresh-runs")

    def load_templates(self, target: MessagePump) -> None:
        def work() -> None:
            try:
                found, errors = scenario_catalog()
            except ScenarioError as exc:  # a bundled file is broken: the install is damaged
                found, errors = [], [str(exc)]
            target.post_message(TemplatesLoaded(tuple(found), tuple(errors)))

        self.app.run_worker(
            work, name="load-templates", group="bridge", thread=True, exit_on_error=False
        )

    # ------------------------------------------------------------------ replay
    def open_run(self, target: MessagePump, run_id: str) -> None:
        async def work() -> None:
            try:
                store = await self._store()
                summary, snapshot = await store.read_snapshot(run_id)
                view = RunView.from_snapshot(summary, snapshot)
            except StoreError as exc:
                target.post_message(BridgeError(str(exc)))
                return
            target.post_message(RunOpened(view))

        self._work(work(), f"open-run-{run_id}")

    def load_turns(self, target: MessagePump, view: RunView, timepoint_ids: list[str]) -> None:
        async def work() -> None:
            missing = [t for t in timepoint_ids if not view.turns_loaded(t)]
            try:
                store = await self._store()
                records = await store.read_moments(view.run.run_id, missing)
            except StoreError as exc:
                target.post_message(BridgeError(str(exc)))
                return
            view.add_moments(missing, records)
            target.post_message(TurnsLoaded(tuple(timepoint_ids)))

        self._work(work(), "load-turns")

    def load_knowledge(self, target: MessagePump, view: RunView, entity_id: str) -> None:
        async def work() -> None:
            try:
                store = await self._store()
                records = await store.read_entities(view.run.run_id, entity_id)
            except StoreError as exc:
                target.post_message(BridgeError(str(exc)))
                return
            view.add_entity_records(entity_id, records[entity_id])
            target.post_message(KnowledgeLoaded(entity_id))

        self._work(work(), f"load-knowledge-{entity_id}")

    # ------------------------------------------------------------------ queries
    def ask(
        self,
        target: MessagePump,
        view: RunView,
        entity_id: str,
        timepoint_id: str | None,
        question: str,
    ) -> None:
        """Ask an entity about a moment; the answer comes back as :class:`QueryDone`."""

        async def work() -> None:
            from engine.query.answer import QueryFailed
            from engine.query.stored import answer_query

            provider, router, close, note = await self._query_provider(view)
            try:
                store = await self._store()
                result = await answer_query(
                    store,
                    provider,
                    view.run.run_id,
                    entity_id,
                    timepoint_id,
                    question,
                    router=router,
                )
            except (QueryFailed, StoreError) as exc:
                target.post_message(BridgeError(str(exc)))
                return
            finally:
                if close is not None:
                    await close()
            view.add_query(
                QueryInfo(
                    result.query_id,
                    result.entity_id,
                    result.timepoint_id,
                    result.question,
                    result.answer,
                    result.references,
                    result.status,
                )
            )
            target.post_message(
                QueryDone(entity_id, question, result.answer, timepoint_id, result.references, note)
            )

        self._work(work(), f"query-{entity_id}")

    async def _query_provider(self, view: RunView) -> tuple[Any, Any, Any, str | None]:
        """The run's own provider (and router) for a question, and a note when the offline
        provider answers in its place: ``(provider, router, close, note)``."""
        from engine.llm.offline import OfflineProvider

        run = view.run
        if run.provider == "offline":
            return OfflineProvider(run.seed), None, None, None
        if self.query_providers is None:
            reason = "no provider is configured here"
        else:
            try:
                provider, router, close = await self.query_providers(
                    run.provider, run.model, run.seed
                )
                return provider, router, close, None
            except ProviderUnavailable as exc:
                reason = str(exc)
        note = f"answered by the offline provider, not {run.provider}: {reason}"
        return OfflineProvider(run.seed), None, None, note

    # ------------------------------------------------------------------ live
    def start_run(
        self,
        target: MessagePump,
        factory: SimulationFactory | None = None,
        *,
        source: EventSource | None = None,
        name: str = "run",
    ) -> None:
        """Run a simulation live (or replay a scripted event source, for tests and demos)."""
        # The simulation machinery is imported on first use: browsing stored runs never needs it.
        from engine.llm.factory import ProviderSetupError
        from engine.simulation import RunControl, UnsupportedScenario

        self.control = RunControl()
        self.factory = factory
        self._target = target
        self._timer = self.app.set_interval(FLUSH_SECONDS, self._flush, name="bridge-flush")

        async def work() -> None:
            status, run_id = "failed", None
            try:
                if source is not None:
                    events = source()
                else:
                    assert factory is not None and self.control is not None
                    sim = await factory(await self._store(), self.control)
                    events = sim.events()
                async for event in events:
                    if isinstance(event, ev.RunStarted):
                        run_id = self.live_run_id = event.run_id
                    elif isinstance(event, ev.RunFinished):
                        status = event.status.value
                    self._pending.append(event)
            except (ScenarioError, UnsupportedScenario, StoreError, ProviderSetupError) as exc:
                target.post_message(BridgeError(str(exc)))
            finally:
                self._flush()
                if self._timer is not None:
                    self._timer.stop()
                if factory is not None:
                    await factory.aclose()
                target.post_message(LiveRunEnded(run_id, status))

        self._work(work(), f"live-{name}", group="engine")

    def _flush(self) -> None:
        if self._pending and self._target is not None:
            batch, self._pending = tuple(self._pending), []
            self._target.post_message(EngineEvents(batch))

    def set_pace(self, factor: float) -> float | None:
        """Make offline text arrive faster (factor > 1) or slower; return the new pace, or None
        when the run is not paced (a real model, or full speed)."""
        provider = getattr(self.factory, "provider", None)
        if provider is None or not getattr(provider, "chars_per_second", None):
            return None
        provider.chars_per_second = max(5.0, min(5000.0, provider.chars_per_second * factor))
        return provider.chars_per_second


def monotonic() -> float:
    return time.monotonic()
