"""The bridge: the one object in the TUI that owns the engine and the store.

Screens ask it for things; it does the work in workers (explicit group and name,
``exit_on_error=False``) and answers with messages posted to the screen that asked. Widgets never
touch the engine or the store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from textual.message_pump import MessagePump

from engine.model.records import QueryInfo
from engine.scenario import ScenarioError, scenario_catalog
from engine.session import ProviderUnavailable
from engine.store import Store, StoreError
from engine.view import RunView

from .bridge_convergence import ConvergenceWork
from .bridge_export import ExportWork
from .messages import (
    BridgeError,
    DiffReady,
    EngineEvents,
    ForkFinished,
    ForkPreviewed,
    KnowledgeLoaded,
    QueryConsent,
    QueryDone,
    QueryNotice,
    RunOpened,
    RunRow,
    RunsLoaded,
    TemplatesLoaded,
    TurnsLoaded,
)
from .session import FLUSH_SECONDS, EventSource, LiveSession

if TYPE_CHECKING:
    from textual.app import App

    from engine.simulation import RunControl, Simulation


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


def _sourced(item: dict[str, Any]) -> str:
    """A knowledge item with where it came from: ``… (from Chen at tp03)``."""
    origin = f"from {item['source']}" if item.get("source") else item.get("kind", "")
    when = f" at {item['timepoint_id']}" if item.get("timepoint_id") else ""
    return f"{item['information']} ({origin}{when})"


def _holder(h: Any) -> str:
    origin = f"from {h.item.source}" if h.item.source else h.item.kind
    return f"{h.name}: {h.item.information} ({origin})"


class EngineBridge(ExportWork, ConvergenceWork):
    def __init__(
        self,
        app: App[Any],
        db_path: Path,
        query_providers: QueryProviders | None = None,
        *,
        confirm_elevation: bool = True,
        registry_path: str | None = None,
    ) -> None:
        self.app = app
        self.db_path = db_path
        self.registry_path = registry_path  # the user's model registry (None: the bundled one)
        self.query_providers = query_providers
        self.confirm_elevation = confirm_elevation  # ask before a query raises or creates
        self.store: Store | None = None
        self.sessions: list[LiveSession] = []  # every live run started here, in order
        self._counter = 0
        self._opening = asyncio.Lock()

    # ------------------------------------------------------------------ plumbing
    def _work(self, work: Any, name: str, group: str = "bridge", exclusive: bool = False) -> None:
        """Run the async function ``work`` as a worker. It is given uncalled: a worker cancelled
        before it starts (the explorer closing, an exclusive one replaced) then leaves no
        coroutine that was never awaited."""
        self.app.run_worker(work, name=name, group=group, exit_on_error=False, exclusive=exclusive)

    async def _store(self) -> Store:
        async with self._opening:  # two workers asking at once must not both migrate
            if self.store is None:
                self.store = await Store.open(self.db_path)
        return self.store

    async def close(self) -> None:
        for session in self.live:
            await session.end("the explorer was closed")
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

        self._work(work, "refresh-runs")

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

        self._work(work, f"open-run-{run_id}")

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

        self._work(work, "load-turns")

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

        self._work(work, f"load-knowledge-{entity_id}")

    # ------------------------------------------------------------------ queries
    def query(
        self,
        target: MessagePump,
        view: RunView,
        text: str,
        timepoint_id: str | None,
        *,
        agreed: bool = False,
    ) -> None:
        """Carry out a typed query at a moment. An answer comes back as :class:`QueryDone`;
        a lookup or an elevation by itself as :class:`QueryNotice`; a query that would raise
        or create an entity, when the explorer asks first, as :class:`QueryConsent`."""

        async def work() -> None:
            from engine.query.answer import QueryFailed
            from engine.query.execute import Consent
            from engine.query.stored import run_query

            yes = agreed or not self.confirm_elevation
            consent = Consent(elevate=yes, create=yes)
            session = self.session_for(view.run.run_id)
            note = None
            try:
                if session is not None and session.running and session.simulation is not None:
                    outcome = await session.simulation.query(text, at=timepoint_id, consent=consent)
                else:
                    provider, router, close, note = await self._query_provider(view)
                    try:
                        store = await self._store()
                        outcome = await run_query(
                            store,
                            provider,
                            view.run.run_id,
                            text,
                            at=timepoint_id,
                            consent=consent,
                            router=router,
                        )
                    finally:
                        if close is not None:
                            await close()
            except (QueryFailed, StoreError) as exc:
                target.post_message(BridgeError(str(exc)))
                return
            if outcome.needs_consent:
                target.post_message(QueryConsent(text, timepoint_id, outcome.message))
                return
            done = [
                f"created {outcome.created.profile.name}" if outcome.created else "",
                outcome.elevation.describe() if outcome.elevated else "",
                note or "",
            ]
            if session is None or not session.running:  # a live run's events arrive anyway
                for made in (outcome.created, outcome.elevated):
                    if made is not None:
                        view.apply(made)
            result = outcome.answer
            if result is None:
                lines = [outcome.message, *(_holder(h) for h in outcome.holders)]
                target.post_message(QueryNotice("\n".join(x for x in lines if x)))
                return
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
                QueryDone(
                    result.entity_id,
                    result.question,
                    result.answer,
                    result.timepoint_id,
                    tuple(_sourced(item) for item in result.provenance) or result.references,
                    "; ".join(x for x in done if x) or None,
                    result.query_id,
                )
            )

        self._work(work, "query")

    async def _query_provider(self, view: RunView) -> tuple[Any, Any, Any, str | None]:
        """The run's own provider (and router) for a question, and a note when the offline
        provider answers in its place: ``(provider, router, close, note)``."""
        from engine.llm.factory import OfflineProvider

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

    # ------------------------------------------------------------------ forks
    def preview_fork(self, target: MessagePump, run_id: str, at: str, change: Any) -> None:
        """What a fork would reach and cost, as :class:`ForkPreviewed` (nothing is made)."""

        async def work() -> None:
            from engine.forks import preview
            from engine.session import SessionError

            try:
                shown = await preview(await self._store(), run_id, at, change, None)
            except (SessionError, StoreError) as exc:
                target.post_message(ForkPreviewed((), str(exc)))
                return
            target.post_message(ForkPreviewed(preview_lines(shown)))

        # the function, not a coroutine: a preview replaced before it starts leaves nothing behind
        self._work(work, f"fork-preview-{run_id}", group="fork-preview", exclusive=True)

    def run_fork(
        self, target: MessagePump, view: RunView, at: str, change: Any, label: str
    ) -> None:
        """Make the fork and run its branch to the end, then :class:`ForkFinished`."""

        async def work() -> None:
            from engine.forks import preview
            from engine.session import SessionError
            from engine.simulation import ResumeError, Simulation

            run_id = view.run.run_id
            provider, router, close, note = await self._query_provider(view)
            try:
                store = await self._store()
                shown = await preview(store, run_id, at, change, None)
                sim = await Simulation.fork(
                    store,
                    run_id,
                    at=at,
                    intervention=shown.intervention,
                    provider=provider,
                    router=router,
                    branch_id=shown.branch_id,
                    label=label,
                )
                # the branch plays live: its events reach the screen in batches as they happen
                pending: list[Any] = []

                def flush() -> None:
                    if pending:
                        batch = tuple(pending)
                        pending.clear()
                        target.post_message(EngineEvents(batch))

                timer = self.app.set_interval(FLUSH_SECONDS, flush, name=f"fork-{run_id}")
                try:
                    await sim.run(pending.append)
                finally:
                    timer.stop()
                    flush()
                branch = await store.branch(run_id, shown.branch_id)
            except (SessionError, ResumeError, StoreError) as exc:
                target.post_message(BridgeError(str(exc)))
                return
            finally:
                if close is not None:
                    await close()
            if note:
                target.post_message(BridgeError(note.replace("answered", "forked", 1)))
            first = next(
                (
                    t.timepoint_id
                    for t in sim.worlds[shown.branch_id].timepoints
                    if t.branch_id == shown.branch_id
                ),
                None,
            )
            target.post_message(
                ForkFinished(shown.branch_id, branch.status, branch.status_reason, first)
            )

        self._work(work, f"fork-{view.run.run_id}", group="fork")

    def diff_branches(self, target: MessagePump, run_id: str, a: str, b: str) -> None:
        """Compare two branches of a run from the log, as :class:`DiffReady`."""

        async def work() -> None:
            from engine.query.diff import DiffError, diff
            from engine.scenario.schema import Scenario

            try:
                events = await (await self._store()).events(run_id)
                start = events[0]
                scenario = Scenario.model_validate(getattr(start, "scenario_data", {}))
                result = diff(scenario, events, run_id, a, b)
            except (DiffError, StoreError, ValueError, IndexError) as exc:
                target.post_message(BridgeError(f"cannot compare {a} and {b}: {exc}"))
                return
            target.post_message(DiffReady(result))

        self._work(work, f"diff-{run_id}", group="diff")

    # ------------------------------------------------------------------ live
    def start_session(
        self,
        factory: SimulationFactory | None = None,
        *,
        source: EventSource | None = None,
        name: str = "run",
    ) -> LiveSession:
        """Run a simulation live (or play a scripted event source, for tests and demos) in a
        session of its own; the caller attaches a screen to it."""
        self._counter += 1
        session = LiveSession(self.app, f"{name}-{self._counter}", factory, source)
        self.sessions.append(session)

        async def work() -> None:
            await session.run(await self._store())

        session.worker = self.app.run_worker(
            work(), name=f"live-{session.name}", group="engine", exit_on_error=False
        )
        return session

    def session_for(self, run_id: str | None) -> LiveSession | None:
        """The live session of ``run_id`` in this explorer, if there is one."""
        return next((s for s in self.sessions if run_id and s.run_id == run_id), None)

    @property
    def live(self) -> list[LiveSession]:
        """The sessions whose run is still going."""
        return [s for s in self.sessions if s.running]


def monotonic() -> float:
    return time.monotonic()


def preview_lines(shown: Any) -> tuple[str, ...]:
    """A fork's preview for people: its cost, then whom it reaches."""
    lines = [f"as {shown.branch_id}: {shown.cost.text()}"]
    for r in shown.reach:
        if r.hop == 0:
            lines.append(f"changes {r.name} directly at {r.timepoint_id}")
            continue
        via = f", told by {shown.names.get(r.via, r.via)}" if r.via else ""
        lines.append(f"reaches {r.name} ({r.timepoint_id}, hop {r.hop}{via})")
    if shown.intervention is not None and len(shown.reach) <= 1:
        lines.append("nobody else, as far as the parent branch shows")
    return tuple(lines)
