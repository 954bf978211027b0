"""A read model of one run: what every pane of the explorer shows, at any moment.

It is fed in one of two ways and answers the same questions either way:

- live: :meth:`RunView.apply` folds each engine event into it as the run happens (streamed
  dialog chunks included);
- replay: :meth:`RunView.load` reads the store's materialized tables, with dialog turns and
  knowledge fetched lazily per timepoint and per entity, so that opening a very long run stays
  fast and no provider is needed.

Everything it hands out is immutable plain data (frozen dataclasses, tuples of floats), safe to
put in UI messages.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .model import events as ev
from .model.inner import InnerLife
from .model.scene import Atmosphere, Scene
from .store import Store

INITIAL = -1  # the timepoint index of an entity's state before the first timepoint


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_id: str
    scenario: str
    title: str
    mode: str
    seed: int
    provider: str
    model: str
    status: str
    reason: str | None
    planned_timepoints: int
    started_at: datetime | None
    wall_seconds: float | None = None
    timepoints: int = 0
    dialog_turns: int = 0
    exposure_events: int = 0
    llm_calls: int = 0
    failed_steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    warnings: tuple[str, ...] = ()

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class EntityInfo:
    entity_id: str
    name: str
    entity_type: str
    role: str
    description: str
    personality: tuple[str, ...]
    archetype: str | None
    source: str


@dataclass(frozen=True, slots=True)
class TimepointInfo:
    timepoint_id: str
    branch_id: str
    index: int
    timestamp: datetime
    title: str
    event_description: str
    present: tuple[str, ...]
    importance: float
    tension: float
    status: str
    issues: tuple[str, ...]
    parent: str | None


@dataclass(frozen=True, slots=True)
class StateInfo:
    timepoint_index: int
    resolution: str
    context: tuple[float, ...]
    biology: tuple[float, ...]
    behavior: tuple[float, ...]
    valence: float
    arousal: float
    energy: float
    cause: str


@dataclass(frozen=True, slots=True)
class TurnInfo:
    dialog_id: str
    turn_index: int
    timepoint_id: str
    speaker: str
    content: str
    emotional_tone: str = ""
    stance: str = ""
    knowledge_references: tuple[str, ...] = ()
    addressed_to: str | None = None
    status: str = "ok"
    issues: tuple[str, ...] = ()
    streaming: bool = False


@dataclass(frozen=True, slots=True)
class QueryInfo:
    query_id: str
    entity_id: str
    timepoint_id: str | None
    question: str
    answer: str
    references: tuple[str, ...]
    status: str


@dataclass(frozen=True, slots=True)
class KnowledgeInfo:
    information: str
    kind: str
    source: str | None
    timepoint_id: str | None
    timepoint_index: int
    confidence: float
    category: str
    seq: int


@dataclass(frozen=True, slots=True)
class RelationInfo:
    other: str
    trust: float
    alignment: float
    interaction_count: int
    shared: tuple[str, ...]
    timepoint_index: int


@dataclass
class RunView:
    run: RunInfo
    entities: dict[str, EntityInfo] = field(default_factory=dict)
    timepoints: list[TimepointInfo] = field(default_factory=list)
    live: bool = False
    _tp_index: dict[str, int] = field(default_factory=dict)
    _states: dict[str, list[StateInfo]] = field(default_factory=dict)
    _state_keys: dict[str, list[int]] = field(default_factory=dict)
    _turns: dict[str, list[TurnInfo]] = field(default_factory=dict)
    _knowledge: dict[str, list[KnowledgeInfo]] = field(default_factory=dict)
    _relations: dict[str, list[RelationInfo]] = field(default_factory=dict)
    _queries: dict[str, list[QueryInfo]] = field(default_factory=dict)
    _dialog_tp: dict[str, str] = field(default_factory=dict)
    _scenes: dict[str, Scene] = field(default_factory=dict)
    _inner: dict[str, list[tuple[int, InnerLife]]] = field(default_factory=dict)
    _store: Store | None = None

    # ------------------------------------------------------------------ questions
    def timepoint(self, timepoint_id: str) -> TimepointInfo | None:
        i = self._tp_index.get(timepoint_id)
        return self.timepoints[i] if i is not None else None

    def index_of(self, timepoint_id: str | None) -> int:
        if timepoint_id is None or timepoint_id == "":
            return INITIAL
        i = self._tp_index.get(timepoint_id)
        return self.timepoints[i].index if i is not None else INITIAL

    def state_at(self, entity_id: str, timepoint_index: int) -> StateInfo | None:
        """The entity's state as it stood at the end of ``timepoint_index`` (or before)."""
        states = self._states.get(entity_id, [])
        keys = self._state_keys.get(entity_id)
        if keys is None or len(keys) != len(states):
            keys = self._state_keys[entity_id] = [s.timepoint_index for s in states]
        i = bisect.bisect_right(keys, timepoint_index)
        return states[i - 1] if i else None

    def series(self, entity_id: str, upto: int) -> tuple[tuple[float, ...], ...]:
        """Valence, arousal and energy (each scaled to 0..1) across the timepoints so far."""
        states = [s for s in self._states.get(entity_id, []) if s.timepoint_index <= upto]
        valence = tuple((s.valence + 1.0) / 2.0 for s in states)
        arousal = tuple(s.arousal for s in states)
        energy = tuple(s.energy / 100.0 for s in states)
        return valence, arousal, energy

    def present_at(self, timepoint_id: str) -> tuple[str, ...]:
        tp = self.timepoint(timepoint_id)
        return tp.present if tp else ()

    def relations_at(self, entity_id: str, timepoint_index: int) -> list[RelationInfo]:
        latest: dict[str, RelationInfo] = {}
        for rel in self._relations.get(entity_id, []):
            if rel.timepoint_index <= timepoint_index:
                latest[rel.other] = rel
        return sorted(latest.values(), key=lambda r: (-abs(r.trust), r.other))

    def turns_loaded(self, timepoint_id: str) -> bool:
        return self.live or timepoint_id in self._turns

    def turns(self, timepoint_id: str) -> list[TurnInfo]:
        return list(self._turns.get(timepoint_id, []))

    def queries(self, timepoint_id: str | None) -> list[QueryInfo]:
        """The questions put to entities about this moment, in the order they were asked."""
        return list(self._queries.get(timepoint_id or "", []))

    def add_query(self, query: QueryInfo) -> None:
        self._queries.setdefault(query.timepoint_id or "", []).append(query)

    def turn(self, dialog_id: str, turn_index: int) -> TurnInfo | None:
        """One turn of a live run, by its dialog and index."""
        turns, i = self._turn_slot(dialog_id, turn_index)
        return turns[i] if i is not None else None

    def knowledge_loaded(self, entity_id: str) -> bool:
        return self.live or entity_id in self._knowledge

    def knowledge_at(self, entity_id: str, timepoint_index: int) -> list[KnowledgeInfo]:
        return [
            k for k in self._knowledge.get(entity_id, []) if k.timepoint_index <= timepoint_index
        ]

    def scene(self, timepoint_id: str) -> Scene | None:
        """The place and atmosphere of a timepoint's dialog (with ``after`` once it is over)."""
        return self._scenes.get(timepoint_id)

    def inner_at(self, entity_id: str, timepoint_index: int) -> InnerLife | None:
        """The entity's inner life as its latest dialog at or before ``timepoint_index`` left
        it (loaded with its knowledge on replay)."""
        latest = None
        for index, inner in self._inner.get(entity_id, []):
            if index <= timepoint_index:
                latest = inner
        return latest

    @property
    def latest_index(self) -> int:
        return self.timepoints[-1].index if self.timepoints else INITIAL

    # ------------------------------------------------------------------ live: events
    def apply(self, event: ev.EventBase) -> frozenset[str]:
        """Fold one event in; return which parts of the view changed."""
        handler = getattr(self, f"_on_{event.type}", None)  # type: ignore[attr-defined]
        if handler is None:
            return frozenset()
        return handler(event)

    def _run(self, **changes: Any) -> frozenset[str]:
        self.run = replace(self.run, **changes)
        return frozenset({"run"})

    def _on_entity_created(self, e: ev.EntityCreated) -> frozenset[str]:
        p = e.profile
        self.entities[p.entity_id] = EntityInfo(
            p.entity_id,
            p.name,
            p.entity_type,
            p.role,
            p.description,
            p.personality,
            p.archetype,
            p.source,
        )
        self._add_state(p.entity_id, INITIAL, e.resolution.value, e.tensor, e.cognitive, "created")
        return frozenset({"entities"})

    def _add_state(
        self,
        entity_id: str,
        index: int,
        resolution: str,
        tensor: ev.TensorSnapshot,
        cognitive: Any,
        cause: str,
    ) -> None:
        states = self._states.setdefault(entity_id, [])
        self._state_keys.pop(entity_id, None)
        state = StateInfo(
            index,
            resolution,
            tensor.context,
            tensor.biology,
            tensor.behavior,
            cognitive.valence,
            cognitive.arousal,
            cognitive.energy,
            cause,
        )
        if states and states[-1].timepoint_index == index:
            states[-1] = state
        else:
            states.append(state)
            states.sort(key=lambda s: s.timepoint_index)

    def _on_tensor_updated(self, e: ev.TensorUpdated) -> frozenset[str]:
        self._add_state(
            e.entity_id,
            self.index_of(e.timepoint_id),
            e.resolution.value,
            e.tensor,
            e.cognitive,
            e.cause,
        )
        return frozenset({"entities"})

    def _on_entity_elevated(self, e: ev.EntityElevated) -> frozenset[str]:
        index = self.index_of(e.timepoint_id)
        current = self.state_at(e.entity_id, index)
        if current is not None:
            states = self._states[e.entity_id]
            raised = replace(
                current,
                timepoint_index=index,
                resolution=e.resolution.value,
                cause=f"elevated: {e.reason}",
            )
            self._state_keys.pop(e.entity_id, None)
            if states[-1].timepoint_index == index:
                states[-1] = raised
            else:
                states.append(raised)
        return frozenset({"entities"})

    def _on_timepoint_created(self, e: ev.TimepointCreated) -> frozenset[str]:
        tp = e.timepoint
        info = TimepointInfo(
            tp.timepoint_id,
            tp.branch_id,
            tp.index,
            tp.timestamp,
            tp.title,
            tp.event_description,
            tp.entities_present,
            tp.importance,
            tp.tension,
            "running",
            e.issues,
            tp.causal_parent,
        )
        self._tp_index[tp.timepoint_id] = len(self.timepoints)
        self.timepoints.append(info)
        self._turns.setdefault(tp.timepoint_id, [])
        return frozenset({"timeline"})

    def _on_timepoint_completed(self, e: ev.TimepointCompleted) -> frozenset[str]:
        i = self._tp_index.get(e.timepoint_id)
        if i is not None:
            self.timepoints[i] = replace(self.timepoints[i], status=e.status.value, issues=e.issues)
        return frozenset({"timeline", "run"}) | self._run(timepoints=self.run.timepoints + 1)

    def _on_timepoint_failed(self, e: ev.TimepointFailed) -> frozenset[str]:
        if e.timepoint_id and e.timepoint_id in self._tp_index:
            i = self._tp_index[e.timepoint_id]
            self.timepoints[i] = replace(self.timepoints[i], status="failed", issues=(e.error,))
        return frozenset({"timeline"}) | self._run(failed_steps=self.run.failed_steps + 1)

    def _on_dialog_started(self, e: ev.DialogStarted) -> frozenset[str]:
        self._dialog_tp[e.dialog_id] = e.timepoint_id
        return frozenset()

    def _turn_slot(self, dialog_id: str, turn_index: int) -> tuple[list[TurnInfo], int | None]:
        turns = self._turns.setdefault(self._dialog_tp.get(dialog_id, ""), [])
        for i, t in enumerate(turns):
            if t.dialog_id == dialog_id and t.turn_index == turn_index:
                return turns, i
        return turns, None

    def _on_dialog_turn_started(self, e: ev.DialogTurnStarted) -> frozenset[str]:
        turns, i = self._turn_slot(e.dialog_id, e.turn_index)
        turn = TurnInfo(
            e.dialog_id,
            e.turn_index,
            self._dialog_tp.get(e.dialog_id, ""),
            e.speaker,
            "",
            addressed_to=e.addressed_to,
            streaming=True,
        )
        if i is None:
            turns.append(turn)
        else:
            turns[i] = turn
        return frozenset({"turns"})

    def _on_dialog_tokens(self, e: ev.DialogTokens) -> frozenset[str]:
        turns, i = self._turn_slot(e.dialog_id, e.turn_index)
        if i is not None:
            turns[i] = replace(turns[i], content=turns[i].content + e.text)
        return frozenset({"turns"})

    def _on_dialog_stream_reset(self, e: ev.DialogStreamReset) -> frozenset[str]:
        """A retried call: what was streamed for the turn so far is void."""
        turns, i = self._turn_slot(e.dialog_id, e.turn_index)
        if i is not None:
            turns[i] = replace(turns[i], content="")
        return frozenset({"turns"})

    def _on_dialog_turn_finished(self, e: ev.DialogTurnFinished) -> frozenset[str]:
        t = e.turn
        turns, i = self._turn_slot(t.dialog_id, t.turn_index)
        info = TurnInfo(
            t.dialog_id,
            t.turn_index,
            self._dialog_tp.get(t.dialog_id, ""),
            t.speaker,
            t.content,
            t.emotional_tone,
            t.stance,
            t.knowledge_references,
            t.addressed_to,
            t.status.value,
            t.issues,
        )
        if i is None:
            turns.append(info)
        else:
            turns[i] = info
        return frozenset({"turns"}) | self._run(dialog_turns=self.run.dialog_turns + 1)

    def _on_dialog_turn_failed(self, e: ev.DialogTurnFailed) -> frozenset[str]:
        turns, i = self._turn_slot(e.dialog_id, e.turn_index)
        failed = TurnInfo(
            e.dialog_id,
            e.turn_index,
            self._dialog_tp.get(e.dialog_id, ""),
            e.speaker,
            "",
            status="failed",
            issues=(e.error,),
        )
        if i is None:
            turns.append(failed)
        else:
            turns[i] = failed
        return frozenset({"turns"}) | self._run(failed_steps=self.run.failed_steps + 1)

    def _on_exposure_recorded(self, e: ev.ExposureRecorded) -> frozenset[str]:
        x = e.exposure
        self._knowledge.setdefault(x.entity_id, []).append(
            KnowledgeInfo(
                x.information,
                x.kind.value,
                x.source,
                x.timepoint_id,
                self.index_of(x.timepoint_id),
                x.confidence,
                x.category,
                e.seq,
            )
        )
        return frozenset({"knowledge"}) | self._run(exposure_events=self.run.exposure_events + 1)

    def _on_relationship_updated(self, e: ev.RelationshipUpdated) -> frozenset[str]:
        r = e.relationship
        index = self.index_of(e.timepoint_id)
        for me, other in ((r.a, r.b), (r.b, r.a)):
            self._relations.setdefault(me, []).append(
                RelationInfo(
                    other, r.trust, r.alignment, r.interaction_count, r.shared_knowledge, index
                )
            )
        return frozenset({"relations"})

    def _on_scene_read(self, e: ev.SceneRead) -> frozenset[str]:
        self._scenes[e.timepoint_id] = e.scene
        return frozenset({"scene"})

    def _on_atmosphere_shifted(self, e: ev.AtmosphereShifted) -> frozenset[str]:
        scene = self._scenes.get(e.timepoint_id)
        if scene is not None:
            self._scenes[e.timepoint_id] = scene.model_copy(update={"after": e.atmosphere})
        return frozenset({"scene"})

    def _on_inner_life_updated(self, e: ev.InnerLifeUpdated) -> frozenset[str]:
        self._inner.setdefault(e.entity_id, []).append((self.index_of(e.timepoint_id), e.inner))
        return frozenset({"knowledge"})

    def _on_mechanism_failed(self, e: ev.MechanismFailed) -> frozenset[str]:
        return self._run(failed_steps=self.run.failed_steps + 1)

    def _on_llm_call_finished(self, e: ev.LLMCallFinished) -> frozenset[str]:
        return self._run(
            llm_calls=self.run.llm_calls + 1,
            prompt_tokens=self.run.prompt_tokens + e.prompt_tokens,
            completion_tokens=self.run.completion_tokens + e.completion_tokens,
            cost_usd=self.run.cost_usd + e.cost_usd,
        )

    def _on_run_finished(self, e: ev.RunFinished) -> frozenset[str]:
        return self._run(status=e.status.value, reason=e.reason, wall_seconds=e.wall_seconds)

    @classmethod
    def starting(cls, e: ev.RunStarted) -> RunView:
        """An empty live view for a run that has just started."""
        return cls(
            run=RunInfo(
                e.run_id,
                e.scenario,
                e.title,
                e.mode.value,
                e.seed,
                e.provider,
                e.model,
                "running",
                None,
                e.planned_timepoints,
                e.started_at,
                warnings=e.warnings,
            ),
            live=True,
        )

    # ------------------------------------------------------------------ replay: the store
    @classmethod
    async def load(cls, store: Store, run_id: str) -> RunView:
        """Everything needed to show any moment of a stored run, but the dialog and knowledge,
        which :meth:`load_turns` and :meth:`load_knowledge` fetch when they are looked at."""
        summary = await store.get_run(run_id)
        run_id = summary.run_id
        warnings = await store.run_warnings(run_id)
        c = summary.counts
        view = cls(
            run=RunInfo(
                run_id,
                summary.scenario,
                summary.title,
                summary.mode.value,
                summary.seed,
                summary.provider,
                summary.model,
                summary.status.value,
                summary.status_reason,
                summary.planned_timepoints,
                summary.started_at,
                summary.wall_seconds,
                c.timepoints,
                c.dialog_turns,
                c.exposure_events,
                c.llm_calls,
                c.failed_steps,
                summary.tokens_in,
                summary.tokens_out,
                summary.cost_usd,
                tuple(warnings),
            ),
            _store=store,
        )
        for row in await store.rows(
            "SELECT entity_id, profile_json FROM entities WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        ):
            p = json.loads(row["profile_json"])
            view.entities[row["entity_id"]] = EntityInfo(
                p["entity_id"],
                p["name"],
                p["entity_type"],
                p["role"],
                p["description"],
                tuple(p["personality"]),
                p["archetype"],
                p["source"],
            )
        for row in await store.rows(
            "SELECT * FROM timepoints WHERE run_id = ? ORDER BY branch_id, idx", (run_id,)
        ):
            view._tp_index[row["timepoint_id"]] = len(view.timepoints)
            view.timepoints.append(
                TimepointInfo(
                    row["timepoint_id"],
                    row["branch_id"],
                    row["idx"],
                    datetime.fromisoformat(row["timestamp"]),
                    row["title"],
                    row["event_description"],
                    tuple(json.loads(row["entities_present_json"])),
                    row["importance"],
                    row["tension"],
                    row["status"],
                    tuple(json.loads(row["issues_json"])),
                    row["causal_parent"],
                )
            )
        for row in await store.rows(
            "SELECT entity_id, timepoint_id, resolution, context_json, biology_json, "
            "behavior_json, cognitive_json, cause FROM entity_states WHERE run_id = ? "
            "ORDER BY seq",
            (run_id,),
        ):
            cog = json.loads(row["cognitive_json"])
            view._states.setdefault(row["entity_id"], []).append(
                StateInfo(
                    view.index_of(row["timepoint_id"]),
                    row["resolution"],
                    tuple(json.loads(row["context_json"])),
                    tuple(json.loads(row["biology_json"])),
                    tuple(json.loads(row["behavior_json"])),
                    cog["valence"],
                    cog["arousal"],
                    cog["energy"],
                    row["cause"],
                )
            )
        for states in view._states.values():
            states.sort(key=lambda s: s.timepoint_index)
        for row in await store.rows(
            "SELECT a, b, timepoint_id, trust, alignment, shared_json, interaction_count "
            "FROM relationships WHERE run_id = ? ORDER BY seq",
            (run_id,),
        ):
            index = view.index_of(row["timepoint_id"])
            shared = tuple(json.loads(row["shared_json"]))
            for me, other in ((row["a"], row["b"]), (row["b"], row["a"])):
                view._relations.setdefault(me, []).append(
                    RelationInfo(
                        other,
                        row["trust"],
                        row["alignment"],
                        row["interaction_count"],
                        shared,
                        index,
                    )
                )
        return view

    async def load_turns(self, timepoint_ids: list[str]) -> None:
        """Fetch the dialog of these timepoints from the store (replay only)."""
        missing = [t for t in timepoint_ids if t not in self._turns]
        if not missing or self._store is None:
            return
        marks = ",".join("?" * len(missing))
        rows = await self._store.rows(
            "SELECT * FROM dialog_turns WHERE run_id = ? AND timepoint_id IN "
            f"({marks}) ORDER BY seq",
            (self.run.run_id, *missing),
        )
        for tp in missing:
            self._turns[tp] = []
        for row in await self._store.rows(
            "SELECT timepoint_id, scene_json, after_json FROM scenes WHERE run_id = ? AND "
            f"timepoint_id IN ({marks})",
            (self.run.run_id, *missing),
        ):
            scene = Scene.model_validate_json(row["scene_json"])
            if row["after_json"]:
                after = Atmosphere.model_validate_json(row["after_json"])
                scene = scene.model_copy(update={"after": after})
            self._scenes[row["timepoint_id"]] = scene
        for row in await self._store.rows(
            "SELECT * FROM queries WHERE run_id = ? AND timepoint_id IN "
            f"({marks}) ORDER BY asked_at, query_id",
            (self.run.run_id, *missing),
        ):
            self.add_query(
                QueryInfo(
                    row["query_id"],
                    row["entity_id"],
                    row["timepoint_id"],
                    row["question"],
                    row["answer"],
                    tuple(json.loads(row["knowledge_refs_json"])),
                    row["status"],
                )
            )
        for row in rows:
            self._turns[row["timepoint_id"]].append(
                TurnInfo(
                    row["dialog_id"],
                    row["turn_index"],
                    row["timepoint_id"],
                    row["speaker"],
                    row["content"],
                    row["emotional_tone"],
                    row["stance"],
                    tuple(json.loads(row["knowledge_refs_json"])),
                    row["addressed_to"],
                    row["status"],
                    tuple(json.loads(row["issues_json"])),
                )
            )

    async def load_knowledge(self, entity_id: str) -> None:
        """Fetch one entity's exposure events from the store (replay only)."""
        if entity_id in self._knowledge or self._store is None:
            return
        rows = await self._store.rows(
            "SELECT information, kind, source, timepoint_id, confidence, category, seq FROM "
            "exposure_events WHERE run_id = ? AND entity_id = ? ORDER BY seq",
            (self.run.run_id, entity_id),
        )
        self._knowledge[entity_id] = [
            KnowledgeInfo(
                r["information"],
                r["kind"],
                r["source"],
                r["timepoint_id"],
                self.index_of(r["timepoint_id"]),
                r["confidence"],
                r["category"],
                r["seq"],
            )
            for r in rows
        ]
        inner = [
            (self.index_of(r["timepoint_id"]), InnerLife.model_validate_json(r["inner_json"]))
            for r in await self._store.rows(
                "SELECT timepoint_id, inner_json FROM inner_lives WHERE run_id = ? AND "
                "entity_id = ? ORDER BY seq",
                (self.run.run_id, entity_id),
            )
        ]
        self._inner[entity_id] = sorted(inner, key=lambda item: item[0])
