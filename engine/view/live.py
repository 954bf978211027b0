"""The live half of the read model: how each engine event changes a :class:`RunView`.

:class:`LiveFold` is the base class of :class:`~engine.view.runview.RunView` and holds what
changes its tables: the writes that the stored view's loading shares (a timepoint, a
relationship, a question, a state, a turn) and one rule per event type. Every event type has a
rule in :data:`HANDLED` or is named in :attr:`LiveFold.IGNORED`; one with neither is an error,
and a test checks that none is forgotten. Counts are not kept here but by the one run fold,
:class:`~engine.view.tally.RunTally`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from ..knowledge.causal import CausalGraph
from ..model import events as ev
from ..model.portal_events import PORTAL_EVENTS
from ..model.records import (
    BranchInfo,
    EntityInfo,
    InnerInfo,
    KnowledgeInfo,
    LookupInfo,
    QueryInfo,
    RelationInfo,
    SceneInfo,
    StateInfo,
    TimepointInfo,
    TurnInfo,
)
from .fidelity import FidelityFold
from .info import RunInfo
from .portal import PortalView
from .tally import RunTally

Changes = frozenset[str]
_NONE: Changes = frozenset()


class LiveFold(FidelityFold):
    """The tables of a run view and the rules that fold events into them (the fields are
    declared by :class:`~engine.view.runview.RunView`, a dataclass)."""

    run: RunInfo
    entities: dict[str, EntityInfo]
    timepoints: list[TimepointInfo]
    tally: RunTally
    graph: CausalGraph
    branches: dict[str, BranchInfo]
    _tp_index: dict[str, int]
    _states: dict[str, list[StateInfo]]
    _turns: dict[str, list[TurnInfo]]
    _knowledge: dict[str, list[KnowledgeInfo]]
    _relations: dict[str, list[RelationInfo]]
    _queries: dict[str, list[QueryInfo]]
    _lookups: list[LookupInfo]
    _dialog_tp: dict[str, str]
    _scenes: dict[str, SceneInfo]
    _inner: dict[str, list[InnerInfo]]
    portal: PortalView

    state_at: Callable[[str, str | None], StateInfo | None]  # RunView's reader

    # ------------------------------------------------------------------ the tables
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

    def _put_state(self, state: StateInfo) -> None:
        """One state per entity and timepoint, as the store keeps it: the latest wins."""
        states = self._states.setdefault(state.entity_id, [])
        if states and states[-1].timepoint_id == state.timepoint_id:
            states[-1] = state
        else:
            states.append(state)

    def _turn_slot(self, dialog_id: str, turn_index: int) -> tuple[list[TurnInfo], int | None]:
        turns = self._turns.setdefault(self._dialog_tp.get(dialog_id, ""), [])
        for i, t in enumerate(turns):
            if t.dialog_id == dialog_id and t.turn_index == turn_index:
                return turns, i
        return turns, None

    # ------------------------------------------------------------------ folding an event
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
        self._created_on_demand(e)
        return frozenset({"entities", "fidelity"} if e.query_id else {"entities"})

    def _on_tensor_updated(self, e: ev.TensorUpdated) -> Changes:
        at = (e.timepoint_id, e.resolution.value, e.cause, e.seq)
        self._state(e.entity_id, e.tensor, e.cognitive, at)
        return frozenset({"entities"})

    def _on_elevated(self, e: ev.EntityElevated) -> Changes:
        self._on_entity_elevated(e)
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
        return frozenset({"entities", "fidelity"})

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

    def _on_record_looked_up(self, e: ev.RecordLookedUp) -> Changes:
        info = LookupInfo(
            e.query_id,
            e.kind,
            e.text,
            e.entity_id,
            e.timepoint_id,
            e.branch_id,
            e.found,
            e.summary,
            e.seq,
        )
        if all(x.query_id != e.query_id for x in self._lookups):
            self._lookups.append(info)
        return frozenset({"queries"})

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

    def _on_branch_created(self, e: ev.BranchCreated) -> Changes:
        self.branches[e.branch_id] = BranchInfo(
            e.branch_id,
            e.parent_branch_id,
            e.fork_timepoint_id,
            e.label,
            dict(e.intervention),
            "running",
        )
        return frozenset({"branches"})

    def _on_branch_finished(self, e: ev.BranchFinished) -> Changes:
        known = self.branches.get(e.branch_id)
        if known is not None:
            self.branches[e.branch_id] = replace(
                known, status=e.status.value, status_reason=e.reason, wall_seconds=e.wall_seconds
            )
        return frozenset({"branches"})

    def _on_branch_scored(self, e: ev.BranchScored) -> Changes:
        known = self.branches.get(e.branch_id)
        if known is not None:
            self.branches[e.branch_id] = replace(
                known,
                score=e.score,
                scoring={"components": e.components, "weights": e.weights, "missing": e.missing},
            )
        return frozenset({"branches"})

    def _on_portal(self, e: ev.EventBase) -> Changes:
        self.portal.apply(e)
        return frozenset({"portal"})

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

    IGNORED: ClassVar[frozenset[type]] = frozenset(
        {
            ev.RunStarted,  # a live view is made from it (RunView.starting)
            ev.DialogSkipped,
            ev.DialogFinished,
            ev.ValidationReported,
            ev.KnowledgeExtractionFailed,  # counted by the tally; nothing to draw
            ev.MechanismFailed,  # counted by the tally; the timepoint says degraded
            ev.BudgetWarning,  # shown by the screen as a notification
            ev.QueriesApplied,  # the queries it names are drawn where they were asked
        }
    )


_RULES: dict[type, Callable[[Any, Any], Changes]] = {
    ev.EntityCreated: LiveFold._on_entity_created,
    ev.TensorUpdated: LiveFold._on_tensor_updated,
    ev.EntityElevated: LiveFold._on_elevated,
    ev.FidelityPlanned: LiveFold._on_fidelity_planned,
    ev.EntityCompressed: LiveFold._on_entity_compressed,
    ev.LLMCallFinished: LiveFold._on_llm_call,
    ev.TimepointCreated: LiveFold._on_timepoint_created,
    ev.TimepointCompleted: LiveFold._on_timepoint_completed,
    ev.TimepointFailed: LiveFold._on_timepoint_failed,
    ev.DialogStarted: LiveFold._on_dialog_started,
    ev.DialogTurnStarted: LiveFold._on_dialog_turn_started,
    ev.DialogTokens: LiveFold._on_dialog_tokens,
    ev.DialogStreamReset: LiveFold._on_dialog_stream_reset,
    ev.DialogTurnFinished: LiveFold._on_dialog_turn_finished,
    ev.DialogTurnFailed: LiveFold._on_dialog_turn_failed,
    ev.ExposureRecorded: LiveFold._on_exposure_recorded,
    ev.RelationshipUpdated: LiveFold._on_relationship_updated,
    ev.SceneRead: LiveFold._on_scene_read,
    ev.AtmosphereShifted: LiveFold._on_atmosphere_shifted,
    ev.InnerLifeUpdated: LiveFold._on_inner_life_updated,
    ev.RunFinished: LiveFold._on_run_finished,
    ev.RunResumed: LiveFold._on_run_resumed,
    ev.EventsDiscarded: LiveFold._on_events_discarded,
    ev.QueryAnswered: LiveFold._on_query_answered,
    ev.RecordLookedUp: LiveFold._on_record_looked_up,
    ev.BranchCreated: LiveFold._on_branch_created,
    ev.BranchFinished: LiveFold._on_branch_finished,
    ev.BranchScored: LiveFold._on_branch_scored,
    **dict.fromkeys(PORTAL_EVENTS, LiveFold._on_portal),
}
HANDLED: frozenset[type] = frozenset(_RULES)
