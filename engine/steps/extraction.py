"""Knowledge extraction (M19 → M3): what a dialog told its listeners; each item becomes
``told`` exposures, checked for provenance (M4) first.

When someone present who learns from what is said is TRAINED, each turn is read in a call of
its own, run while the next round is spoken. Below that (M1: fidelity decides cost) the dialog
is read once it is over, up to :data:`TURNS_PER_CALL` turns a call, each item naming the turn
that conveyed it, so it keeps its speaker, moment and turn. What the run knows, and when, is
the same either way: every extraction is applied once the last round is spoken."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ..fidelity.policy import learns
from ..knowledge import validators
from ..knowledge.exposure import told_exposures
from ..knowledge.retrieval import rank
from ..llm.contexts import DialogExtractionContext, ExtractionContext
from ..llm.gateway import LLMCallFailed
from ..llm.protocol import ActionType
from ..model import events as ev
from ..model.common import ResolutionLevel
from ..model.dialog import DialogTurn
from ..model.knowledge import KnowledgeItem
from ..model.responses import DialogExtractionResponse, ExtractionResponse
from .briefs import brief, turn_brief
from .context import Moment
from .exposures import record

KNOWN_SHOWN = 6  # of what each listener holds, the items nearest the turn are shown
TURNS_PER_CALL = 12  # a dialog read once it is over: at most this many turns a call
DIALOG_ANSWER_TOKENS = 2400  # room for the longest answer its schema allows (12 items)


def _relevant(items: list[str], said: str) -> tuple[str, ...]:
    """What a listener already holds that bears on a turn (TF-IDF against it), so that the
    call can skip it; the newest items when nothing does."""
    ranked = [items[i] for i, _ in rank(said, items, limit=KNOWN_SHOWN)]
    return tuple(ranked or items[-3:])


def learners(m: Moment, speaker: str) -> list[str]:
    """Who a turn's knowledge reaches: the people present at the graph level or above (M1)."""
    world = m.world
    return [e for e in m.present if e != speaker and learns(world.entities[e].resolution)]


def per_turn(m: Moment) -> bool:
    """Whether each turn is read as it is spoken: someone present who learns from what is
    said is TRAINED. Otherwise the dialog is read once it is over (:func:`start_dialog`)."""
    return any(m.world.entities[e].resolution == ResolutionLevel.TRAINED for e in m.present)


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
    _apply(m, turn, answer.items, new_knowledge)


Batch = tuple[list[DialogTurn], asyncio.Future[Any]]


def start_dialog(m: Moment, turns: list[DialogTurn]) -> list[Batch]:
    """Start reading a dialog that is over, :data:`TURNS_PER_CALL` turns a call; the turns
    nobody present learns from (a speaker alone with bystanders) are not read."""
    world = m.world
    listeners = [world.entities[e] for e in m.present if learns(world.entities[e].resolution)]
    heard = [t for t in turns if any(e.entity_id != t.speaker for e in listeners)]
    batches = []
    for first in range(0, len(heard), TURNS_PER_CALL):
        part = heard[first : first + TURNS_PER_CALL]
        said = " ".join(t.content for t in part)
        speakers = dict.fromkeys(t.speaker for t in part)
        context = DialogExtractionContext(
            scenario=m.steps.brief_for(
                *(world.entities[s].resolution for s in speakers),
                *(e.resolution for e in listeners),
            ),
            timepoint_id=m.tp_id,
            turns=tuple(turn_brief(world, t) for t in part),
            listeners=tuple(brief(e) for e in listeners),
            known_by_listeners={
                e.entity_id: _relevant(world.ledger.items(e.entity_id), said) for e in listeners
            },
            speaker_tics={
                s: tics for s in speakers if (tics := world.entities[s].profile.voice.verbal_tics)
            },
        )
        task = m.steps.in_background(
            m.steps.call(
                f"{m.scope}/extract-dialog{first // TURNS_PER_CALL + 1:02d}",
                ActionType.KNOWLEDGE_EXTRACTION,
                context,
                DialogExtractionResponse,
                m.steps.sampling(0.1, DIALOG_ANSWER_TOKENS),
                timepoint_id=m.tp_id,
            )
        )
        batches.append((part, task))
    return batches


async def finish_dialog(m: Moment, batches: list[Batch], new_knowledge: dict[str, int]) -> None:
    for part, task in batches:
        try:
            answer, records = await task
        except LLMCallFailed as exc:
            m.calls(exc.records)
            for turn in part:
                m.emit(
                    ev.KnowledgeExtractionFailed,
                    dialog_id=turn.dialog_id,
                    turn_index=turn.turn_index,
                    error=str(exc),
                )
            first, last = part[0].turn_index + 1, part[-1].turn_index + 1
            m.issues.append(f"knowledge extraction failed for turns {first}-{last}")
            continue
        m.calls(records)
        assert isinstance(answer, DialogExtractionResponse)
        by_turn: dict[int, list[KnowledgeItem]] = {}
        for item in answer.items:
            if item.turn > len(part):
                m.emit(
                    ev.ValidationReported,
                    validator="extraction_turn",
                    entity_id=part[-1].speaker,
                    timepoint_id=m.tp_id,
                    dialog_id=part[-1].dialog_id,
                    valid=False,
                    violations=(f"an item names turn {item.turn} of {len(part)}",),
                    action="item not recorded",
                )
                continue
            by_turn.setdefault(item.turn - 1, []).append(item)
        for i, turn in enumerate(part):
            _apply(m, turn, by_turn.get(i, ()), new_knowledge)


def _apply(
    m: Moment, turn: DialogTurn, items: Sequence[KnowledgeItem], new_knowledge: dict[str, int]
) -> None:
    world = m.world
    present = set(m.present)
    reached = {turn.speaker, *learners(m, turn.speaker)}
    speaker_known = set(world.ledger.items(turn.speaker))
    for item in items:
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
