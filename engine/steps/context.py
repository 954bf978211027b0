"""What every step of a timepoint works with: the run's settings, its gateway and recorder,
the calls running in the background, and the moment (World, unit, timepoint) being made."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import cached_property
from random import Random
from typing import Any, Protocol

from pydantic import BaseModel

from ..llm.contexts import ScenarioBrief
from ..llm.gate import CallGate, gated
from ..llm.gateway import CallRecord, Gateway, LLMCallFailed
from ..llm.protocol import ActionType, SamplingParams
from ..model import events as ev
from ..model.common import ResolutionLevel
from ..model.timepoint import Timepoint
from ..scenario.schema import Scenario
from ..world import Recorder, Unit, World

Answer = tuple[BaseModel, list[CallRecord]]


class RunGate(CallGate, Protocol):
    async def hold(self) -> None:
        """Wait while the run is paused; raise once it is stopped."""


@dataclass
class StepContext:
    """The run-wide part: one per simulation, shared by every branch."""

    scenario: Scenario
    seed: int
    gateway: Gateway
    recorder: Recorder
    brief: ScenarioBrief
    background: set[asyncio.Future[Any]] = field(default_factory=set)
    # the run's control: a paused run starts no new model call, and a call still queued at
    # the provider when the pause comes waits there (``llm.gate``)
    control: RunGate | None = None

    @classmethod
    def of(cls, scenario: Scenario, seed: int, gateway: Gateway, recorder: Recorder) -> StepContext:
        brief = ScenarioBrief(
            name=scenario.name,
            title=scenario.title,
            description=scenario.description,
            location=scenario.setting.location,
            atmosphere=scenario.setting.atmosphere,
            tags=tuple(scenario.tags),
        )
        return cls(scenario, seed, gateway, recorder, brief)

    def brief_for(self, *levels: ResolutionLevel) -> ScenarioBrief:
        """The scenario as a call about entities at ``levels`` gets it: whole when one of them
        is TRAINED (the full context, M1), its gist otherwise."""
        return self.brief if ResolutionLevel.TRAINED in levels else self._gist

    @cached_property
    def _gist(self) -> ScenarioBrief:
        return self.brief.gist()

    def rng(self, *parts: object) -> Random:
        return Random(":".join(str(p) for p in (self.seed, *parts)))

    def sampling(self, temperature: float, max_tokens: int) -> SamplingParams:
        return SamplingParams(temperature=temperature, max_tokens=max_tokens, seed=self.seed)

    async def call(
        self,
        key: str,
        action: ActionType,
        context: BaseModel,
        response: type[BaseModel],
        sampling: SamplingParams,
        timepoint_id: str | None = None,
        entity_id: str | None = None,
        **streaming: Callable[..., None],
    ) -> Answer:
        if self.control is not None:
            await self.control.hold()
        with gated(self.control):
            return await self.gateway.call(
                action,
                context,
                response,
                sampling=sampling,
                timepoint_id=timepoint_id,
                call_key=self.recorder.fresh_key(key),
                entity_id=entity_id,
                **streaming,  # type: ignore[arg-type]
            )

    async def call_alone(
        self,
        unit_name: str,
        key: str,
        action: ActionType,
        context: BaseModel,
        response: type[BaseModel],
        sampling: SamplingParams,
        *,
        world: World | None = None,
        branch_id: str | None = None,
        timepoint_id: str | None = None,
    ) -> BaseModel:
        """One call outside any timepoint, in a unit of its own: its records are committed
        whether it answers or fails (LLMCallFailed is raised after they are)."""
        unit = self.recorder.open(unit_name)
        try:
            answer, records = await self.call(
                key, action, context, response, sampling, timepoint_id=timepoint_id
            )
        except LLMCallFailed as exc:
            self.recorder.calls(unit, world, exc.records, branch_id=branch_id)
            await self.recorder.commit(unit)
            raise
        self.recorder.calls(unit, world, records, branch_id=branch_id)
        await self.recorder.commit(unit)
        return answer

    def in_background(self, call: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        """Start a call that runs alongside others; a failed or stopped timepoint cancels it."""
        task = asyncio.ensure_future(call)
        self.background.add(task)
        task.add_done_callback(self._settled)
        return task

    def _settled(self, task: asyncio.Future[Any]) -> None:
        self.background.discard(task)
        # Whoever started the call awaits it and handles its failure; when that step was
        # abandoned (the timepoint failed, the budget ran out) nobody will, and the failure
        # is already in the record as the timepoint's or the run's.
        if not task.cancelled():
            task.exception()

    async def cancel_background(self) -> None:
        tasks = list(self.background)
        for task in tasks:
            if not task.done():
                task.cancel()
        if tasks:  # also collects the exceptions of those that ended on their own
            await asyncio.gather(*tasks, return_exceptions=True)
        self.background.clear()


@dataclass
class Moment:
    """One timepoint being made on one branch: its World, its unit of events, who is there,
    and what went wrong so far (a degraded step adds to ``issues``)."""

    steps: StepContext
    world: World
    unit: Unit
    timepoint: Timepoint
    scope: str  # what this timepoint's call keys start with
    present: list[str]
    issues: list[str] = field(default_factory=list)

    @property
    def tp_id(self) -> str:
        return self.timepoint.timepoint_id

    def emit(self, cls: type[ev.EventBase], **fields: Any) -> ev.EventBase:
        return self.steps.recorder.emit(self.unit, self.world, cls, **fields)

    def calls(self, records: list[CallRecord]) -> None:
        self.steps.recorder.calls(self.unit, self.world, records)
