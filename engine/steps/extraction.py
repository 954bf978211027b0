"""Knowledge extraction (M19 → M3): what each turn told its listeners, one call per turn,
run while the next round is spoken; each item becomes ``told`` exposures, checked for
provenance (M4) first."""

from __future__ import annotations

import asyncio
from typing import Any

from ..fidelity.policy import learns
from ..knowledge import validators
from ..knowledge.exposure import told_exposures
from ..knowledge.retrieval import rank
from ..llm.contexts import ExtractionContext
from ..llm.gateway import LLMCallFailed
from ..llm.protocol import ActionType
from ..model import events as ev
from ..model.dialog import DialogTurn
from ..model.responses import ExtractionResponse
from .briefs import brief, turn_brief
from .context import Moment
from .exposures import record

KNOWN_SHOWN = 6  # of what each listener holds, the items nearest the turn are shown


def _relevant(items: list[str], said: str) -> tuple[str, ...]:
    """What a listener already holds that bears on a turn (TF-IDF against it), so that the
    call can skip it; the newest items when nothing does."""
    ranked = [items[i] for i, _ in rank(said, items, limit=KNOWN_SHOWN)]
    return tuple(ranked or items[-3:])


def learners(m: Moment, speaker: str) -> list[str]:
    """Who a turn's knowledge reaches: the people present at the graph level or above (M1)."""
    world = m.world
    return [e for e in m.present if e != speaker and learns(world.entities[e].resolution)]


def start(m: Moment, turn: DialogTurn) -> asyncio.Future[Any] | None:
    """Start reading what a turn told its listeners; None when nobody present learns from it
    (everyone else is below the graph level): then no call is made."""
    world = m.world
    listeners = [world.entities[e] for e in learners(m, turn.speaker)]
    if not listeners:
        return None
    context = ExtractionContext(
        scenario=m.steps.brief_for(
            world.entities[turn.speaker].resolution, *(e.resolution for e in listeners)
        ),
        timepoint_id=m.tp_id,
        turn=turn_brief(world, turn),
        speaker=brief(world.entities[turn.speaker]),
        speaker_tics=world.entities[turn.speaker].profile.voice.verbal_tics,
        listeners=tuple(brief(e) for e in listeners),
        known_by_listeners={
            e.entity_id: _relevant(world.ledger.items(e.entity_id), turn.content) for e in listeners
        },
    )
    return m.steps.in_background(
        m.steps.call(
            f"{m.scope}/extract{turn.turn_index + 1:02d}",
            ActionType.KNOWLEDGE_EXTRACTION,
            context,
            ExtractionResponse,
            m.steps.sampling(0.1, 900),
            timepoint_id=m.tp_id,
            entity_id=turn.speaker,
        )
    )


async def finish(
    m: Moment, turn: DialogTurn, task: asyncio.Future[Any] | None, new_knowledge: dict[str, int]
) -> None:
    if task is None:
        return
    try:
        answer, records = await task
    except LLMCallFailed as exc:
        m.calls(exc.records)
        m.emit(
            ev.KnowledgeExtractionFailed,
            dialog_id=turn.dialog_id,
            turn_index=turn.turn_index,
            error=str(exc),
        )
        m.issues.append(f"knowledge extraction failed for turn {turn.turn_index + 1}")
        return
    m.calls(records)
    assert isinstance(answer, ExtractionResponse)
    _apply(m, turn, answer, new_knowledge)


def _apply(
    m: Moment, turn: DialogTurn, answer: ExtractionResponse, new_knowledge: dict[str, int]
) -> None:
    world = m.world
    present = set(m.present)
    reached = {turn.speaker, *learners(m, turn.speaker)}
    speaker_known = set(world.ledger.items(turn.speaker))
    for item in answer.items:
        item = item.model_copy(update={"speaker": turn.speaker})
        check = validators.extraction_provenance(
            item,
            speaker_known=speaker_known,
            turn_references=set(turn.knowledge_references),
            present=present,
        )
        if not check.valid:
            m.emit(
                ev.ValidationReported,
                validator=check.validator,
                entity_id=turn.speaker,
                timepoint_id=m.tp_id,
                dialog_id=turn.dialog_id,
                turn_index=turn.turn_index,
                valid=False,
                violations=check.violations,
                action="item not recorded",
            )
            continue
        for exposure in told_exposures(
            item,
            ledger=world.ledger,
            present=reached,
            timepoint_id=m.tp_id,
            at=turn.timestamp,
            dialog_id=turn.dialog_id,
            turn_index=turn.turn_index,
        ):
            if record(m, exposure):
                new_knowledge[exposure.entity_id] = new_knowledge.get(exposure.entity_id, 0) + 1
