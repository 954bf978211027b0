"""Entities created because a query named them (M9): ``@dock_worker_12`` in a run with no such
person. The role comes from how they were named (numbered crowd members such as
``attendee_47`` are an attendee), the provider writes a plausible person for the scenario and
the moment (who was there, what happened), and they are recorded with the query that created
them: an ``EntityCreated`` with its ``query_id``, what they know, and that they were there."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..agents.cast import initial_entity, profile_from_draft, slug
from ..llm.contexts import EntityBrief, PopulationContext
from ..llm.gateway import Gateway
from ..llm.protocol import ActionType, SamplingParams
from ..model import events as ev
from ..model.common import MAIN_BRANCH, ExposureType
from ..model.common import ResolutionLevel as Level
from ..model.records import TimepointInfo
from ..model.responses import PopulationResponse
from ..view.runview import RunView
from ..world import Recorder, Unit
from .briefing import scenario_brief
from .records import record_exposure, recorded_call

_NUMBERED = re.compile(r"^(?P<role>[a-z][a-z_\- ]*?)[_\- ]?(?P<n>\d+)$")


class CreationFailed(Exception):
    """The entity could not be written; what it spent is recorded."""


@dataclass(frozen=True, slots=True)
class CreationPlan:
    typed: str
    entity_id: str
    role: str
    timepoint_id: str | None

    def describe(self) -> str:
        where = f" at {self.timepoint_id}" if self.timepoint_id else ""
        return f"nobody called {self.typed!r} exists; create them as {self.role}{where}"

    def to_json(self) -> dict[str, str | None]:
        return {
            "typed": self.typed,
            "entity_id": self.entity_id,
            "role": self.role,
            "timepoint_id": self.timepoint_id,
        }


def plan(view: RunView, typed: str, tp: TimepointInfo | None) -> CreationPlan | None:
    """How ``typed`` would be created, or None when it cannot name a new entity (empty, or
    too long to be a name)."""
    words = typed.strip()
    if not words or len(words) > 60 or not re.match(r"^[\w][\w .'\-]*$", words):
        return None
    lowered = words.lower().replace("-", "_")
    numbered = _NUMBERED.match(lowered)
    if numbered:
        role = numbered.group("role").replace("_", " ").strip()
    elif words[0].isupper():
        role = "someone who was there"
    else:
        role = lowered.replace("_", " ")
    entity_id = slug(words, set(view.entities))
    return CreationPlan(words, entity_id, role, tp.timepoint_id if tp else None)


async def create(
    gateway: Gateway,
    recorder: Recorder,
    unit: Unit,
    view: RunView,
    scenario: dict,
    creation: CreationPlan,
    query_id: str,
    branch_id: str = MAIN_BRANCH,
) -> ev.EntityCreated:
    tp = view.timepoint(creation.timepoint_id)
    names = {k: e.name for k, e in view.entities.items()}
    there = [names[e] for e in tp.present if e in names] if tp else []
    moment = (
        f"{tp.title}: {tp.event_description} (present: {', '.join(there) or 'nobody recorded'})"
        if tp
        else "the start"
    )
    context = PopulationContext(
        scenario=scenario_brief(scenario),
        count=1,
        existing=tuple(
            EntityBrief(entity_id=k, name=e.name, role=e.role, entity_type=e.entity_type)
            for k, e in view.entities.items()
        ),
        types=("human",),
        roles=(creation.role,),
        moment=moment,
    )
    answer, _ = await recorded_call(
        gateway,
        recorder,
        unit,
        branch_id,
        ActionType.ENTITY_POPULATION,
        context,
        PopulationResponse,
        sampling=SamplingParams(temperature=0.8, max_tokens=900),
        timepoint_id=creation.timepoint_id,
        call_key=f"{query_id}/create",
        entity_id=creation.entity_id,
        failed=CreationFailed,
        failure=f"{creation.typed} could not be created",
    )
    draft = answer.entities[0]
    if creation.typed[0].isupper() and not _NUMBERED.match(creation.typed.lower()):
        draft = draft.model_copy(update={"name": creation.typed})
    profile = profile_from_draft(draft, creation.entity_id).model_copy(
        update={"source": "on_demand"}
    )
    entity = initial_entity(profile, None, Level.DIALOG)
    event = recorder.emit(
        unit,
        None,
        ev.EntityCreated,
        branch_id=branch_id,
        profile=profile,
        resolution=entity.resolution,
        tensor=ev.TensorSnapshot.of(entity.tensor),
        cognitive=entity.cognitive,
        query_id=query_id,
        timepoint_id=creation.timepoint_id,
    )
    at = tp.timestamp if tp else (view.run.started_at or datetime.now(UTC))
    items = [(k, ExposureType.INITIAL, None) for k in profile.initial_knowledge]
    if tp is not None:
        items.append((tp.event_description, ExposureType.WITNESSED, tp.timepoint_id))
    for n, (information, kind, timepoint_id) in enumerate(items, 1):
        record_exposure(
            recorder,
            unit,
            branch_id,
            f"{query_id}-c{n:02d}",
            entity_id=profile.entity_id,
            kind=kind,
            information=information,
            timestamp=at,
            timepoint_id=timepoint_id,
        )
    assert isinstance(event, ev.EntityCreated)
    return event
