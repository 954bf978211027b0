"""Answering a query: an entity is asked about one moment of a run and answers in character,
from what it knew at that moment and nothing else.

What it knew "at" the moment is decided by causal ancestry (M7), through the same read model
the explorer shows: its state and its exposures on the moment's lineage, never those of a
sibling branch or a later timepoint. Everything is read from the store's committed record, so a
stored run can be questioned with no simulation running and a live one is questioned at its
last committed moment. References the entity could not have made are removed and reported
(information conservation, M4).

A query is an observer action and part of the run's record: the call goes through the run's
gateway (cassette, budget, accounting, replay) and the answer is a ``QueryAnswered`` event in
the run's log, next to the call's ``LLMCallFinished``; the ``queries`` table is its projection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..agents import emotion, persona
from ..agents.steering import speaking_mode
from ..knowledge.exposure import KNOWLEDGE_LIMITS
from ..knowledge.retrieval import rank
from ..knowledge.validators import information_conservation
from ..llm.contexts import EntityBrief, EntityQueryContext, MoodBrief
from ..llm.gateway import Gateway
from ..llm.protocol import ActionType, SamplingParams
from ..model import events as ev
from ..model.common import ResolutionLevel, StepStatus
from ..model.entity import EntityProfile
from ..model.records import KnowledgeInfo, TimepointInfo
from ..model.responses import QueryResponse
from ..model.run import RunSummary
from ..model.tensors import CognitiveState, TTMTensor
from ..store import Store, StoreError
from ..view.runview import RunView
from ..world import Recorder, Unit
from .briefing import knowledge_ref, scenario_brief
from .records import recorded_call


class QueryFailed(Exception):
    """A query that could not be answered, in one sentence."""


@dataclass(frozen=True, slots=True)
class QueryAnswer:
    query_id: str
    run_id: str
    entity_id: str
    timepoint_id: str | None
    question: str
    answer: str
    references: tuple[str, ...]
    violations: tuple[str, ...]
    emotional_tone: str
    confidence: float
    status: str
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    level: str | None = None
    provenance: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, e: ev.QueryAnswered) -> QueryAnswer:
        return cls(
            e.query_id,
            e.run_id,
            e.entity_id,
            e.timepoint_id,
            e.question,
            e.answer,
            e.knowledge_references,
            e.violations,
            e.emotional_tone,
            e.confidence,
            e.status.value,
            e.provider,
            e.model,
            e.prompt_tokens,
            e.completion_tokens,
            e.cost_usd,
            e.level.value if e.level else None,
            e.provenance,
        )


def _moment(view: RunView, timepoint_id: str | None, latest: bool) -> TimepointInfo | None:
    """The moment a question is answered at. With ``latest``, a moment not committed yet (a
    live run's timepoint under way) is answered at the newest committed one before it."""
    if timepoint_id is None:
        return None
    tp = view.timepoint(timepoint_id)
    if tp is not None:
        return tp
    if latest and view.timepoints:
        return view.timepoints[-1]
    raise QueryFailed(f"run {view.run.run_id} has no timepoint {timepoint_id!r}")


@dataclass(frozen=True, slots=True)
class Loaded:
    """A run read for questions: its summary, its whole read model and its scenario."""

    summary: RunSummary
    view: RunView
    scenario: dict[str, Any]


async def load(store: Store, run_id: str) -> Loaded:
    try:
        summary, view = await store.load_run(run_id)  # one transaction: they agree
        scenario = await store.read_scenario(summary.run_id) or {}
    except StoreError as exc:
        raise QueryFailed(str(exc)) from exc
    return Loaded(summary, view, scenario)


def ranked_knowledge(
    view: RunView, entity_id: str, at: str | None, question: str, level: ResolutionLevel
) -> list[KnowledgeInfo]:
    """What the entity brings to a question at ``at``: the items most relevant to it first
    (TF-IDF), then the most recent, as many as its level allows."""
    held = view.knowledge_at(entity_id, at)
    order = [i for i, _ in rank(question, [k.information for k in held])]
    rest = [i for i in reversed(range(len(held))) if i not in set(order)]
    return [held[i] for i in (order + rest)[: KNOWLEDGE_LIMITS[level]]]


def context_for(
    loaded: Loaded,
    profile: EntityProfile,
    tp: TimepointInfo | None,
    question: str,
    level: ResolutionLevel,
) -> EntityQueryContext:
    view, entity_id = loaded.view, profile.entity_id
    at = tp.timepoint_id if tp else None
    state = view.state_at(entity_id, at)
    if state is None:
        raise QueryFailed(f"{profile.name} has no recorded state at that moment")
    tensor = TTMTensor(context=state.context, biology=state.biology, behavior=state.behavior)
    cognitive = state.cognitive or CognitiveState(
        valence=state.valence, arousal=state.arousal, energy=state.energy
    )
    names = {k: e.name for k, e in view.entities.items()}
    others = {
        k.information
        for other in view.entities
        if other != entity_id
        for k in view.knowledge_at(other, at)
    }
    knowledge = tuple(
        knowledge_ref(
            k, names, private=k.kind in ("initial", "learned") and k.information not in others
        )
        for k in ranked_knowledge(view, entity_id, at, question, level)
    )
    # how readily it tells a secret: open and warm people, in a good mood, more than others
    candour = (
        0.45 * tensor.beh("openness")
        + 0.3 * tensor.beh("warmth")
        + 0.25 * (cognitive.valence + 1.0) / 2.0
    )
    if tp is not None:
        moment = f"{tp.title} ({tp.timestamp.isoformat()[:16].replace('T', ' ')})"
        event = tp.event_description
    else:
        moment, event = "the start, before anything happened", ""
    return EntityQueryContext(
        scenario=scenario_brief(loaded.scenario, full=level == ResolutionLevel.TRAINED),
        timepoint_id=at,
        moment=moment,
        event_description=event,
        speaker=EntityBrief(
            entity_id=entity_id,
            name=profile.name,
            role=profile.role,
            entity_type=profile.entity_type,
        ),
        speaker_description=profile.description,
        personality=profile.personality,
        voice=profile.voice,
        style=persona.speaking_style(profile, tensor),
        mood=MoodBrief(
            valence=cognitive.valence,
            arousal=cognitive.arousal,
            energy=cognitive.energy,
            fatigue=tensor.bio("fatigue"),
            pain=tensor.bio("pain"),
            label=emotion.mood_label(cognitive, tensor.bio("fatigue"), tensor.bio("pain")),
        ),
        speaking_mode=speaking_mode(profile.entity_type),  # type: ignore[arg-type]
        knowledge=knowledge,
        question=question,
        candour=round(min(1.0, max(0.0, candour)), 3),
    )


async def build_context(
    store: Store,
    run_id: str,
    entity_id: str,
    timepoint_id: str | None,
    question: str,
    *,
    latest: bool = False,
    level: ResolutionLevel = ResolutionLevel.DIALOG,
) -> EntityQueryContext:
    """The context of a question put to ``entity_id`` about one moment of a stored run."""
    loaded = await load(store, run_id)
    profile = await store.read_profile(loaded.summary.run_id, entity_id)
    if profile is None:
        raise QueryFailed(f"run {loaded.summary.run_id} has no entity {entity_id!r}")
    tp = _moment(loaded.view, timepoint_id, latest)
    return context_for(loaded, profile, tp, question, level)


async def ask(
    gateway: Gateway,
    recorder: Recorder,
    unit: Unit,
    query_id: str,
    context: EntityQueryContext,
    branch_id: str,
    level: ResolutionLevel | None = None,
) -> ev.QueryAnswered:
    """Put the question through the run's gateway and record the answer (and the call) in
    ``unit``; the caller commits it."""
    answer, records = await recorded_call(
        gateway,
        recorder,
        unit,
        branch_id,
        ActionType.ENTITY_QUERY,
        context,
        QueryResponse,
        sampling=SamplingParams(temperature=0.7, max_tokens=400),
        timepoint_id=context.timepoint_id,
        call_key=query_id,
        entity_id=context.speaker.entity_id,
        failed=QueryFailed,
        failure=f"{context.speaker.name} could not be asked",
    )
    known = [k.information for k in context.knowledge]
    check = information_conservation(answer.knowledge_references, known)
    references = tuple(r for r in answer.knowledge_references if r not in check.violations)
    by_text = {k.information: k for k in context.knowledge}
    provenance = tuple(
        {
            "information": r,
            "kind": by_text[r].kind,
            "source": by_text[r].source,
            "timepoint_id": by_text[r].timepoint_id,
            "confidence": by_text[r].confidence,
        }
        for r in references
        if r in by_text
    )
    event = recorder.emit(
        unit,
        None,
        ev.QueryAnswered,
        branch_id=branch_id,
        query_id=query_id,
        entity_id=context.speaker.entity_id,
        timepoint_id=context.timepoint_id,
        question=context.question,
        answer=answer.answer,
        knowledge_references=references,
        violations=check.violations,
        emotional_tone=answer.emotional_tone,
        confidence=answer.confidence,
        status=StepStatus.OK if check.valid else StepStatus.DEGRADED,
        provider=gateway.provider.name,
        model=records[-1].model,
        prompt_tokens=sum(r.prompt_tokens for r in records),
        completion_tokens=sum(r.completion_tokens for r in records),
        cost_usd=sum(r.cost_usd for r in records),
        asked_at=datetime.now(UTC),
        level=level,
        provenance=provenance,
    )
    assert isinstance(event, ev.QueryAnswered)
    return event


def query_id(asked_before: int) -> str:
    """Queries are numbered in the order they were asked in their run: q0001, q0002, ..."""
    return f"q{asked_before + 1:04d}"
