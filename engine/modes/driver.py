"""The driver a mode runs: one timepoint at a time per branch, each committed whole or, when it
fails, recorded as failed with what it spent kept and the rest discarded."""

from __future__ import annotations

from typing import Any

from ..llm.gateway import LLMCallFailed
from ..model import events as ev
from ..model.common import ExposureType
from ..model.intervention import Intervention
from ..model.knowledge import ExposureEvent
from ..model.timepoint import Timepoint
from ..steps.context import StepContext
from ..steps.exposures import record_on
from ..steps.timepoint import StepFailure, TimepointRunner
from ..store import Store
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

    async def gate(self) -> None:
        await self.control.gate()

    async def advance(self, world: World, index: int) -> Timepoint:
        recorder = self.steps.recorder
        unit = recorder.open(f"{world.branch_id}:{index}")
        try:
            timepoint = await self.runner.run(world, unit, index)
        except StepFailure as exc:
            await self.abandon(unit, world, exc)
            created = world.timepoint_id(index)
            discarded = recorder.discard(unit, world)
            recorder.emit(
                recorder.run_unit,
                world,
                ev.TimepointFailed,
                index=index,
                timepoint_id=created
                if any(isinstance(e, ev.TimepointCreated) for e in discarded)
                else None,
                error=str(exc),
                discarded_from_seq=unit.first_seq,
            )
            raise StepFailed(index, exc) from exc
        await recorder.commit(unit)
        return timepoint

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
        self, parent: World, at: str, branch_id: str, *, label: str = "", intervention: Any = None
    ) -> World:
        if not branch_id or "." in branch_id or branch_id in self.worlds:
            raise ValueError(f"{branch_id!r} cannot name a new branch")
        if at not in parent.graph:
            raise ValueError(f"timepoint {at!r} is not on branch {parent.branch_id}")
        recorder = self.steps.recorder
        unit = recorder.open(f"fork:{branch_id}")
        events = await self.store.events(recorder.run_id)
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
        return world
