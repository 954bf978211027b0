"""Who is present at a timepoint: the beat says so, or one call infers it from the event."""

from __future__ import annotations

from typing import Any

from ..llm.contexts import PresenceContext
from ..llm.protocol import ActionType
from ..model.responses import PresenceResponse
from ..world import Unit, World
from .briefs import brief
from .context import StepContext


class PresenceFailed(Exception):
    """The presence answer named nobody the World holds."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.records: list[Any] = []


async def decide(
    steps: StepContext,
    world: World,
    unit: Unit,
    scope: str,
    tp_id: str,
    description: str,
    beat: Any,
    issues: list[str],
) -> list[str]:
    ids = [e.entity_id for e in world.active()]  # removed by an intervention: never present
    if beat is not None and beat.present is not None:
        return [e for e in ids if e in set(beat.present)]
    if len(ids) <= 2:
        return ids
    max_present = max(2, min(len(ids), steps.scenario.dialog.max_speakers + 2))
    context = PresenceContext(
        scenario=steps.brief,
        timepoint_id=tp_id,
        event_description=description,
        candidates=tuple(brief(e) for e in world.active()),
        min_present=2,
        max_present=max_present,
    )
    answer, records = await steps.call(
        f"{scope}/presence",
        ActionType.ENTITY_PRESENCE,
        context,
        PresenceResponse,
        steps.sampling(0.2, 300),
        timepoint_id=tp_id,
    )
    steps.recorder.calls(unit, world, records)
    assert isinstance(answer, PresenceResponse)
    unknown = [e for e in answer.entities_present if e not in ids]
    if unknown:
        issues.append(f"presence named entities who cannot be here, left out: {', '.join(unknown)}")
    chosen = set(answer.entities_present)
    present = [e for e in ids if e in chosen]
    if not present:
        raise PresenceFailed("the presence answer named no known entity")
    return present
