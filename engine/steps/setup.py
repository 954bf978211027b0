"""Setting a run up: the cast (from the roster, and generated to the scenario's full size by
one call), what each knows from the start (M3), and the relationships between them."""

from __future__ import annotations

from ..agents.cast import initial_entity, profile_from_draft, profile_from_spec, slug
from ..knowledge.exposure import initial_exposures
from ..llm.contexts import EntityBrief, PopulationContext
from ..llm.protocol import ActionType, SamplingParams
from ..model import events as ev
from ..model.common import ResolutionLevel
from ..model.relationship import Relationship, pair_key
from ..model.responses import PopulationResponse
from ..world import Unit, World
from .context import StepContext
from .exposures import record_on


async def populate(steps: StepContext, world: World, unit: Unit) -> None:
    s = steps.scenario
    recorder = steps.recorder
    profiles = [profile_from_spec(spec) for spec in s.entities]
    states = {spec.id: spec.state for spec in s.entities}
    start = s.default_resolution or s.fidelity.initial or ResolutionLevel.TENSOR_ONLY
    resolutions = {spec.id: spec.resolution or start for spec in s.entities}
    missing = s.total_entities - len(profiles)
    if missing > 0:
        context = PopulationContext(
            scenario=steps.brief,
            count=missing,
            existing=tuple(
                EntityBrief(
                    entity_id=p.entity_id, name=p.name, role=p.role, entity_type=p.entity_type
                )
                for p in profiles
            ),
            types=tuple(s.generated_types),
        )
        answer, records = await steps.call(
            "setup/population",
            ActionType.ENTITY_POPULATION,
            context,
            PopulationResponse,
            SamplingParams(temperature=0.9, max_tokens=2400, seed=steps.seed),
        )
        recorder.calls(unit, world, records)
        taken = {p.entity_id for p in profiles}
        assert isinstance(answer, PopulationResponse)
        for draft in answer.entities[:missing]:
            entity_id = slug(draft.name, taken)
            taken.add(entity_id)
            profiles.append(profile_from_draft(draft, entity_id))
            resolutions[entity_id] = start
    for profile in profiles:
        entity = initial_entity(
            profile, states.get(profile.entity_id), resolutions[profile.entity_id]
        )
        recorder.emit(
            unit,
            world,
            ev.EntityCreated,
            profile=profile,
            resolution=entity.resolution,
            tensor=ev.TensorSnapshot.of(entity.tensor),
            cognitive=entity.cognitive,
        )
    for entity in list(world.entities.values()):
        knowledge = entity.profile.initial_knowledge
        for exposure in initial_exposures(entity.entity_id, knowledge, s.timeline.start):
            record_on(recorder, unit, world, exposure)
    for spec in s.relationships:
        key = pair_key(*spec.between)
        rel = Relationship(a=key[0], b=key[1], trust=spec.trust, alignment=spec.alignment)
        recorder.emit(unit, world, ev.RelationshipUpdated, timepoint_id="", relationship=rel)
