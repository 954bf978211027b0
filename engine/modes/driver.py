"""The driver a mode runs: one timepoint at a time per branch, each committed whole or, when it
fails, recorded as failed with what it spent kept and the rest discarded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ..llm.gateway import LLMCallFailed
from ..model import events as ev
from ..model.common import ExposureType, RunStatus
from ..model.intervention import Intervention
from ..model.knowledge import ExposureEvent
from ..model.timepoint import Timepoint
from ..steps.context import StepContext
from ..steps.exposures import record_on
from ..steps.timepoint import Given, StepFailure, TimepointRunner
from ..store import Store
from ..view.tally import RunTally
from ..world import Unit, World
from ..world.world import branch_of
from .base import StepFailed
from .control import RunControl


class RunDriver:
    def __init__(
        self,
        steps: StepContext,
        runner: TimepointRunner,
        control: RunControl,
        store: Store,
        worlds: dict[str, World],
    ) -> None:
        self.steps = steps
        self.runner = runner
        self.control = control
        self.store = store
        self.worlds = worlds
        self.closed: set[str] = set()  # branches whose BranchFinished is in the log
        self._opened: dict[str, float] = {}
        # called before a World's next timepoint is made: what observers did meanwhile
        self.before_timepoint: Callable[[World, int], Awaitable[None]] | None = None

    async def gate(self) -> None:
        await self.control.gate()

    async def events(self) -> list[ev.EventBase]:
        return await self.store.events(self.steps.recorder.run_id)

    async def advance(self, world: World, index: int, given: Given | None = None) -> Timepoint:
        recorder = self.steps.recorder
        if self.before_timepoint is not None:
            await self.before_timepoint(world, index)
        unit = recorder.open(f"{world.branch_id}:{index}")
        try:
            timepoint = await self.runner.run(world, unit, index, given)
        except StepFailure as exc:
            await self.abandon(unit, world, exc)
            raise self._failed(unit, world, index, exc) from exc
        await recorder.commit(unit)
        return timepoint

    def _failed(self, unit: Unit, world: World, index: int, exc: BaseException) -> StepFailed:
        """Record a timepoint's failure: its events are discarded, what it spent is kept."""
        recorder = self.steps.recorder
        first = recorder.seq + 1 if unit.deferred else unit.first_seq
        discarded = recorder.discard(unit, world)
        recorder.emit(
            recorder.run_unit,
            world,
            ev.TimepointFailed,
            index=index,
            timepoint_id=world.timepoint_id(index)
            if any(isinstance(e, ev.TimepointCreated) for e in discarded)
            else None,
            error=str(exc),
            discarded_from_seq=first,
        )
        return StepFailed(index, exc)

    async def advance_together(
        self, worlds: list[World], index: int, given: dict[str, Given] | None = None
    ) -> dict[str, StepFailed]:
        """Make timepoint ``index`` on every one of ``worlds``' branches side by side, then
        commit them in the order given, so that the log does not depend on which call finished
        first. A branch whose timepoint fails is recorded as failed and returned; the others
        are committed. Anything else (a stop, the budget) commits what was finished and raises.
        ``given`` holds, by branch, what the mode says happens there (no event call)."""
        recorder = self.steps.recorder
        if self.before_timepoint is not None:
            for world in worlds:
                await self.before_timepoint(world, index)
        units = [recorder.open(f"{w.branch_id}:{index}", deferred=True) for w in worlds]
        results = await asyncio.gather(
            *(
                self.runner.run(w, u, index, (given or {}).get(w.branch_id))
                for w, u in zip(worlds, units, strict=True)
            ),
            return_exceptions=True,
        )
        failed: dict[str, StepFailed] = {}
        fatal: BaseException | None = None
        for world, unit, result in zip(worlds, units, results, strict=True):
            if not isinstance(result, BaseException):
                await recorder.commit(unit)
            elif isinstance(result, StepFailure):
                self.runner.drop_prefetched(world.branch_id)
                if isinstance(result, LLMCallFailed):
                    recorder.calls(unit, world, result.records)
                for record in self.steps.gateway.records:
                    if branch_of(record.timepoint_id) == world.branch_id:
                        recorder.calls(unit, world, [record])
                failed[world.branch_id] = self._failed(unit, world, index, result)
            else:
                recorder.discard(unit, world)
                fatal = fatal or result
        if failed:
            await recorder.commit(recorder.run_unit)
        if fatal is not None:
            raise fatal
        return failed

    async def close(
        self,
        world: World,
        status: RunStatus,
        reason: str | None = None,
        outcome: Any = None,
    ) -> None:
        """Record that a branch is finished (and how it came out, when it was scored)."""
        recorder = self.steps.recorder
        branch = world.branch_id
        events = await self.events()
        made = RunTally().add_all(e for e in events if e.branch_id == branch)
        if outcome is not None:
            recorder.emit(
                recorder.run_unit,
                world,
                ev.BranchScored,
                score=outcome.score,
                components=outcome.components,
                weights=outcome.weights,
                missing=outcome.missing,
                details=outcome.details,
            )
        recorder.emit(
            recorder.run_unit,
            world,
            ev.BranchFinished,
            status=status,
            reason=reason,
            counts=made.counts(),
            wall_seconds=round(
                time.perf_counter() - self._opened.get(branch, time.perf_counter()), 4
            ),
            finished_at=datetime.now(UTC),
        )
        await recorder.commit(recorder.run_unit)
        self.closed.add(branch)

    async def abandon(self, unit: Unit, world: World | None, exc: BaseException | None) -> None:
        """Stop everything running for a unit and report every call it made, so that what
        was spent stays in the log when the rest of the unit is discarded."""
        await self.steps.cancel_background()
        self.runner.drop_prefetched()
        recorder = self.steps.recorder
        if isinstance(exc, LLMCallFailed):
            recorder.calls(unit, world, exc.records)
        for record in self.steps.gateway.records:
            if not recorder.reported(record.call_id):
                owner = self.worlds.get(branch_of(record.timepoint_id), world)
                recorder.calls(unit, owner, [record])

    async def fork(
        self,
        parent: World,
        at: str | None,
        branch_id: str,
        *,
        label: str = "",
        intervention: Any = None,
    ) -> World:
        """A new branch from ``parent`` as it stood once ``at`` was complete; with ``at`` None,
        from ``parent`` before its first timepoint (its cast made, nothing happened yet)."""
        if not branch_id or "." in branch_id or branch_id in self.worlds:
            raise ValueError(f"{branch_id!r} cannot name a new branch")
        if at is not None and at not in parent.graph:
            raise ValueError(f"timepoint {at!r} is not on branch {parent.branch_id}")
        if at is None and parent.timepoints:
            raise ValueError(f"branch {parent.branch_id} has timepoints; name the one to fork at")
        recorder = self.steps.recorder
        unit = recorder.open(f"fork:{branch_id}")
        events = await self.store.events(recorder.run_id)
        if at is None:
            world = World.replay(self.steps.scenario, events, parent.branch_id)
            world.branch_id = branch_id
        else:
            world = World.fork(self.steps.scenario, events, at, branch_id)
        change = intervention if isinstance(intervention, Intervention) else None
        recorder.emit(
            unit,
            world,
            ev.BranchCreated,
            parent_branch_id=parent.branch_id,
            fork_timepoint_id=at,
            label=label,
            intervention=change.model_dump(mode="json", exclude_none=True)
            if change
            else (intervention or {}),
        )
        if change is not None and change.kind == "tell" and change.entity and change.information:
            told = ExposureEvent(
                exposure_id="",
                entity_id=change.entity,
                kind=ExposureType.LEARNED,
                information=change.information,
                source=None,
                timestamp=world.sim_time or self.steps.scenario.timeline.start,
                confidence=1.0,
                timepoint_id=at,
            )
            record_on(recorder, unit, world, told)
        await recorder.commit(unit)
        self.worlds[branch_id] = world
        self._opened[branch_id] = time.perf_counter()
        return world
