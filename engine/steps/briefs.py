"""The briefs a step puts into a call's context: who an entity is, its mood, what it knows
and keeps to itself, how it speaks. Pure functions of a World."""

from __future__ import annotations

from datetime import timedelta

from ..agents import emotion, persona
from ..llm.contexts import EntityBrief, KnowledgeRef, MoodBrief, TurnBrief
from ..model.common import ExposureType
from ..model.dialog import DialogTurn, SpeakingStyle
from ..model.entity import Entity
from ..world import World


def brief(entity: Entity) -> EntityBrief:
    p = entity.profile
    return EntityBrief(entity_id=p.entity_id, name=p.name, role=p.role, entity_type=p.entity_type)


def mood(entity: Entity) -> MoodBrief:
    c, t = entity.cognitive, entity.tensor
    return MoodBrief(
        valence=c.valence,
        arousal=c.arousal,
        energy=c.energy,
        fatigue=t.bio("fatigue"),
        pain=t.bio("pain"),
        label=emotion.mood_label(c, t.bio("fatigue"), t.bio("pain")),
    )


def style(entity: Entity) -> SpeakingStyle:
    return persona.speaking_style(entity.profile, entity.tensor)


def private_knowledge(
    world: World, entity_id: str, limit: int = 3, *, before_dialog: str | None = None
) -> tuple[str, ...]:
    """What ``entity_id`` was given (initially or by a beat) that nobody else holds; with
    ``before_dialog``, what others learned in that dialog does not count yet."""
    others = [e for e in world.entities if e != entity_id]
    own = [
        x
        for x in world.ledger.exposures(entity_id)
        if x.kind in (ExposureType.INITIAL, ExposureType.LEARNED)
    ]

    def held_by_another(information: str) -> bool:
        for other in others:
            held = world.ledger.exposure(other, information)
            if held is not None and (before_dialog is None or held.dialog_id != before_dialog):
                return True
        return False

    private = [x.information for x in own if not held_by_another(x.information)]
    return tuple(private[:limit])


def knowledge_refs(
    world: World,
    entity: Entity,
    tp_id: str,
    about: str | None = None,
) -> tuple[KnowledgeRef, ...]:
    """What the entity can draw on at this moment (below TRAINED, what bears on ``about``
    most); ``private`` marks what it was given (initially or by a beat) that nobody else
    holds."""
    out = []
    others = [e for e in world.entities if e != entity.entity_id]
    held = world.ledger.recall(
        entity.entity_id, entity.resolution, exclude_timepoint=tp_id, about=about
    )
    for x in held:
        if not world.graph.can_know(x.timepoint_id, tp_id):
            continue  # not on this moment's causal lineage (another branch, or later)
        source = world.entities[x.source].name if x.source in world.entities else x.source
        private = x.kind in (ExposureType.INITIAL, ExposureType.LEARNED) and not any(
            world.ledger.exposure(other, x.information) is not None for other in others
        )
        out.append(
            KnowledgeRef(
                information=x.information,
                kind=x.kind.value,
                category=x.category,
                source=source,
                timepoint_id=x.timepoint_id,
                confidence=x.confidence,
                private=private,
            )
        )
    return tuple(out)


def turn_brief(world: World, turn: DialogTurn) -> TurnBrief:
    return TurnBrief(
        turn_index=turn.turn_index,
        speaker_id=turn.speaker,
        speaker_name=world.entities[turn.speaker].name,
        content=turn.content,
        knowledge_references=turn.knowledge_references,
        stance=turn.stance,
        act=turn.act,
        emotional_tone=turn.emotional_tone,
        addressed_to=turn.addressed_to,
    )


def horizon(step: timedelta) -> str:
    """How far ahead a character looks: the time to the next timepoint, in words."""
    minutes = round(step.total_seconds() / 60)
    if minutes < 120:
        return f"the next {minutes} minutes"
    hours = round(minutes / 60)
    if hours < 48:
        return f"the next {hours} hours"
    return f"the next {round(hours / 24)} days"
