"""Inner life (M15): after a dialog, one call per person present (at the graph level or
above) on how they remember it, their concerns and what they expect next; run alongside the
last extractions and the next timepoint's event. Likely expectations become ``anticipated``
knowledge."""

from __future__ import annotations

import asyncio
from typing import Any

from ..agents import prospection, steering
from ..fidelity.policy import learns
from ..llm.contexts import ProspectionContext
from ..llm.gateway import LLMCallFailed
from ..llm.protocol import ActionType
from ..model import events as ev
from ..model.common import ExposureType
from ..model.dialog import DialogTurn
from ..model.entity import Entity
from ..model.knowledge import ExposureEvent
from ..model.responses import ProspectionResponse
from .briefs import brief, horizon, mood, private_knowledge, turn_brief
from .context import Moment
from .exposures import record

Pending = list[tuple[str, ProspectionContext, asyncio.Future[Any]]]


def start(m: Moment, dialog_id: str, turns: list[DialogTurn], after: dict[str, Entity]) -> Pending:
    steps, world, tp = m.steps, m.world, m.timepoint
    if not steps.scenario.mechanisms.inner_life or not turns:
        return []
    ahead = horizon(steps.scenario.timeline.step_delta)
    briefs = tuple(turn_brief(world, t) for t in turns)
    calls: Pending = []
    for entity_id in m.present:
        entity = after[entity_id]
        if steering.speaking_mode(entity.profile.entity_type) != "speech":
            continue
        if not learns(entity.resolution):  # below the graph level: no inner life (M1)
            continue
        own_refs = [r for t in turns if t.speaker == entity_id for r in t.knowledge_references]
        private = private_knowledge(world, entity_id, limit=12, before_dialog=dialog_id)
        previous = world.inner.get(entity_id)
        context = ProspectionContext(
            scenario=steps.brief_for(entity.resolution),
            timepoint_id=tp.timepoint_id,
            timepoint_title=tp.title,
            event_description=tp.event_description,
            entity=brief(entity),
            personality=entity.profile.personality,
            voice=entity.profile.voice,
            mood=mood(entity),
            spoke=any(t.speaker == entity_id for t in turns),
            turns=briefs,
            withheld=prospection.withheld(private, own_refs),
            concerns=previous.concerns if previous else (),
            expectations=previous.expectations if previous else (),
            horizon=ahead,
        )
        task = steps.in_background(
            steps.call(
                f"{m.scope}/inner/{entity_id}",
                ActionType.PROSPECTION,
                context,
                ProspectionResponse,
                steps.sampling(0.7, 700),
                timepoint_id=tp.timepoint_id,
                entity_id=entity_id,
            )
        )
        calls.append((entity_id, context, task))
    return calls


async def finish(m: Moment, dialog_id: str, turns: list[DialogTurn], calls: Pending) -> None:
    world, tp = m.world, m.timepoint
    texts = [t.content for t in turns]
    for entity_id, context, task in calls:
        try:
            answer, records = await task
        except LLMCallFailed as exc:
            m.calls(exc.records)
            m.emit(
                ev.MechanismFailed,
                mechanism="inner_life",
                timepoint_id=tp.timepoint_id,
                entity_id=entity_id,
                error=str(exc),
            )
            m.issues.append(f"the inner life of {world.entities[entity_id].name} was not updated")
            continue
        m.calls(records)
        assert isinstance(answer, ProspectionResponse)
        inner = prospection.inner_life(
            entity_id,
            tp.timepoint_id,
            answer,
            world.inner.get(entity_id),
            context.withheld,
            texts,
        )
        m.emit(ev.InnerLifeUpdated, entity_id=entity_id, timepoint_id=tp.timepoint_id, inner=inner)
        for information, confidence in prospection.anticipations(inner.expectations):
            record(
                m,
                ExposureEvent(
                    exposure_id="",
                    entity_id=entity_id,
                    kind=ExposureType.ANTICIPATED,
                    information=information,
                    source=None,
                    timestamp=tp.timestamp,
                    confidence=confidence,
                    timepoint_id=tp.timepoint_id,
                    dialog_id=dialog_id,
                    category="expectation",
                ),
            )
