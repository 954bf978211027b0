"""The dialog of a timepoint (M11): rounds of turns, as wide as the scenario allows, each
turn validated (M4) and its knowledge extracted while the next round is spoken; the scene is
read alongside the opening turn; once the last round is spoken, the next timepoint's event and
everyone's inner life start together with the last extractions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from ..agents import persona, steering
from ..fidelity.policy import learns
from ..knowledge import validators
from ..llm.contexts import DialogTurnContext, RelationBrief
from ..llm.gateway import CallRecord, LLMCallFailed
from ..llm.protocol import ActionType, SamplingParams
from ..model import events as ev
from ..model.clock import time_of_day
from ..model.common import ResolutionLevel, StepStatus
from ..model.dialog import DialogTurn, SpeakingStyle
from ..model.entity import Entity
from ..model.relationship import pair_key
from ..model.responses import DialogTurnResponse
from ..model.scene import Scene
from . import extraction, inner_life, scene, state
from .briefs import brief, knowledge_refs, mood, style, turn_brief
from .context import Moment

PREVIOUS_TURNS = 6
ANSWER_FIELDS_TOKENS = 160  # tokens of a dialog answer beyond what is said
# Called once the last round is spoken, with everyone as the dialog leaves them: the mode
# starts the next timepoint's event call there.
AfterSpeech = Callable[[dict[str, Entity]], None]


async def converse(
    m: Moment, speakers: list[Entity], new_knowledge: dict[str, int], after_speech: AfterSpeech
) -> list[DialogTurn]:
    s = m.steps.scenario
    dialog_id = f"{m.tp_id}-d1"
    planned = s.dialog.turns
    m.emit(
        ev.DialogStarted,
        dialog_id=dialog_id,
        timepoint_id=m.tp_id,
        participants=tuple(e.entity_id for e in speakers),
        planned_turns=planned,
    )
    rng = m.steps.rng("dialog", m.tp_id)
    styles = {e.entity_id: style(e) for e in speakers}
    turns: list[DialogTurn] = []
    spoken: dict[str, int] = {}
    failed = 0
    extractions: list[tuple[DialogTurn, asyncio.Future[Any] | None]] = []
    read_each_turn = extraction.per_turn(m)  # else the dialog is read once it is over (M1)
    next_index = 0
    last_speaker: str | None = None
    asked: str | None = None  # whom the last turn put a question to
    scene_call = scene.start(m)
    opened: Scene | None = None
    while True:
        plans = steering.plan_round(
            speakers, spoken, last_speaker, next_index, planned, s.dialog.parallel, rng, asked
        )
        if not plans:
            break
        contexts = []
        for plan in plans:
            entity = m.world.entities[plan.speaker]
            params = persona.persona_params(
                entity.cognitive, entity.tensor, styles[plan.speaker], plan.turn_index, planned
            )
            context = _turn_context(m, entity, styles[plan.speaker], plan, turns, spoken, params)
            contexts.append(
                context.model_copy(update={"atmosphere": opened.atmosphere if opened else None})
            )
            m.emit(
                ev.DialogTurnStarted,
                dialog_id=dialog_id,
                turn_index=plan.turn_index,
                speaker=plan.speaker,
                addressed_to=plan.addressed_to,
                persona=params,
            )
        results = await asyncio.gather(
            *(
                _speak(m, dialog_id, plan.turn_index, ctx)
                for plan, ctx in zip(plans, contexts, strict=True)
            ),
            return_exceptions=True,
        )
        for plan, ctx, result in zip(plans, contexts, results, strict=True):
            next_index = max(next_index, plan.turn_index + 1)
            if isinstance(result, LLMCallFailed):
                m.calls(result.records)
                m.emit(
                    ev.DialogTurnFailed,
                    dialog_id=dialog_id,
                    turn_index=plan.turn_index,
                    speaker=plan.speaker,
                    error=str(result),
                )
                failed += 1
                continue
            if isinstance(result, BaseException):
                raise result
            answer, records = result
            m.calls(records)
            turn = _accept(m, dialog_id, plan.turn_index, plan.speaker, answer, ctx)
            turns.append(turn)
            spoken[plan.speaker] = spoken.get(plan.speaker, 0) + 1
            last_speaker = plan.speaker
            asked = turn.addressed_to if turn.act == "ask" or "?" in turn.content else None
            if read_each_turn:
                extractions.append((turn, extraction.start(m, turn)))
        if scene_call is not None:  # read alongside the opening turn, known by the rest
            opened, scene_call = await scene.finish(m, scene_call), None
    after = state.after_dialog(m.world, m.present, turns)
    after_speech(after)
    inner_calls = inner_life.start(m, dialog_id, turns, after)
    whole = [] if read_each_turn else extraction.start_dialog(m, turns)
    for turn, task in extractions:
        await extraction.finish(m, turn, task, new_knowledge)
    await extraction.finish_dialog(m, whole, new_knowledge)
    if failed:
        m.issues.append(f"{failed} of {planned} dialog turns failed")
    status = (
        StepStatus.OK if not failed else (StepStatus.FAILED if not turns else StepStatus.DEGRADED)
    )
    m.emit(
        ev.DialogFinished,
        dialog_id=dialog_id,
        timepoint_id=m.tp_id,
        turn_count=len(turns),
        failed_turns=failed,
        status=status,
    )
    if opened is not None:
        scene.after_dialog(m, opened, turns)
    await inner_life.finish(m, dialog_id, turns, inner_calls)
    return turns


def _turn_context(
    m: Moment,
    entity: Entity,
    speaking: SpeakingStyle,
    plan: steering.TurnPlan,
    turns: list[DialogTurn],
    spoken: dict[str, int],
    params: Any,
) -> DialogTurnContext:
    world, tp = m.world, m.timepoint
    inner = world.inner.get(entity.entity_id)
    full = entity.resolution == ResolutionLevel.TRAINED  # every concern, all it knows (M1)
    listeners, absent = [], []
    bystanders = 0
    for other in (e.entity_id for e in world.active()):
        if other == entity.entity_id or (other not in m.present and not full):
            continue
        if other in m.present and not learns(world.entities[other].resolution):
            bystanders += 1  # in the room, below the graph level: counted, not described
            continue
        rel = world.relation(entity.entity_id, other)
        (listeners if other in m.present else absent).append(
            RelationBrief(
                entity=brief(world.entities[other]),
                trust=rel.trust,
                alignment=rel.alignment,
                note=world.notes.get(pair_key(entity.entity_id, other), ""),
            )
        )
    order = {e: i for i, e in enumerate(m.present)}
    listeners.sort(key=lambda r: order[r.entity.entity_id])
    return DialogTurnContext(
        scenario=m.steps.brief_for(entity.resolution),
        timepoint_id=tp.timepoint_id,
        timepoint_title=tp.title,
        event_description=tp.event_description,
        time_of_day=time_of_day(tp.timestamp.hour),
        tension=tp.tension,
        speaker=brief(entity),
        speaker_description=entity.profile.description,
        personality=entity.profile.personality,
        voice=entity.profile.voice,
        style=speaking,
        mood=mood(entity),
        speaking_mode=steering.speaking_mode(entity.profile.entity_type),  # type: ignore[arg-type]
        knowledge=knowledge_refs(
            world,
            entity,
            tp.timepoint_id,
            " ".join([tp.title, tp.event_description, *(t.content for t in turns[-2:])]),
        ),
        listeners=tuple(listeners),
        bystanders=bystanders,
        absent=tuple(absent),
        previous_turns=tuple(turn_brief(world, t) for t in turns[-PREVIOUS_TURNS:]),
        addressed_to=plan.addressed_to,
        move=plan.move,
        turn_index=plan.turn_index,
        planned_turns=m.steps.scenario.dialog.turns,
        speaker_turn_number=spoken.get(entity.entity_id, 0),
        prior_beats=tuple(world.prior_beats),
        persona=params,
        memory=inner.memory if inner else "",
        concerns=tuple(c.topic for c in inner.concerns[: None if full else 3]) if inner else (),
    )


async def _speak(
    m: Moment, dialog_id: str, turn_index: int, ctx: DialogTurnContext
) -> tuple[DialogTurnResponse, list[CallRecord]]:
    recorder, unit = m.steps.recorder, m.unit

    def chunk(text: str) -> None:
        recorder.emit(
            unit, m.world, ev.DialogTokens, dialog_id=dialog_id, turn_index=turn_index, text=text
        )

    def reset() -> None:
        recorder.emit(
            unit, m.world, ev.DialogStreamReset, dialog_id=dialog_id, turn_index=turn_index
        )

    p = ctx.persona
    answer, records = await m.steps.call(
        f"{m.scope}/turn{turn_index + 1:02d}",
        ActionType.DIALOG_TURN,
        ctx,
        DialogTurnResponse,
        SamplingParams(
            temperature=p.temperature,
            top_p=p.top_p,
            # the persona's budget is for what is said; the answer's other fields (tone,
            # stance, act, who is addressed) come on top, or a terse speaker's JSON is cut off
            max_tokens=p.max_tokens + ANSWER_FIELDS_TOKENS,
            frequency_penalty=p.frequency_penalty,
            presence_penalty=p.presence_penalty,
            seed=m.steps.seed,
        ),
        timepoint_id=m.tp_id,
        entity_id=ctx.speaker.entity_id,
        on_chunk=chunk,
        on_reset=reset,
    )
    assert isinstance(answer, DialogTurnResponse)
    return answer, records


def _accept(
    m: Moment,
    dialog_id: str,
    turn_index: int,
    speaker: str,
    answer: DialogTurnResponse,
    ctx: DialogTurnContext,
) -> DialogTurn:
    """Validate a turn (M4) and record it. References the speaker cannot know are removed
    from the turn and reported; the turn is then marked degraded."""
    known = _isolated(m, speaker, dialog_id, turn_index)
    result = validators.information_conservation(answer.knowledge_references, known)
    refs = tuple(r for r in answer.knowledge_references if r not in result.violations)
    issues = tuple(f"referenced unknown knowledge: {v}" for v in result.violations)
    m.emit(
        ev.ValidationReported,
        validator=result.validator,
        entity_id=speaker,
        timepoint_id=m.tp_id,
        dialog_id=dialog_id,
        turn_index=turn_index,
        valid=result.valid,
        violations=result.violations,
        action="" if result.valid else "unknown references removed from the turn",
    )
    addressed = answer.addressed_to if answer.addressed_to in m.present else ctx.addressed_to
    turn = DialogTurn(
        dialog_id=dialog_id,
        turn_index=turn_index,
        speaker=speaker,
        content=answer.content,
        emotional_tone=answer.emotional_tone,
        knowledge_references=refs,
        addressed_to=addressed if addressed != speaker else None,
        stance=answer.stance,
        act=answer.act,
        physical_state_influence=answer.physical_state_influence,
        persona=ctx.persona,
        timestamp=m.timepoint.timestamp + timedelta(minutes=2 * turn_index),
        status=StepStatus.DEGRADED if issues else StepStatus.OK,
        issues=issues,
    )
    m.emit(ev.DialogTurnFinished, turn=turn)
    return turn


def _isolated(m: Moment, speaker: str, dialog_id: str, turn_index: int) -> list[str]:
    """What the speaker may draw on: what it holds on this moment's causal lineage. Anything
    else (learned on a sibling branch) is reported and set aside (M12)."""
    held = m.world.ledger.exposures(speaker)
    result = validators.branch_isolation(held, m.world.graph.lineage(m.tp_id))
    if result.valid:
        return [x.information for x in held]
    m.emit(
        ev.ValidationReported,
        validator=result.validator,
        entity_id=speaker,
        timepoint_id=m.tp_id,
        dialog_id=dialog_id,
        turn_index=turn_index,
        valid=False,
        violations=result.violations,
        action="knowledge from outside this branch's lineage set aside",
    )
    return [x.information for x in held if x.information not in result.violations]
