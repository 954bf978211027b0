"""How a timepoint leaves its people: mood and tensors moved by the dialog they took part in
or witnessed, rest for those away, and relationships moved by what was said."""

from __future__ import annotations

from datetime import timedelta

from ..agents import emotion, relationships
from ..model import events as ev
from ..model.dialog import DialogTurn
from ..model.entity import Entity
from ..model.tensors import CognitiveState, TTMTensor
from ..world import World
from .context import Moment

_HOUR = timedelta(hours=1)


def state_after(
    world: World, entity: Entity, present: list[str], turns: list[DialogTurn], new_knowledge: int
) -> tuple[TTMTensor, CognitiveState, str] | None:
    """An entity's tensor and cognitive state after a timepoint: changed by the dialog it
    took part in or witnessed, or rested when it was away. None when nothing changes.
    ``new_knowledge`` only moves the knowledge dimension, never the mood."""
    entity_id = entity.entity_id
    if entity_id in present:
        trust = {other: world.relation(entity_id, other).trust for other in present}
        cognitive = emotion.dialog_impact(
            entity_id,
            emotion.ttm_to_cognitive(entity.tensor),
            turns,
            trust=trust,
            new_knowledge=new_knowledge + 1,
            vitality=entity.tensor.bio("vitality"),
        )
        tensor = emotion.cognitive_to_ttm(entity.tensor, cognitive)
        cause = "dialog" if any(t.speaker == entity_id for t in turns) else "witnessed"
        return tensor, cognitive, cause
    if len(world.timepoints) > 1:
        tensor = emotion.rest(entity.tensor, world.scenario.timeline.step_delta / _HOUR)
        if tensor.as_tuples() == entity.tensor.as_tuples():
            return None
        return tensor, emotion.ttm_to_cognitive(tensor), "rest"
    return None


def after_dialog(world: World, present: list[str], turns: list[DialogTurn]) -> dict[str, Entity]:
    """Every entity as a dialog leaves its mood (the knowledge dimension aside, which waits
    for the extraction): what the next event and the inner-life calls are written from."""
    out = {}
    for entity_id, entity in world.entities.items():
        after = state_after(world, entity, present, turns, new_knowledge=0)
        if after is not None:
            entity = entity.model_copy(update={"tensor": after[0], "cognitive": after[1]})
        out[entity_id] = entity
    return out


def update(m: Moment, turns: list[DialogTurn], new_knowledge: dict[str, int]) -> None:
    world = m.world
    for entity_id, entity in list(world.entities.items()):
        after = state_after(world, entity, m.present, turns, new_knowledge.get(entity_id, 0))
        if after is None:
            continue
        tensor, cognitive, cause = after
        m.emit(
            ev.TensorUpdated,
            entity_id=entity_id,
            timepoint_id=m.tp_id,
            resolution=entity.resolution,
            tensor=ev.TensorSnapshot.of(tensor),
            cognitive=cognitive,
            cause=cause,
        )
    knowledge = {e: world.ledger.items(e) for e in m.present}
    for rel in relationships.update_after_dialog(world.relations, turns, knowledge):
        m.emit(ev.RelationshipUpdated, timepoint_id=m.tp_id, relationship=rel)
