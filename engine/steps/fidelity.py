"""The fidelity of a timepoint (M1, M2, M6): every entity's level there, decided by the
policy from the scenario's pins, the template, the relationship graph's centrality, the
moment's importance and the attention paid to each entity, and recorded as one
``FidelityPlanned`` event. An entity that falls back to its tensors is recorded as
``EntityCompressed`` with the size of its context before and after, measured."""

from __future__ import annotations

import json

from ..agents import steering
from ..fidelity import policy
from ..fidelity.templates import Template, template, thresholds
from ..llm.tokens import estimate_tokens
from ..model import events as ev
from ..model.common import ResolutionLevel as Level
from ..model.entity import Entity
from ..scenario.schema import Scenario
from ..world import World
from .context import Moment


def pinned(scenario: Scenario, entity_id: str) -> Level | None:
    """The level the scenario pins an entity to (its own, else the scenario's), if any."""
    for spec in scenario.entities:
        if spec.id == entity_id and spec.resolution is not None:
            return spec.resolution
    return scenario.default_resolution


def scenario_template(scenario: Scenario) -> Template:
    return template(scenario.fidelity.template)


def _tie(rel: object) -> float:
    trust = abs(getattr(rel, "trust", 0.0))
    alignment = abs(getattr(rel, "alignment", 0.0))
    talked = min(1.0, getattr(rel, "interaction_count", 0) / 5)
    return 0.25 + trust + 0.5 * alignment + 0.5 * talked


def centrality(world: World) -> dict[str, float]:
    nodes = [e.entity_id for e in world.active()]
    return policy.centrality(nodes, {k: _tie(r) for k, r in world.relations.items()})


def _concern(entity: Entity, text: str) -> float:
    """How much a moment is about an entity: named in its event, and how forward it is."""
    named = entity.name.lower() in text or entity.name.split()[0].lower() in text
    return (1.0 if named else 0.0) + 0.5 * entity.tensor.beh("assertiveness")


def plan(m: Moment, importance: float) -> dict[str, Level]:
    """Decide and record every active entity's level at this timepoint."""
    world, s = m.world, m.steps.scenario
    th = thresholds()
    tmpl = scenario_template(s)
    index = m.timepoint.index
    steps_levels = tmpl.step_levels(s.timeline.count)
    central = centrality(world)
    text = m.timepoint.event_description.lower()
    present = set(m.present)
    standings = [
        policy.Standing(
            entity_id=e.entity_id,
            present=e.entity_id in present,
            current=e.resolution,
            pinned=pinned(s, e.entity_id),
            centrality=central.get(e.entity_id, 0.0),
            concern=_concern(e, text),
            can_speak=steering.can_speak(e, s.animism_level),
            queries=world.attention.queries.get(e.entity_id, 0),
            held=world.attention.held(e.entity_id, index, th.hold_timepoints),
            idle=world.attention.idle(e.entity_id, index),
        )
        for e in world.active()
    ]
    decided = policy.decide(
        standings,
        importance=importance,
        template=tmpl,
        thresholds=th,
        max_speakers=s.dialog.max_speakers,
        step_level=steps_levels[index] if steps_levels else None,
    )
    before = {e.entity_id: e.resolution for e in world.active()}
    m.emit(
        ev.FidelityPlanned,
        timepoint_id=m.tp_id,
        levels={k: d.level for k, d in decided.items()},
        reasons={k: d.reason for k, d in decided.items()},
    )
    for entity_id, d in decided.items():
        if d.compressed and before[entity_id] != Level.TENSOR_ONLY:
            full, small = context_sizes(world, world.entities[entity_id])
            m.emit(
                ev.EntityCompressed,
                entity_id=entity_id,
                timepoint_id=m.tp_id,
                previous=before[entity_id],
                reason=d.reason,
                full_tokens=full,
                compressed_tokens=small,
            )
    return {k: d.level for k, d in decided.items()}


def compressed_context(entity: Entity) -> str:
    """An entity in its compressed form: identity and tensors, nothing else (M6)."""
    p = entity.profile
    context, biology, behavior = entity.tensor.as_tuples()
    return json.dumps(
        {
            "name": p.name,
            "role": p.role,
            "type": p.entity_type,
            "context": [round(v, 2) for v in context],
            "biology": [round(v, 2) for v in biology],
            "behavior": [round(v, 2) for v in behavior],
        },
        separators=(",", ":"),
    )


def full_context(world: World, entity: Entity) -> str:
    """An entity with everything established about it: what a TRAINED call would bring."""
    p = entity.profile
    inner = world.inner.get(entity.entity_id)
    relations = [
        {"with": b if a == entity.entity_id else a, "trust": r.trust, "alignment": r.alignment}
        for (a, b), r in world.relations.items()
        if entity.entity_id in (a, b)
    ]
    knowledge = [
        {
            "information": x.information,
            "kind": x.kind.value,
            "source": x.source,
            "at": x.timepoint_id,
        }
        for x in world.ledger.exposures(entity.entity_id)
    ]
    return json.dumps(
        {
            "identity": json.loads(compressed_context(entity)),
            "description": p.description,
            "personality": list(p.personality),
            "voice": p.voice.model_dump(mode="json"),
            "knowledge": knowledge,
            "relationships": relations,
            "memory": inner.memory if inner else "",
            "concerns": [c.topic for c in inner.concerns] if inner else [],
        },
        separators=(",", ":"),
    )


def context_sizes(world: World, entity: Entity) -> tuple[int, int]:
    """Tokens of an entity's full context and of its compressed form."""
    return estimate_tokens(full_context(world, entity)), estimate_tokens(compressed_context(entity))
