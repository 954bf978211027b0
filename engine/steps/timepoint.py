"""One timepoint on one branch, as a pipeline of steps: the event, who is present, the
timepoint itself and what its people witness, resolution, the dialog (with the scene,
extractions and inner lives), and how it leaves everyone. The next timepoint's event call is
started as soon as this one's dialog is spoken, unless the run is holding (paused, stepping or
stopping: then nothing is spent ahead of time)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..agents import steering
from ..fidelity import policy
from ..llm.gateway import LLMCallFailed
from ..model import events as ev
from ..model.common import ExposureType, StepStatus
from ..model.entity import Entity
from ..model.knowledge import ExposureEvent
from ..model.timepoint import Phase, Timepoint
from ..scenario.schema import BeatSpec
from ..world import Unit, World
from . import dialog, event, fidelity, presence, state
from .briefs import mood
from .context import Moment, StepContext
from .exposures import record
from .presence import PresenceFailed

Arc = Callable[[int, int], tuple[Phase, float]]
StepFailure = (LLMCallFailed, PresenceFailed)


class TimepointRunner:
    """Makes timepoints on Worlds. ``arc`` is the mode's dramatic shape (phase and tension of
    the i-th of n moments); ``holding`` says whether the run may spend ahead of time."""

    def __init__(self, steps: StepContext, arc: Arc, holding: Callable[[], bool]) -> None:
        self.steps = steps
        self.arc = arc
        self.holding = holding
        # whether the event of (branch, index) may be started ahead of time (a replay holds
        # it back where the recorded run made it only after held queries were applied)
        self.may_prefetch: Callable[[str, int], bool] = lambda branch, index: True
        # whether the mode makes (branch, index) at all (the trunk of a branching run stops at
        # its decision point): a timepoint it will not make is never started ahead of time
        self.makes: Callable[[str, int], bool] = lambda branch, index: True
        # the next event call of each branch, started while its last timepoint finished
        self._prefetched: dict[str, tuple[event.EventPlan, asyncio.Future[Any]]] = {}

    def plan(self, world: World, index: int, moods: Any = None) -> event.EventPlan:
        count = self.steps.scenario.timeline.count
        return event.plan(self.steps, world, index, self.arc(index, count), moods)

    def drop_prefetched(self, branch_id: str | None = None) -> None:
        """Cancel the event calls started ahead of time (of one branch, or of all)."""
        for branch in [b for b in self._prefetched if branch_id in (None, b)]:
            _, task = self._prefetched.pop(branch)
            if not task.done():
                task.cancel()

    def prefetching(self, branch_id: str, index: int) -> bool:
        """Whether the event of ``branch_id``'s timepoint ``index`` was started ahead of time."""
        found = self._prefetched.get(branch_id)
        return found is not None and found[0].index == index

    def _prefetch(self, world: World, index: int, after: dict[str, Entity]) -> None:
        if index >= self.steps.scenario.timeline.count or self.holding():
            return
        if not self.makes(world.branch_id, index) or not self.may_prefetch(world.branch_id, index):
            return
        moods = {entity_id: mood(entity) for entity_id, entity in after.items()}
        plan = self.plan(world, index, moods)
        task = self.steps.in_background(event.call(self.steps, plan))
        self._prefetched[world.branch_id] = (plan, task)

    async def run(
        self, world: World, unit: Unit, index: int, given: Given | None = None
    ) -> Timepoint:
        """Make timepoint ``index`` on ``world``'s branch, its events held in ``unit``; with
        ``given``, what happens there is the mode's (no event call). Raises what made it fail
        (the caller records the failure)."""
        steps = self.steps
        s = steps.scenario
        issues: list[str] = []
        if given is not None:
            timepoint, scope, beat = await self._given(world, unit, index, given, issues)
        else:
            timepoint, scope, beat = await self._generated(world, unit, index, issues)
        present = list(timepoint.entities_present)
        description = timepoint.event_description
        m = Moment(steps, world, unit, timepoint, scope, present, issues)
        m.emit(
            ev.TimepointCreated,
            timepoint=timepoint,
            status=StepStatus.DEGRADED if issues else StepStatus.OK,
            issues=tuple(issues),
        )
        levels = fidelity.plan(m, timepoint.importance)
        _witness(m, description, beat, levels)

        voices = [world.entities[e] for e in present if policy.speaks(levels[e])]
        speakers = steering.choose_speakers(
            voices, description, s.animism_level, s.dialog.max_speakers
        )
        turns = []
        new_knowledge: dict[str, int] = {}
        if len(speakers) >= 2:
            turns = await dialog.converse(
                m,
                [world.entities[e.entity_id] for e in speakers],
                new_knowledge,
                (lambda after: None)
                if given is not None
                else (lambda after: self._prefetch(world, index + 1, after)),
            )
        else:
            m.emit(
                ev.DialogSkipped,
                timepoint_id=m.tp_id,
                reason=f"{len(speakers)} of {len(present)} present entities can take part in "
                "dialog (at the dialog level or above); a dialog needs two",
            )
        state.update(m, turns, new_knowledge)
        m.emit(
            ev.TimepointCompleted,
            timepoint_id=m.tp_id,
            status=StepStatus.DEGRADED if issues else StepStatus.OK,
            issues=tuple(issues),
        )
        return timepoint

    async def _generated(
        self, world: World, unit: Unit, index: int, issues: list[str]
    ) -> tuple[Timepoint, str, Any]:
        """The timepoint as its event call writes it (or as an event injected at a fork says)."""
        steps = self.steps
        prefetched = self._prefetched.pop(world.branch_id, None)
        if prefetched is not None and prefetched[0].index == index:
            plan = prefetched[0]
            answer, records = await prefetched[1]
        else:
            plan = self.plan(world, index)
            answer, records = await event.call(steps, plan)
        world.sim_time = plan.when
        steps.recorder.calls(unit, world, records)
        beat = plan.beat
        description = answer.event_description
        if world.injected:  # the event injected at the fork is what happens (M12)
            description = " ".join(world.injected)
        present = await presence.decide(
            steps, world, unit, plan.scope, plan.tp_id, description, beat, issues
        )
        importance = beat.importance if beat and beat.importance is not None else answer.importance
        previous = world.last
        timepoint = Timepoint(
            timepoint_id=plan.tp_id,
            branch_id=world.branch_id,
            index=index,
            timestamp=plan.when,
            causal_parent=previous.timepoint_id if previous else None,
            title=beat.title if beat and beat.title else answer.title,
            event_description=description,
            entities_present=tuple(present),
            importance=importance,
            tension=max(plan.tension, answer.tension) if beat else answer.tension,
        )
        return timepoint, plan.scope, beat

    async def _given(
        self, world: World, unit: Unit, index: int, given: Given, issues: list[str]
    ) -> tuple[Timepoint, str, Any]:
        """The timepoint the mode says happens (a PORTAL state): who is there is the state's
        when it names two of the cast, else inferred from it by the presence call."""
        steps = self.steps
        tp_id = world.timepoint_id(index)
        scope = world.call_scope(tp_id)
        world.sim_time = given.when
        known = [e for e in given.present if e in world.entities]
        beat = BeatSpec(title=given.title or None, present=known if len(known) >= 2 else None)
        present = await presence.decide(
            steps, world, unit, scope, tp_id, given.description, beat, issues
        )
        previous = world.last
        _, tension = self.arc(index, given.count)
        importance = given.importance if given.importance is not None else tension
        timepoint = Timepoint(
            timepoint_id=tp_id,
            branch_id=world.branch_id,
            index=index,
            timestamp=given.when,
            causal_parent=previous.timepoint_id if previous else None,
            title=given.title,
            event_description=given.description,
            entities_present=tuple(present),
            importance=importance,
            tension=tension,
        )
        return timepoint, scope, beat


@dataclass(frozen=True)
class Given:
    """What happens at a timepoint when the mode already knows it: its time, title and
    description, who the mode says is there, its importance, and how many moments the chain
    has (for the dramatic arc)."""

    when: datetime
    title: str
    description: str
    present: tuple[str, ...] = ()
    importance: float | None = None
    count: int = 1


def _witness(m: Moment, description: str, beat: Any, levels: dict[str, Any]) -> None:
    """What the people present at the scene level or above see, and what the beat reveals
    (M3). Someone present only as tensors witnesses nothing; an elevation later brings back
    what it was present at."""
    tp = m.timepoint
    for entity_id in m.present:
        if not policy.witnesses(levels[entity_id]):
            continue
        record(
            m,
            ExposureEvent(
                exposure_id="",
                entity_id=entity_id,
                kind=ExposureType.WITNESSED,
                information=description,
                source=None,
                timestamp=tp.timestamp,
                confidence=1.0,
                timepoint_id=tp.timepoint_id,
            ),
        )
    for reveal in beat.reveals if beat else ():
        record(
            m,
            ExposureEvent(
                exposure_id="",
                entity_id=reveal.entity,
                kind=ExposureType(reveal.kind),
                information=reveal.information,
                source=reveal.source,
                timestamp=tp.timestamp,
                confidence=reveal.confidence,
                timepoint_id=tp.timepoint_id,
            ),
        )
