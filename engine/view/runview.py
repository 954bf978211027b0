"""The read model of one run: what every pane of the explorer shows, at any moment.

It is fed in one of two ways and answers the same questions either way:

- live: :meth:`RunView.apply` folds each engine event into it as the run happens (streamed
  dialog chunks included); every event type has a rule here or is named in
  :data:`RunView.IGNORED`, and a test checks that none is forgotten;
- stored: :meth:`RunView.from_snapshot` starts from what the store's readers return, and the
  dialog and knowledge are added when they are looked at (:meth:`add_moments`,
  :meth:`add_entity_records`), so that opening a very long run stays fast.

"At a moment" always means by causal ancestry (M7): what an entity knew at timepoint ``M`` is
what reached it at ``M`` or at one of ``M``'s ancestors, so a branch never sees what happened on
a sibling. Counts come from the one run fold, :class:`~engine.view.tally.RunTally`.
Everything handed out is immutable plain data, safe to put in UI messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ..knowledge.causal import CausalGraph
from ..model import events as ev
from ..model.inner import InnerLife
from ..model.records import (
    EntityInfo,
    EntityRecords,
    InnerInfo,
    KnowledgeInfo,
    MomentRecords,
    QueryInfo,
    RelationInfo,
    RunSnapshot,
    SceneInfo,
    StateInfo,
    TimepointInfo,
    TurnInfo,
)
from ..model.run import RunSummary
from ..model.scene import Scene
from .info import RunInfo, run_info
from .tally import RunTally

Changes = frozenset[str]
_NONE: Changes = frozenset()


@dataclass
class RunView:
    run: RunInfo
    entities: dict[str, EntityInfo] = field(default_factory=dict)
    timepoints: list[TimepointInfo] = field(default_factory=list)
    live: bool = False
    tally: RunTally = field(default_factory=RunTally)
    graph: CausalGraph = field(default_factory=CausalGraph)
    _tp_index: dict[str, int] = field(default_factory=dict)
    _states: dict[str, list[StateInfo]] = field(default_factory=dict)
    _turns: dict[str, list[TurnInfo]] = field(default_factory=dict)
    _knowledge: dict[str, list[KnowledgeInfo]] = field(default_factory=dict)
    _relations: dict[str, list[RelationInfo]] = field(default_factory=dict)
    _queries: dict[str, list[QueryInfo]] = field(default_factory=dict)
    _dialog_tp: dict[str, str] = field(default_factory=dict)
    _scenes: dict[str, SceneInfo] = field(default_factory=dict)
    _inner: dict[str, list[InnerInfo]] = field(default_factory=dict)

    # ------------------------------------------------------------------ moments
    def timepoint(self, timepoint_id: str | None) -> TimepointInfo | None:
        i = self._tp_index.get(timepoint_id or "")
        return self.timepoints[i] if i is not None else None

    def lineage(self, at: str | None) -> frozenset[str]:
        """The timepoints whose information reaches ``at``: itself and its causal ancestors."""
        return self.graph.lineage(at)

    def visible(self, timepoint_id: str | None, at: str | None) -> bool:
        return self.graph.can_know(timepoint_id, at)

    def present_at(self, timepoint_id: str) -> tuple[str, ...]:
        tp = self.timepoint(timepoint_id)
        return tp.present if tp else ()

    @property
    def latest(self) -> TimepointInfo | None:
        return self.timepoints[-1] if self.timepoints else None

    # ------------------------------------------------------------------ entities at a moment
    def _reaching(self, items: Iterable[Any], at: str | None) -> list[Any]:
        """The items (in the order they happened) whose timepoint reaches ``at``."""
        lineage = self.lineage(at)
        return [x for x in items if not x.timepoint_id or x.timepoint_id in lineage]

    def state_at(self, entity_id: str, at: str | None) -> StateInfo | None:
        """The entity's state as it stood at the end of ``at`` (None: before the first)."""
        states = self._reaching(self._states.get(entity_id, ()), at)
        return states[-1] if states else None

    def series(self, entity_id: str, at: str | None) -> tuple[tuple[float, ...], ...]:
        """Valence, arousal and energy (each scaled to 0..1) along the way to ``at``."""
        states = self._reaching(self._states.get(entity_id, ()), at)
        valence = tuple((s.valence + 1.0) / 2.0 for s in states)
        arousal = tuple(s.arousal for s in states)
        energy = tuple(s.energy / 100.0 for s in states)
        return valence, arousal, energy

    def relations_at(self, entity_id: str, at: str | None) -> list[tuple[str, RelationInfo]]:
        """``(other, relationship)`` as each stood at ``at``, the strongest feelings first."""
        latest: dict[str, RelationInfo] = {}
        for rel in self._reaching(self._relations.get(entity_id, ()), at):
            latest[rel.other(entity_id)] = rel
        return sorted(latest.items(), key=lambda item: (-abs(item[1].trust), item[0]))

    def knowledge_loaded(self, entity_id: str) -> bool:
        return self.live or entity_id in self._knowledge

    def knowledge_at(self, entity_id: str, at: str | None) -> list[KnowledgeInfo]:
        return self._reaching(self._knowledge.get(entity_id, ()), at)

    def inner_at(self, entity_id: str, at: str | None) -> InnerLife | None:
        """The inner life the entity's latest dialog reaching ``at`` left it with."""
        found = self._reaching(self._inner.get(entity_id, ()), at)
        return found[-1].inner if found else None

    # ------------------------------------------------------------------ dialog and questions
    def turns_loaded(self, timepoint_id: str) -> bool:
        return self.live or timepoint_id in self._turns

    def turns(self, timepoint_id: str) -> list[TurnInfo]:
        return list(self._turns.get(timepoint_id, []))

    def turn(self, dialog_id: str, turn_index: int) -> TurnInfo | None:
        turns, i = self._turn_slot(dialog_id, turn_index)
        return turns[i] if i is not None else None

    def scene(self, timepoint_id: str) -> Scene | None:
        """The place and atmosphere of a timepoint's dialog (with ``after`` once it is over)."""
        found = self._scenes.get(timepoint_id)
        return found.scene if found else None

    def queries(self, timepoint_id: str | None) -> list[QueryInfo]:
        """The questions put to entities about this moment, in the order they were asked."""
        return list(self._queries.get(timepoint_id or "", []))

    # ------------------------------------------------------------------ building
    @classmethod
    def starting(cls, e: ev.RunStarted) -> RunView:
        """An empty live view for a run that has just started."""
        return cls(run=run_info(e), live=True)

    @classmethod
    def from_snapshot(cls, summary: RunSummary, snapshot: RunSnapshot) -> RunView:
        view = cls(run=RunInfo.of(summary, snapshot.warnings))
        for entity in snapshot.entities:
            view.entities[entity.entity_id] = entity
        for tp in snapshot.timepoints:
            view._add_timepoint(tp)
        for state in snapshot.states:
            view._states.setdefault(state.entity_id, []).append(state)
        for rel in snapshot.relations:
            view._add_relation(rel)
        return view

    def add_moments(self, timepoint_ids: Iterable[str], records: MomentRecords) -> None:
        """The dialog, scenes and questions of these timepoints, read from the store."""
        for tp in timepoint_ids:
            self._turns[tp] = []
        for turn in records.turns:
            self._turns.setdefault(turn.timepoint_id, []).append(turn)
        for scene in records.scenes:
            self._scenes[scene.timepoint_id] = scene
        for query in records.queries:
            self.add_query(query)

    def add_entity_records(self, entity_id: str, records: EntityRecords) -> None:
        """One entity's exposures and inner lives, read from the store."""
        self._knowledge[entity_id] = list(records.knowledge)
        self._inner[entity_id] = list(records.inner)

    def add_query(self, query: QueryInfo) -> None:
        queries = self._queries.setdefault(query.timepoint_id or "", [])
        if all(q.query_id != query.query_id for q in queries):
            queries.append(query)

    def _add_timepoint(self, tp: TimepointInfo) -> None:
        i = self._tp_index.get(tp.timepoint_id)
        if i is not None:
            self.timepoints[i] = tp
            return
        self._tp_index[tp.timepoint_id] = len(self.timepoints)
        self.timepoints.append(tp)
        if tp.timepoint_id not in self.graph:
            self.graph.add(tp.timepoint_id, tp.parent if tp.parent in self.graph else None)

    def _add_relation(self, rel: RelationInfo) -> None:
        for me in (rel.a, rel.b):
            self._relations.setdefault(me, []).append(rel)

    # ------------------------------------------------------------------ live: events
    def apply(self, event: ev.EventBase) -> Changes:
        """Fold one event in; return which parts of the view changed."""
        counted = self.tally.add(event)
        rule = _RULES.get(type(event))
        if rule is None and type(event) not in self.IGNORED:
            raise TypeError(f"the run view has no rule for {type(event).__name__}")
        changed = rule(self, event) if rule is not None else _NONE
        if counted:
            self.run = replace(self.run, **self.tally.as_dict())
            changed = changed | {"run"}
        return changed

    def _state(
        self,
        entity_id: str,
        tensor: ev.TensorSnapshot,
        cognitive: Any,
        at: tuple[str, str, str, int],
    ) -> None:
        timepoint_id, resolution, cause, seq = at
        self._put_state(
            StateInfo(
                entity_id,
                timepoint_id,
                resolution,
                tensor.context,
                tensor.biology,
                tensor.behavior,
                cognitive.valence,
                cognitive.arousal,
                cognitive.energy,
                cause,
                seq,
                cognitive,
            )
        )

    def _put_state(self, state: StateInfo) -> None:
        """One state per entity and timepoint, as the store keeps it: the latest wins."""
        states = self._states.setdefault(state.entity_id, [])
        if states and states[-1].timepoint_id == state.timepoint_id:
            states[-1] = state
        else:
            states.append(state)

    def _on_entity_created(self, e: ev.EntityCreated) -> Changes:
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
        self._state(p.entity_id, e.tensor, e.cognitive, ("", e.resolution.value, "created", e.seq))
        return frozenset({"entities"})

    def _on_tensor_updated(self, e: ev.TensorUpdated) -> Changes:
        at = (e.timepoint_id, e.resolution.value, e.cause, e.seq)
        self._state(e.entity_id, e.tensor, e.cognitive, at)
        return frozenset({"entities"})

    def _on_entity_elevated(self, e: ev.EntityElevated) -> Changes:
        current = self.state_at(e.entity_id, e.timepoint_id)
        if current is not None:
            raised = replace(
                current,
                timepoint_id=e.timepoint_id or "",
                resolution=e.resolution.value,
                cause=f"elevated: {e.reason}",
                seq=e.seq,
            )
            self._put_state(raised)
        return frozenset({"entities"})

    def _on_timepoint_created(self, e: ev.TimepointCreated) -> Changes:
        tp = e.timepoint
        self._add_timepoint(
            TimepointInfo(
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
                e.seq,
            )
        )
        self._turns.setdefault(tp.timepoint_id, [])
        return frozenset({"timeline"})

    def _set_status(self, timepoint_id: str | None, status: str, issues: tuple[str, ...]) -> None:
        i = self._tp_index.get(timepoint_id or "")
        if i is not None:
            self.timepoints[i] = replace(self.timepoints[i], status=status, issues=issues)

    def _on_timepoint_completed(self, e: ev.TimepointCompleted) -> Changes:
        self._set_status(e.timepoint_id, e.status.value, e.issues)
        return frozenset({"timeline"})

    def _on_timepoint_failed(self, e: ev.TimepointFailed) -> Changes:
        self._set_status(e.timepoint_id, "failed", (e.error,))
        return frozenset({"timeline"})

    def _on_dialog_started(self, e: ev.DialogStarted) -> Changes:
        self._dialog_tp[e.dialog_id] = e.timepoint_id
        return _NONE

    def _turn_slot(self, dialog_id: str, turn_index: int) -> tuple[list[TurnInfo], int | None]:
        turns = self._turns.setdefault(self._dialog_tp.get(dialog_id, ""), [])
        for i, t in enumerate(turns):
            if t.dialog_id == dialog_id and t.turn_index == turn_index:
                return turns, i
        return turns, None

    def _put_turn(self, turn: TurnInfo) -> Changes:
        turns, i = self._turn_slot(turn.dialog_id, turn.turn_index)
        if i is None:
            turns.append(turn)
        else:
            turns[i] = turn
        return frozenset({"turns"})

    def _on_dialog_turn_started(self, e: ev.DialogTurnStarted) -> Changes:
        tp = self._dialog_tp.get(e.dialog_id, "")
        return self._put_turn(
            TurnInfo(
                e.dialog_id,
                e.turn_index,
                tp,
                e.speaker,
                "",
                addressed_to=e.addressed_to,
                streaming=True,
                seq=e.seq,
            )
        )

    def _edit_turn(self, dialog_id: str, turn_index: int, edit: Callable[[TurnInfo], Any]) -> None:
        turns, i = self._turn_slot(dialog_id, turn_index)
        if i is not None:
            turns[i] = edit(turns[i])

    def _on_dialog_tokens(self, e: ev.DialogTokens) -> Changes:
        self._edit_turn(e.dialog_id, e.turn_index, lambda t: replace(t, content=t.content + e.text))
        return frozenset({"turns"})

    def _on_dialog_stream_reset(self, e: ev.DialogStreamReset) -> Changes:
        """A retried call: what was streamed for the turn so far is void."""
        self._edit_turn(e.dialog_id, e.turn_index, lambda t: replace(t, content=""))
        return frozenset({"turns"})

    def _on_dialog_turn_finished(self, e: ev.DialogTurnFinished) -> Changes:
        t = e.turn
        return self._put_turn(
            TurnInfo(
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
                seq=e.seq,
            )
        )

    def _on_dialog_turn_failed(self, e: ev.DialogTurnFailed) -> Changes:
        tp = self._dialog_tp.get(e.dialog_id, "")
        failed = TurnInfo(
            e.dialog_id, e.turn_index, tp, e.speaker, "", status="failed", issues=(e.error,)
        )
        return self._put_turn(replace(failed, seq=e.seq))

    def _on_exposure_recorded(self, e: ev.ExposureRecorded) -> Changes:
        x = e.exposure
        self._knowledge.setdefault(x.entity_id, []).append(
            KnowledgeInfo(
                x.entity_id,
                x.information,
                x.kind.value,
                x.source,
                x.timepoint_id,
                x.confidence,
                x.category,
                e.seq,
                x.exposure_id,
            )
        )
        return frozenset({"knowledge"})

    def _on_relationship_updated(self, e: ev.RelationshipUpdated) -> Changes:
        r = e.relationship
        self._add_relation(
            RelationInfo(
                r.a,
                r.b,
                e.timepoint_id,
                r.trust,
                r.alignment,
                r.interaction_count,
                r.shared_knowledge,
                e.seq,
            )
        )
        return frozenset({"relations"})

    def _on_scene_read(self, e: ev.SceneRead) -> Changes:
        self._scenes[e.timepoint_id] = SceneInfo(e.timepoint_id, e.scene, e.seq)
        return frozenset({"scene"})

    def _on_atmosphere_shifted(self, e: ev.AtmosphereShifted) -> Changes:
        found = self._scenes.get(e.timepoint_id)
        if found is not None:
            scene = found.scene.model_copy(update={"after": e.atmosphere})
            self._scenes[e.timepoint_id] = replace(found, scene=scene)
        return frozenset({"scene"})

    def _on_inner_life_updated(self, e: ev.InnerLifeUpdated) -> Changes:
        info = InnerInfo(e.entity_id, e.timepoint_id, e.inner, e.seq)
        self._inner.setdefault(e.entity_id, []).append(info)
        return frozenset({"knowledge"})

    def _on_query_answered(self, e: ev.QueryAnswered) -> Changes:
        self.add_query(
            QueryInfo(
                e.query_id,
                e.entity_id,
                e.timepoint_id,
                e.question,
                e.answer,
                e.knowledge_references,
                e.status.value,
                e.seq,
            )
        )
        return frozenset({"queries"})

    def _on_run_finished(self, e: ev.RunFinished) -> Changes:
        self.run = replace(
            self.run, status=e.status.value, reason=e.reason, wall_seconds=e.wall_seconds
        )
        return frozenset({"run"})

    def _on_run_resumed(self, e: ev.RunResumed) -> Changes:
        self.run = replace(self.run, status="running", reason=None)
        return frozenset({"run"})

    def _on_events_discarded(self, e: ev.EventsDiscarded) -> Changes:
        """Take out what a failed or cut-short timepoint added: it was never stored. Its
        timepoint stays in the timeline, marked failed by the event that says why."""
        gone = {x.seq for x in e.events}
        for table in (self._states, self._knowledge, self._relations, self._inner):
            for key, items in table.items():
                table[key] = [x for x in items if x.seq not in gone]
        for tp, turns in self._turns.items():
            self._turns[tp] = [
                replace(t, status="discarded", streaming=False) if t.seq in gone else t
                for t in turns
            ]
        for tp, scene in list(self._scenes.items()):
            if scene.seq in gone:
                del self._scenes[tp]
        return frozenset({"turns", "knowledge", "entities", "relations", "scene"})

    IGNORED: frozenset[type] = frozenset(
        {
            ev.RunStarted,  # a live view is made from it (RunView.starting)
            ev.DialogSkipped,
            ev.DialogFinished,
            ev.ValidationReported,
            ev.KnowledgeExtractionFailed,  # counted by the tally; nothing to draw
            ev.MechanismFailed,  # counted by the tally; the timepoint says degraded
            ev.LLMCallFinished,  # counted by the tally
            ev.BudgetWarning,  # shown by the screen as a notification
            ev.BranchCreated,  # a branch's timepoints arrive as TimepointCreated
        }
    )


_RULES: dict[type, Callable[[RunView, Any], Changes]] = {
    ev.EntityCreated: RunView._on_entity_created,
    ev.TensorUpdated: RunView._on_tensor_updated,
    ev.EntityElevated: RunView._on_entity_elevated,
    ev.TimepointCreated: RunView._on_timepoint_created,
    ev.TimepointCompleted: RunView._on_timepoint_completed,
    ev.TimepointFailed: RunView._on_timepoint_failed,
    ev.DialogStarted: RunView._on_dialog_started,
    ev.DialogTurnStarted: RunView._on_dialog_turn_started,
    ev.DialogTokens: RunView._on_dialog_tokens,
    ev.DialogStreamReset: RunView._on_dialog_stream_reset,
    ev.DialogTurnFinished: RunView._on_dialog_turn_finished,
    ev.DialogTurnFailed: RunView._on_dialog_turn_failed,
    ev.ExposureRecorded: RunView._on_exposure_recorded,
    ev.RelationshipUpdated: RunView._on_relationship_updated,
    ev.SceneRead: RunView._on_scene_read,
    ev.AtmosphereShifted: RunView._on_atmosphere_shifted,
    ev.InnerLifeUpdated: RunView._on_inner_life_updated,
    ev.RunFinished: RunView._on_run_finished,
    ev.RunResumed: RunView._on_run_resumed,
    ev.EventsDiscarded: RunView._on_events_discarded,
    ev.QueryAnswered: RunView._on_query_answered,
}
HANDLED: frozenset[type] = frozenset(_RULES)
