"""The event of a timepoint: what happens at this moment, written by one call.

The plan is made from the World as the previous timepoint's dialog leaves it, so the call can
start while that dialog's last knowledge is still being extracted (the next timepoint's event
is "prefetched") and its context is the same whether it starts early or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..fidelity.policy import learns, witnesses
from ..llm.contexts import CastMember, MoodBrief, TimepointEventContext
from ..llm.protocol import ActionType
from ..model.clock import time_of_day
from ..model.responses import TimepointEventResponse
from ..model.timepoint import Phase
from ..world import World
from .briefs import brief, mood, private_knowledge
from .context import Answer, StepContext


@dataclass(frozen=True)
class EventPlan:
    """What the call that writes a timepoint's event is made from."""

    index: int
    tp_id: str
    scope: str
    when: datetime
    beat: Any
    tension: float
    context: TimepointEventContext


def plan(
    steps: StepContext,
    world: World,
    index: int,
    arc: tuple[Phase, float],
    moods: dict[str, MoodBrief] | None = None,
) -> EventPlan:
    """The event call of timepoint ``index`` on ``world``'s branch. ``arc`` is where the moment
    sits in the mode's dramatic shape (phase, tension). The cast's secrets are taken as they
    stood before the previous timepoint's dialog; ``moods`` (when given) are the moods that
    dialog leaves."""
    s = steps.scenario
    count = s.timeline.count
    beat = s.timeline.beats[index] if index < len(s.timeline.beats) else None
    previous = world.last
    if beat is not None and beat.at is not None:
        when = beat.at
    elif previous is not None:
        when = previous.timestamp + s.timeline.step_delta
    else:
        when = s.timeline.start
    if previous is not None and when <= previous.timestamp:
        when = previous.timestamp + s.timeline.step_delta
    phase, tension = arc
    last_dialog = f"{previous.timepoint_id}-d1" if previous is not None else None
    tp_id = world.timepoint_id(index)
    cast, fidelity_known = _cast(world, s.dialog.max_speakers)
    context = TimepointEventContext(
        scenario=steps.brief,
        index=index,
        count=count,
        phase=phase,
        timestamp=when,
        time_of_day=time_of_day(when.hour),
        beat_title=beat.title if beat else None,
        beat_hint=_hint(world, beat),
        previous_events=tuple(t.event_description for t in world.timepoints[-3:]),
        cast=tuple(
            CastMember(
                entity=brief(e),
                mood=moods[e.entity_id] if moods else mood(e),
                knowledge=private_knowledge(world, e.entity_id, before_dialog=last_dialog)
                if learns(e.resolution) or not fidelity_known
                else (),
                witness_only=fidelity_known and not learns(e.resolution),
            )
            for e in cast
        ),
        tension=tension,
    )
    return EventPlan(index, tp_id, world.call_scope(tp_id), when, beat, tension, context)


def _cast(world: World, max_speakers: int) -> tuple[list[Any], bool]:
    """Who the event is written around (M1): the people carried above tensors, their secrets
    only from the graph level up. Before any level is decided (the first timepoint, or when
    fewer than two are above tensors), the first of the roster, as many as a scene holds."""
    active = world.active()
    above = [e for e in active if witnesses(e.resolution)]
    if len(above) >= 2:
        return above, True
    return active[: max(2, max_speakers + 2)], False


def _hint(world: World, beat: Any) -> str | None:
    """What the event should be about: an event injected at the fork comes first (M12)."""
    hint = beat.hint if beat else None
    if world.injected:
        return " ".join([*world.injected, *([hint] if hint else [])])
    return hint


async def call(steps: StepContext, plan: EventPlan) -> Answer:
    return await steps.call(
        f"{plan.scope}/event",
        ActionType.TIMEPOINT_EVENT,
        plan.context,
        TimepointEventResponse,
        steps.sampling(0.8, 600),
        timepoint_id=plan.tp_id,
    )
