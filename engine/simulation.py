"""The Simulation: the façade that runs, resumes and questions a run. No mechanism lives here.

``Simulation.events()`` runs the scenario and yields every event as it happens; ``run()`` does
the same and returns the run's summary. The scenario's temporal mode (``engine.modes``) decides
which timepoints are made on which branches; the steps (``engine.steps``) make each one over
the branch's World; the recorder (``engine.world.recorder``) numbers, folds and commits the
events, one transaction per timepoint. Independent calls run concurrently; the order of
persisted events depends only on the scenario, the seed and the provider's answers, never on
which call happened to finish first.

Every call goes through one :class:`~engine.llm.gateway.Gateway` (cassette, model router M18,
budget). A hard budget stops the run cleanly before a call could overspend: the run is marked
``stopped`` with a reason starting "budget", the calls already made stay recorded, and
:meth:`Simulation.resume` continues it later from its last committed timepoint with its World
rebuilt from the stored events, exactly as an uninterrupted run would have gone on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from .llm.budget import Budget, BudgetExceeded, BudgetNotice, BudgetTracker
from .llm.cassette import Cassette, Transcripts
from .llm.gateway import Gateway, LLMCallFailed
from .llm.protocol import Provider
from .llm.registry import Router
from .model import events as ev
from .model.common import MAIN_BRANCH, RunStatus
from .model.intervention import Intervention
from .model.run import RunSummary
from .modes import MODES, SUPPORTED_MODES, ModeFailed, RunControl, StepFailed, Stopped
from .modes.driver import RunDriver
from .modes.fork import Fork, interpret
from .query.answer import load
from .query.execute import NO_CONSENT as NO
from .query.execute import Consent, Outcome
from .query.held import HeldQueries
from .query.stored import perform
from .runs import (
    ResumeError,
    UnsupportedScenario,
    config_hash,
    new_run_id,
    recorded_scenario,
    scenario_budget,
)
from .scenario.loader import LoadedScenario
from .steps import setup
from .steps.context import StepContext
from .steps.timepoint import TimepointRunner
from .store import RunHeldError, Store, StoreError
from .view.failures import mostly_failed
from .view.tally import RunTally
from .world import Recorder, World
from .world.replaying import InconsistentLog, replay_worlds
from .world.world import branch_of

__all__ = [
    "SUPPORTED_MODES",
    "ResumeError",
    "RunControl",
    "Simulation",
    "UnsupportedScenario",
    "config_hash",
    "new_run_id",
    "scenario_budget",
]

_END = object()


class Simulation:
    def __init__(
        self,
        loaded: LoadedScenario,
        *,
        provider: Provider,
        store: Store,
        seed: int | None = None,
        run_id: str | None = None,
        control: RunControl | None = None,
        gateway: Gateway | None = None,
        budget: Budget | None = None,
        router: Router | None = None,
        cache: bool = True,
        replay: bool = False,
        retry: dict[str, Any] | None = None,
        transcripts: Transcripts | None = None,
        queries: tuple[ev.EventBase, ...] = (),
    ) -> None:
        """``budget`` overrides the scenario's own (``Budget()`` means none at all); ``router``
        picks models per action (M18); ``cache`` answers repeated calls from the cassette;
        ``replay`` only reads it (a replay records nothing new) and plays back the recorded
        ``transcripts`` of its calls, failed attempts included; ``retry`` holds the gateway's
        retry settings; ``queries`` are a recorded run's observer events, which a replay asks
        again where the recorded run took them in (:mod:`.query.held`), the rest once its
        timepoints are made."""
        scenario = loaded.scenario
        if scenario.mode not in SUPPORTED_MODES:
            raise UnsupportedScenario(
                f"{scenario.name} uses {scenario.mode.value} mode, which this version cannot run "
                f"yet (it runs {', '.join(sorted(m.value for m in SUPPORTED_MODES))} scenarios)"
            )
        self.loaded = loaded
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.provider = provider
        self.store = store
        self.run_id = run_id or new_run_id()
        self.control = control or RunControl()
        self.router = router
        if budget is None:
            self.budget = scenario_budget(scenario)
        else:  # an inactive Budget() means: no budget, not even the scenario's
            self.budget = budget if budget.active else None
        cassette = (
            Cassette(store.cassette_get, record=not replay)
            if cache and getattr(provider, "cacheable", False)
            else None
        )
        tracker = BudgetTracker(self.budget, on_notice=self._notice) if self.budget else None
        if gateway is None:
            gateway = Gateway(
                provider,
                router=router,
                cassette=cassette,
                budget=tracker,
                transcripts=transcripts if replay else None,
                **(retry or {}),
            )
        else:
            gateway.router = gateway.router or router
            gateway.cassette = gateway.cassette or cassette
            gateway.budget = gateway.budget or tracker
        self.gateway = gateway
        self.scenario_data = scenario.model_dump(mode="json")
        self.config_hash = config_hash(self.scenario_data, self.seed, provider.name, provider.model)
        self.recorder = Recorder(self.run_id, store, gateway.cassette)
        self.steps = StepContext.of(scenario, self.seed, gateway, self.recorder)
        self.steps.control = self.control
        self.mode = MODES[scenario.mode](scenario)
        self.worlds: dict[str, World] = {MAIN_BRANCH: World.new(scenario)}
        runner = TimepointRunner(self.steps, self.mode.arc, lambda: self.control.holding)
        self.driver = RunDriver(self.steps, runner, self.control, store, self.worlds)
        self._resuming = False
        self._fork: Fork | None = None
        self._fork_before: RunTally | None = None
        self._asking = asyncio.Lock()
        self.held = HeldQueries(self.recorder, queries)
        self.driver.before_timepoint = partial(
            self.held.before_timepoint, query=self.query, prefetching=runner.prefetching
        )
        runner.may_prefetch = self.held.may_prefetch
        runner.makes = lambda branch, index: self.mode.makes(branch, index)  # a fork's, once set
        self._started = 0.0
        self._summary: RunSummary | None = None

    # ------------------------------------------------------------------ reading
    @property
    def world(self) -> World:
        """The main branch's World."""
        return self.worlds[MAIN_BRANCH]

    timepoints = property(lambda self: self.world.timepoints)  # the main branch's

    @property
    def summary(self) -> RunSummary | None:
        return self._summary

    # ------------------------------------------------------------------ running
    async def events(self) -> AsyncIterator[ev.EventBase]:
        """Run the simulation, yielding every event (streamed chunks included) as it happens."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.recorder.listeners.append(queue.put_nowait)
        driver = asyncio.create_task(self._drive())
        driver.add_done_callback(lambda _: queue.put_nowait(_END))
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                yield item
            await driver
        finally:
            if not driver.done():
                if self.control.stop_reason is None:  # a signal has said why
                    self.control.stop("the viewer closed")
                driver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await driver
            self.recorder.listeners.remove(queue.put_nowait)

    async def run(self, on_event: Callable[[ev.EventBase], None] | None = None) -> RunSummary:
        async for event in self.events():
            if on_event is not None:
                on_event(event)
        assert self._summary is not None
        return self._summary

    def _notice(self, notice: BudgetNotice) -> None:
        self.recorder.emit(
            self.recorder.run_unit,
            None,
            ev.BudgetWarning,
            sim_time=self.world.sim_time,
            dimension=notice.dimension,
            spent=round(notice.spent, 6),
            limit=notice.limit,
            exceeded=notice.exceeded,
            hard=notice.hard,
            message=notice.text(),
        )

    async def _drive(self) -> None:
        if not self.store.leases.holds(self.run_id):
            await self.store.take_lease(self.run_id)
        try:
            await self._run()
        finally:
            await self.store.end_lease(self.run_id)

    async def _run(self) -> None:
        self._started = time.perf_counter()
        await self._open()
        status, reason = RunStatus.COMPLETED, None
        try:
            if not self.world.entities:
                unit = self.recorder.open("setup")
                try:
                    await setup.populate(self.steps, self.world, unit)
                except LLMCallFailed as exc:
                    self.recorder.calls(unit, self.world, exc.records)
                    self.recorder.discard(unit, self.world)
                    raise _SetupFailed(exc) from exc
                await self.recorder.commit(unit)
            await self.mode.run(self.driver)
        except StepFailed as exc:
            status, reason = RunStatus.FAILED, f"timepoint {exc.index + 1}: {exc}"
        except _SetupFailed as exc:
            status, reason = RunStatus.FAILED, f"setup: {exc}"
        except ModeFailed as exc:
            status, reason = RunStatus.FAILED, str(exc)
        except Stopped as stop:
            await self._abandon(None)
            status, reason = RunStatus.STOPPED, stop.reason
        except BudgetExceeded as exc:
            await self._abandon(exc)
            status, reason = RunStatus.STOPPED, str(exc)
        except asyncio.CancelledError:
            await self._abandon(None)
            await self._finish(RunStatus.STOPPED, self.control.stop_reason or "cancelled")
            raise
        except StoreError:
            raise
        except Exception as exc:
            await self._abandon(None)
            await self._finish(RunStatus.FAILED, f"internal error: {exc.__class__.__name__}: {exc}")
            raise
        # A call nobody waits for any more is stopped, and every attempt not in the log yet
        # goes into it before the end: a run records every call it made, whatever became of it.
        await self._abandon(None)
        if status is RunStatus.COMPLETED:  # made to the end, but did most of it fail?
            branch = self._fork.branch_id if self._fork is not None else None
            failed = mostly_failed(await self.store.events(self.run_id), branch)
            status, reason = (RunStatus.FAILED, failed) if failed else (status, reason)
        await self._finish(status, reason)
        # a replay asks the recorded queries the run did not take in on the way, after its end
        if await self.held.ask_again(self.held.asks(), self.query):
            self._summary = await self.store.get_run(self.run_id)

    async def _abandon(self, exc: BaseException | None) -> None:
        """Discard every unit still open (a timepoint under way), keeping what it spent."""
        recorder = self.recorder
        await self.driver.abandon(recorder.run_unit, self.world, exc)
        for unit in recorder.open_units():
            recorder.discard(unit, self.worlds.get(unit.name.split(":", 1)[0]))

    async def _open(self) -> None:
        """Record the start (or the resumption) of the run. A fork's start is its branch."""
        if self._fork is not None:
            self._fork_before = self._fork_before or self.recorder.tally()
            return
        unit = self.recorder.open("start")
        if self._resuming:
            self.recorder.emit(
                unit,
                None,
                ev.RunResumed,
                sim_time=self.world.sim_time,
                from_index=self.world.completed,
                provider=self.provider.name,
                model=self.provider.model,
                budget=self.budget.describe() if self.budget else None,
                resumed_at=datetime.now(UTC),
            )
        else:
            self.recorder.emit(
                unit,
                None,
                ev.RunStarted,
                sim_time=self.scenario.timeline.start,
                scenario=self.scenario.name,
                title=self.scenario.title,
                mode=self.scenario.mode,
                seed=self.seed,
                config_hash=self.config_hash,
                provider=self.provider.name,
                model=self.provider.model,
                source=self.loaded.source,
                scenario_data=self.scenario_data,
                planned_timepoints=self.mode.planned_timepoints(),
                warnings=self.loaded.warnings,
                started_at=datetime.now(UTC),
                budget=self.budget.describe() if self.budget else None,
                routing=self.router.describe() if self.router else {},
            )
        await self.recorder.commit(unit)

    async def _finish(self, status: RunStatus, reason: str | None) -> None:
        wall = time.perf_counter() - self._started
        tally = self.recorder.tally()
        if self._fork is not None:
            await self._finish_fork(status, reason, wall, tally)
            return
        self.recorder.emit(
            self.recorder.run_unit,
            None,
            ev.RunFinished,
            sim_time=self.world.sim_time,
            status=status,
            reason=reason,
            counts=tally.counts(),
            wall_seconds=round(wall, 4),
            finished_at=datetime.now(UTC),
            spent_tokens=tally.spent_tokens,
            spent_usd=round(tally.spent_usd, 6),
            cached_calls=tally.cached_calls,
        )
        await self.recorder.commit(self.recorder.run_unit)
        self._summary = await self.store.get_run(self.run_id)

    async def _finish_fork(
        self, status: RunStatus, reason: str | None, wall: float, tally: RunTally
    ) -> None:
        assert self._fork is not None
        before = self._fork_before or RunTally()
        made = tally.minus(before)
        self.fork_tally = made
        self.recorder.emit(
            self.recorder.run_unit,
            None,
            ev.BranchFinished,
            branch_id=self._fork.branch_id,
            sim_time=self.world.sim_time,
            status=status,
            reason=reason,
            counts=made.counts(),
            wall_seconds=round(wall, 4),
            finished_at=datetime.now(UTC),
        )
        await self.recorder.commit(self.recorder.run_unit)
        self._summary = await self.store.get_run(self.run_id)

    # ------------------------------------------------------------------ questions
    async def query(
        self, text: str, *, at: str | None = None, branch: str | None = None, consent: Consent = NO
    ) -> Outcome:
        """Carry out a typed query, recorded by this simulation's recorder and gateway (one
        writer). A moment not committed yet is answered at the newest committed one. What it
        does reaches the live Worlds before their next timepoints (:mod:`.query.held`)."""
        async with self._asking:
            loaded = await load(self.store, self.run_id)
            if at is not None and loaded.view.timepoint(at) is None and loaded.view.timepoints:
                at = loaded.view.timepoints[-1].timepoint_id
            asked = self.recorder.tally().queries
            with self.held.hearing():
                return await perform(
                    self.store,
                    loaded,
                    self.gateway,
                    self.recorder,
                    asked,
                    text,
                    at,
                    branch,
                    consent,
                )

    # ------------------------------------------------------------------ resume
    @classmethod
    async def resume(
        cls, store: Store, run_id: str, *, provider: Provider, **options: Any
    ) -> Simulation:
        """A simulation that continues a stopped, failed or interrupted run from its last
        committed timepoint, with its Worlds rebuilt from the stored events. ``options`` are
        those of the constructor (budget, router, control, cache, retry)."""
        full = await store.resolve_run_id(run_id)
        try:
            await store.take_lease(full)
        except RunHeldError as exc:
            raise ResumeError(f"{exc}; it cannot be resumed while it runs") from exc
        try:
            return await cls._resumed(store, full, provider, options)
        except BaseException:
            await store.end_lease(full)
            raise

    @classmethod
    async def _resumed(
        cls, store: Store, run_id: str, provider: Provider, options: dict[str, Any]
    ) -> Simulation:
        summary = await store.get_run(run_id)
        if summary.status is RunStatus.COMPLETED:
            raise ResumeError(f"the run {summary.run_id} is complete; there is nothing to resume")
        sim = await cls._reopened(store, run_id, provider, options)
        sim._restore(await store.events(summary.run_id))
        return sim

    @classmethod
    async def _reopened(
        cls, store: Store, run_id: str, provider: Provider, options: dict[str, Any]
    ) -> Simulation:
        """A simulation over a stored run's scenario and seed, its Worlds not rebuilt yet."""
        summary = await store.get_run(run_id)
        loaded, seed = recorded_scenario(summary.run_id, await store.events(summary.run_id))
        return cls(
            loaded, provider=provider, store=store, seed=seed, run_id=summary.run_id, **options
        )

    @classmethod
    async def fork(
        cls,
        store: Store,
        run_id: str,
        *,
        at: str,
        intervention: Intervention | None,
        provider: Provider,
        branch_id: str,
        label: str = "",
        steps: int | None = None,
        **options: Any,
    ) -> Simulation:
        """A simulation that opens branch ``branch_id`` at timepoint ``at`` of a stored run,
        applies ``intervention`` there and runs the branch forward (``steps`` timepoints, or to
        the scenario's end). The run keeps its id; the branch's events join its log."""
        full = await store.resolve_run_id(run_id)
        try:
            await store.take_lease(full)
        except RunHeldError as exc:
            raise ResumeError(f"{exc}; it cannot be forked while it runs") from exc
        try:
            sim = await cls._reopened(store, full, provider, options)
            events = await store.events(full)
            sim.recorder.restore(events)
            parent = branch_of(at)
            sim.worlds[MAIN_BRANCH] = World.replay(sim.scenario, events)
            sim.worlds[parent] = World.replay(sim.scenario, events, parent)
            sim._fork = Fork(
                sim.scenario,
                sim.mode,
                parent=parent,
                at=at,
                branch_id=branch_id,
                intervention=intervention,
                label=label,
                steps=steps,
            )
            sim.mode = sim._fork
            return sim
        except BaseException:
            await store.end_lease(full)
            raise

    async def interpret(self, text: str) -> Intervention:
        """A fork's free-text what-if, read by the provider as one structured intervention."""
        assert self._fork is not None, "only a fork reads a what-if"
        self._fork_before = self._fork_before or self.recorder.tally()
        change = await interpret(self.steps, await self.store.events(self.run_id), self._fork, text)
        self._fork.intervention = change
        return change

    def _restore(self, events: list[ev.EventBase]) -> None:
        try:  # a branching run's branches go on from where they stood
            worlds, closed = replay_worlds(self.scenario, self.run_id, events)
        except InconsistentLog as exc:
            raise ResumeError(str(exc)) from None
        self.worlds.update(worlds)
        self.driver.closed |= closed
        self.recorder.restore(events)
        if self.gateway.budget is not None:
            # A resumed run's budget counts what the whole run has spent.
            self.gateway.budget.spent_tokens = self.recorder.committed.spent_tokens
            self.gateway.budget.spent_usd = self.recorder.committed.spent_usd
        self._resuming = True


class _SetupFailed(Exception):
    pass
