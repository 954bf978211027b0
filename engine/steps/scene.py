"""The scene of a timepoint (M10): the place and the room's atmosphere as its dialog opens,
read by one call alongside the opening turn; the dialog's later turns know it."""

from __future__ import annotations

import asyncio
from typing import Any

from ..agents import scene as scene_agent
from ..fidelity.policy import learns
from ..llm.contexts import CastMember, SceneContext
from ..llm.gateway import LLMCallFailed
from ..llm.protocol import ActionType
from ..model import events as ev
from ..model.clock import time_of_day
from ..model.dialog import DialogTurn
from ..model.responses import SceneResponse
from ..model.scene import Scene
from .briefs import brief, mood
from .context import Moment


def start(m: Moment) -> asyncio.Future[Any] | None:
    steps, world, tp = m.steps, m.world, m.timepoint
    if not steps.scenario.mechanisms.atmosphere:
        return None
    here = [world.entities[x] for x in m.present]
    described = [e for e in here if learns(e.resolution)]  # the rest are counted (M1)
    if len(described) < 2:
        described = here
    context = SceneContext(
        scenario=steps.brief,
        timepoint_id=tp.timepoint_id,
        timepoint_title=tp.title,
        event_description=tp.event_description,
        time_of_day=time_of_day(tp.timestamp.hour),
        tension=tp.tension,
        present=tuple(CastMember(entity=brief(e), mood=mood(e)) for e in described),
        bystanders=len(m.present) - len(described),
        previous=world.atmosphere,
    )
    return steps.in_background(
        steps.call(
            f"{m.scope}/scene",
            ActionType.SCENE_GENERATION,
            context,
            SceneResponse,
            steps.sampling(0.6, 500),
            timepoint_id=tp.timepoint_id,
        )
    )


async def finish(m: Moment, call: asyncio.Future[Any]) -> Scene | None:
    try:
        answer, records = await call
    except LLMCallFailed as exc:
        m.calls(exc.records)
        m.emit(ev.MechanismFailed, mechanism="scene", timepoint_id=m.tp_id, error=str(exc))
        m.issues.append("the scene's atmosphere was not read")
        return None
    m.calls(records)
    assert isinstance(answer, SceneResponse)
    scene = Scene(
        timepoint_id=m.tp_id,
        environment=answer.environment,
        atmosphere=scene_agent.carry_over(m.world.atmosphere, answer.atmosphere),
    )
    m.emit(ev.SceneRead, timepoint_id=m.tp_id, scene=scene)
    return scene


def after_dialog(m: Moment, scene: Scene, turns: list[DialogTurn]) -> None:
    """How far what was said moved the room."""
    atmosphere = scene_agent.shift_after_dialog(scene.atmosphere, turns)
    m.emit(ev.AtmosphereShifted, timepoint_id=m.tp_id, atmosphere=atmosphere)
