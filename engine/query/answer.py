"""Answering a query: an entity is asked about one moment of a run and answers in character,
from what it knew at that moment and nothing else.

The entity's profile, its state at the moment and the knowledge it held then (its exposure
events up to that timepoint) are read from the store, so a stored run can be questioned with no
simulation running and a live run is questioned at its last committed moment. References the
entity could not have made are removed and reported (information conservation, M4). The
question and the answer are stored with the run, in the ``queries`` table.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..agents import emotion, persona
from ..agents.steering import speaking_mode
from ..knowledge.exposure import KNOWLEDGE_LIMITS
from ..knowledge.validators import information_conservation
from ..llm.contexts import EntityBrief, EntityQueryContext, KnowledgeRef, MoodBrief, ScenarioBrief
from ..llm.gateway import Gateway, LLMCallFailed
from ..llm.protocol import ActionType, Provider, SamplingParams
from ..llm.registry import Router
from ..model.common import ResolutionLevel
from ..model.entity import EntityProfile
from ..model.responses import QueryResponse
from ..model.tensors import CognitiveState, TTMTensor
from ..store import Store, StoreError

QUERY_RESOLUTION = ResolutionLevel.DIALOG  # what a questioned entity brings (elevation comes later)


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


async def _one(store: Store, sql: str, params: tuple[Any, ...]) -> Any:
    rows = await store.rows(sql, params)
    return rows[0] if rows else None


async def build_context(
    store: Store, run_id: str, entity_id: str, timepoint_id: str | None, question: str
) -> EntityQueryContext:
    run = await _one(store, "SELECT scenario_json FROM runs WHERE run_id = ?", (run_id,))
    if run is None:
        raise QueryFailed(f"there is no run {run_id!r}")
    scenario = json.loads(run["scenario_json"])
    row = await _one(
        store,
        "SELECT profile_json FROM entities WHERE run_id = ? AND entity_id = ?",
        (run_id, entity_id),
    )
    if row is None:
        raise QueryFailed(f"run {run_id} has no entity {entity_id!r}")
    profile = EntityProfile.model_validate_json(row["profile_json"])
    order = {
        r["timepoint_id"]: r["idx"]
        for r in await store.rows(
            "SELECT timepoint_id, idx FROM timepoints WHERE run_id = ?", (run_id,)
        )
    }
    if timepoint_id is not None and timepoint_id not in order:
        raise QueryFailed(f"run {run_id} has no timepoint {timepoint_id!r}")
    index = order.get(timepoint_id, -1) if timepoint_id else -1

    def index_of(tp: str | None) -> int:
        return order.get(tp, -1) if tp else -1

    states = [
        r
        for r in await store.rows(
            "SELECT timepoint_id, context_json, biology_json, behavior_json, cognitive_json "
            "FROM entity_states WHERE run_id = ? AND entity_id = ? ORDER BY seq",
            (run_id, entity_id),
        )
        if index_of(r["timepoint_id"]) <= index
    ]
    if not states:
        raise QueryFailed(f"{profile.name} has no recorded state at that moment")
    state = states[-1]
    tensor = TTMTensor(
        context=json.loads(state["context_json"]),
        biology=json.loads(state["biology_json"]),
        behavior=json.loads(state["behavior_json"]),
    )
    cognitive = CognitiveState.model_validate_json(state["cognitive_json"])
    names = {
        r["entity_id"]: r["name"]
        for r in await store.rows(
            "SELECT entity_id, name FROM entities WHERE run_id = ?", (run_id,)
        )
    }
    held = [
        r
        for r in await store.rows(
            "SELECT information, kind, source, timepoint_id, confidence, category FROM "
            "exposure_events WHERE run_id = ? AND entity_id = ? ORDER BY seq",
            (run_id, entity_id),
        )
        if index_of(r["timepoint_id"]) <= index
    ]
    held = held[-KNOWLEDGE_LIMITS[QUERY_RESOLUTION] :]
    knowledge = tuple(
        KnowledgeRef(
            information=k["information"],
            kind=k["kind"],
            category=k["category"],
            source=names.get(k["source"], k["source"]),
            timepoint_id=k["timepoint_id"],
            confidence=k["confidence"],
        )
        for k in reversed(held)
    )
    moment_row = (
        await _one(
            store,
            "SELECT title, event_description, timestamp FROM timepoints "
            "WHERE run_id = ? AND timepoint_id = ?",
            (run_id, timepoint_id),
        )
        if timepoint_id
        else None
    )
    if moment_row is not None:
        moment = f"{moment_row['title']} ({moment_row['timestamp'][:16].replace('T', ' ')})"
        event = moment_row["event_description"]
    else:
        moment, event = "the start, before anything happened", ""
    setting = scenario.get("setting") or {}
    return EntityQueryContext(
        scenario=ScenarioBrief(
            name=scenario.get("name", ""),
            title=scenario.get("title", ""),
            description=scenario.get("description", ""),
            location=setting.get("location", ""),
            atmosphere=setting.get("atmosphere", ""),
            tags=tuple(scenario.get("tags", ())),
        ),
        timepoint_id=timepoint_id,
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
    )


async def answer_query(
    store: Store,
    provider: Provider,
    run_id: str,
    entity_id: str,
    timepoint_id: str | None,
    question: str,
    *,
    router: Router | None = None,
) -> QueryAnswer:
    """Ask, validate, store and return the answer. Raises :class:`QueryFailed`. ``router``
    picks the model (M18) when the provider serves several."""
    try:
        context = await build_context(store, run_id, entity_id, timepoint_id, question)
    except StoreError as exc:
        raise QueryFailed(str(exc)) from exc
    gateway = Gateway(provider, router=router)
    try:
        answer, records = await gateway.call(
            ActionType.ENTITY_QUERY,
            context,
            QueryResponse,
            sampling=SamplingParams(temperature=0.7, max_tokens=400),
            timepoint_id=timepoint_id,
        )
    except LLMCallFailed as exc:
        raise QueryFailed(f"{context.speaker.name} could not be asked: {exc}") from exc
    assert isinstance(answer, QueryResponse)
    known = [k.information for k in context.knowledge]
    check = information_conservation(answer.knowledge_references, known)
    references = tuple(r for r in answer.knowledge_references if r not in check.violations)
    result = QueryAnswer(
        query_id=f"q-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(2)}",
        run_id=run_id,
        entity_id=entity_id,
        timepoint_id=timepoint_id,
        question=question,
        answer=answer.answer,
        references=references,
        violations=check.violations,
        emotional_tone=answer.emotional_tone,
        confidence=answer.confidence,
        status="ok" if check.valid else "degraded",
        provider=provider.name,
        model=records[-1].model,
        prompt_tokens=sum(r.prompt_tokens for r in records),
        completion_tokens=sum(r.completion_tokens for r in records),
        cost_usd=sum(r.cost_usd for r in records),
    )
    try:
        await store.record_query(
            {
                "run_id": run_id,
                "query_id": result.query_id,
                "entity_id": entity_id,
                "timepoint_id": timepoint_id,
                "question": question,
                "answer": result.answer,
                "knowledge_refs_json": json.dumps(list(references)),
                "violations_json": json.dumps(list(result.violations)),
                "emotional_tone": result.emotional_tone,
                "confidence": result.confidence,
                "status": result.status,
                "provider": result.provider,
                "model": result.model,
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "cost_usd": result.cost_usd,
                "asked_at": datetime.now(UTC).isoformat(),
            }
        )
    except StoreError as exc:
        raise QueryFailed(str(exc)) from exc
    return result
