"""Raising an entity's level because someone asked about it (M5, M2).

An elevation is planned first (:func:`plan`: from which level to which, why, and what the
elaboration call is estimated to cost), shown to whoever asked, and then run (:func:`run`): one
call through the run's gateway elaborates the entity at that moment from what it holds there
and from what happened and was said in front of it on the moment's lineage, so that what it
was present at while carried at a lower level comes back. Every new item is checked (it may
contradict nothing held and reach no moment outside the lineage) and arrives as a ``learned``
exposure at the moment; the elevation is an ``EntityElevated`` event with the query as its
cause, next to the call's ``LLMCallFinished``. Nothing held before is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..knowledge.validators import elaboration_consistency
from ..llm.contexts import ElaborationContext, EntityBrief
from ..llm.gateway import Gateway
from ..llm.prompts import render
from ..llm.protocol import ActionType, SamplingParams, Usage
from ..llm.tokens import estimate_prompt_tokens
from ..model import events as ev
from ..model.common import MAIN_BRANCH, ExposureType
from ..model.common import ResolutionLevel as Level
from ..model.records import TimepointInfo
from ..model.responses import ElaborationResponse
from ..view.runview import RunView
from ..world import Recorder, Unit
from .briefing import knowledge_ref, scenario_brief
from .records import record_exposure, recorded_call

MAX_TOKENS = 600
# what happened in front of the entity, newest lines: a raise to TRAINED (a long
# conversation) is shown more of it than one to answer for an intention (DIALOG)
ATTENDED_LINES = 12
ATTENDED_LINES_TRAINED = 24


class ElevationFailed(Exception):
    """The elaboration call failed; what it spent is recorded."""


@dataclass(frozen=True, slots=True)
class ElevationPlan:
    entity_id: str
    name: str
    timepoint_id: str | None
    current: Level
    target: Level
    reason: str
    estimated_tokens: int
    estimated_usd: float
    context: ElaborationContext

    def describe(self) -> str:
        money = f", about ${self.estimated_usd:.4f}" if self.estimated_usd > 0 else ""
        return (
            f"raise {self.name} from {self.current.value} to {self.target.value} "
            f"({self.reason}): one call of about {self.estimated_tokens} tokens{money}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "timepoint_id": self.timepoint_id,
            "from": self.current.value,
            "to": self.target.value,
            "reason": self.reason,
            "estimated_tokens": self.estimated_tokens,
            "estimated_usd": round(self.estimated_usd, 6),
        }


def current_level(view: RunView, entity_id: str, at: str | None) -> Level:
    found = view.level_at(entity_id, at)
    if found is not None:
        return Level(found.level)
    state = view.state_at(entity_id, at)
    return Level(state.resolution) if state is not None else Level.TENSOR_ONLY


def attended(
    view: RunView,
    entity_id: str,
    tp: TimepointInfo | None,
    known: frozenset[str] = frozenset(),
    limit: int = ATTENDED_LINES,
) -> tuple[str, ...]:
    """What happened and was said in front of the entity on the lineage of ``tp``, the newest
    ``limit`` lines; an event it already holds as ``known`` (it witnessed it) is not written
    out twice."""
    if tp is None:
        return ()
    names = {k: e.name for k, e in view.entities.items()}
    lines: list[str] = []
    for moment in view.chain(tp.timepoint_id):
        if moment.index > tp.index or entity_id not in moment.present:
            continue
        if moment.event_description not in known:
            lines.append(moment.event_description)
        for turn in view.turns(moment.timepoint_id):
            if turn.speaker != entity_id and turn.status != "discarded" and turn.content:
                lines.append(f"{names.get(turn.speaker, turn.speaker)} said: {turn.content}")
    return tuple(lines[-limit:]) if limit else ()


def plan(
    view: RunView,
    gateway: Gateway,
    scenario: dict[str, Any],
    entity_id: str,
    tp: TimepointInfo | None,
    target: Level,
    reason: str,
    question: str,
) -> ElevationPlan | None:
    """What raising the entity to ``target`` at ``tp`` would take; None if it is there."""
    at = tp.timepoint_id if tp else None
    current = current_level(view, entity_id, at)
    if current.rank >= target.rank:
        return None
    entity = view.entities[entity_id]
    names = {k: e.name for k, e in view.entities.items()}
    known = tuple(knowledge_ref(k, names) for k in view.knowledge_at(entity_id, at))
    context = ElaborationContext(
        scenario=scenario_brief(scenario, full=target == Level.TRAINED),
        timepoint_id=at,
        moment=f"{tp.title} ({tp.timepoint_id})" if tp else "the start",
        speaker=EntityBrief(
            entity_id=entity_id, name=entity.name, role=entity.role, entity_type=entity.entity_type
        ),
        speaker_description=entity.description,
        personality=entity.personality,
        level=target.value,
        known=known,
        attended=attended(
            view,
            entity_id,
            tp,
            frozenset(k.information for k in known),
            ATTENDED_LINES_TRAINED if target == Level.TRAINED else ATTENDED_LINES,
        ),
        question=question,
        wanted=3 if target.rank <= Level.DIALOG.rank else 6,
    )
    prompt = estimate_prompt_tokens(
        render(ActionType.ENTITY_ELABORATION, context, ElaborationResponse)
    )
    model = gateway.chain(ActionType.ENTITY_ELABORATION)[0]
    usd = gateway.cost(model, Usage(prompt_tokens=prompt, completion_tokens=MAX_TOKENS))
    return ElevationPlan(
        entity_id, entity.name, at, current, target, reason, prompt + MAX_TOKENS, usd, context
    )


def _unreachable(view: RunView, at: str | None) -> list[str]:
    """What the run establishes only outside the lineage of ``at``: later, or elsewhere."""
    lineage = view.lineage(at) if at else frozenset()
    inside, outside = set(), set()
    for entity_id in view.entities:
        for k in view.all_knowledge(entity_id):
            reached = k.timepoint_id is None or k.timepoint_id in lineage
            (inside if reached else outside).add(k.information)
    return sorted(outside - inside)


async def run(
    gateway: Gateway,
    recorder: Recorder,
    unit: Unit,
    view: RunView,
    elevation: ElevationPlan,
    query_id: str,
    branch_id: str = MAIN_BRANCH,
) -> ev.EntityElevated:
    """Make the elaboration call and record the elevation and what it brought."""
    ctx = elevation.context
    answer, records = await recorded_call(
        gateway,
        recorder,
        unit,
        branch_id,
        ActionType.ENTITY_ELABORATION,
        ctx,
        ElaborationResponse,
        sampling=SamplingParams(temperature=0.4, max_tokens=MAX_TOKENS),
        timepoint_id=ctx.timepoint_id,
        call_key=f"{query_id}/elevate",
        entity_id=elevation.entity_id,
        failed=ElevationFailed,
        failure=f"{elevation.name} could not be raised",
    )
    confidence = {k.information: k.confidence for k in answer.knowledge}
    accepted, rejected = elaboration_consistency(
        list(confidence), [k.information for k in ctx.known], _unreachable(view, ctx.timepoint_id)
    )
    event = recorder.emit(
        unit,
        None,
        ev.EntityElevated,
        branch_id=branch_id,
        entity_id=elevation.entity_id,
        timepoint_id=ctx.timepoint_id,
        previous=elevation.current,
        resolution=elevation.target,
        reason=elevation.reason,
        query_id=query_id,
        learned=len(accepted),
        prompt_tokens=sum(r.prompt_tokens for r in records),
        completion_tokens=sum(r.completion_tokens for r in records),
        cost_usd=sum(r.cost_usd for r in records),
    )
    tp = view.timepoint(ctx.timepoint_id)
    for n, information in enumerate(accepted, 1):
        record_exposure(
            recorder,
            unit,
            branch_id,
            f"{query_id}-x{n:02d}",
            entity_id=elevation.entity_id,
            kind=ExposureType.LEARNED,
            information=information,
            timestamp=tp.timestamp if tp else (view.run.started_at or datetime.now(UTC)),
            confidence=confidence[information],
            timepoint_id=ctx.timepoint_id,
        )
    if rejected:
        recorder.emit(
            unit,
            None,
            ev.ValidationReported,
            branch_id=branch_id,
            validator="elaboration_consistency",
            entity_id=elevation.entity_id,
            timepoint_id=ctx.timepoint_id,
            valid=False,
            violations=tuple(rejected),
            action="items not recorded",
        )
    assert isinstance(event, ev.EntityElevated)
    return event
