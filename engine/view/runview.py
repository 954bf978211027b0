"""The read model of one run: what every pane of the explorer shows, at any moment.

It is fed in one of two ways and answers the same questions either way:

- live: :meth:`RunView.apply` folds each engine event into it as the run happens (streamed
  dialog chunks included); the rules are its base class, :class:`~engine.view.live.LiveFold`,
  where every event type has a rule or is named in :attr:`RunView.IGNORED`;
- stored: :meth:`RunView.from_snapshot` starts from what the store's readers return, and the
  dialog and knowledge are added when they are looked at (:meth:`add_moments`,
  :meth:`add_entity_records`), so that opening a very long run stays fast.

"At a moment" always means by causal ancestry (M7): what an entity knew at timepoint ``M`` is
what reached it at ``M`` or at one of ``M``'s ancestors, so a branch never sees what happened on
a sibling. Counts come from the one run fold, :class:`~engine.view.tally.RunTally`.
Everything handed out is immutable plain data, safe to put in UI messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..knowledge.causal import CausalGraph
from ..model import events as ev
from ..model.inner import InnerLife
from ..model.records import (
    BranchInfo,
    EntityInfo,
    EntityRecords,
    InnerInfo,
    KnowledgeInfo,
    LevelInfo,
    LookupInfo,
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
from .fidelity import ObserverAction
from .info import RunInfo, run_info
from .live import HANDLED, Changes, LiveFold
from .portal import PortalView
from .reach import Reach, Tree
from .tally import RunTally

__all__ = ["HANDLED", "Changes", "RunView"]

_NOTHING: tuple[Any, ...] = ()


@dataclass
class RunView(LiveFold):
    run: RunInfo
    entities: dict[str, EntityInfo] = field(default_factory=dict)
    timepoints: list[TimepointInfo] = field(default_factory=list)
    live: bool = False
    tally: RunTally = field(default_factory=RunTally)
    graph: CausalGraph = field(default_factory=CausalGraph)
    branches: dict[str, BranchInfo] = field(default_factory=dict)  # forks, by branch id
    _tp_index: dict[str, int] = field(default_factory=dict)
    _levels: dict[str, list[LevelInfo]] = field(default_factory=dict)
    _cell_tokens: dict[tuple[str, str], int] = field(default_factory=dict)
    _observer: list[ObserverAction] = field(default_factory=list)
    _states: dict[str, list[StateInfo]] = field(default_factory=dict)
    _turns: dict[str, list[TurnInfo]] = field(default_factory=dict)
    _knowledge: dict[str, list[KnowledgeInfo]] = field(default_factory=dict)
    _relations: dict[str, list[RelationInfo]] = field(default_factory=dict)
    _queries: dict[str, list[QueryInfo]] = field(default_factory=dict)
    _lookups: list[LookupInfo] = field(default_factory=list)
    _dialog_tp: dict[str, str] = field(default_factory=dict)
    _scenes: dict[str, SceneInfo] = field(default_factory=dict)
    _inner: dict[str, list[InnerInfo]] = field(default_factory=dict)
    portal: PortalView = field(default_factory=PortalView)  # a PORTAL run's search and paths
    # the causal forest and per (kind, entity) indexes of what reaches each moment (.reach)
    _tree: tuple[Any, int, Tree | None] | None = field(default=None, repr=False)
    _reach: dict[tuple[str, str], Reach] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ moments
    def chain(self, timepoint_id: str | None) -> list[TimepointInfo]:
        """The line of moments through ``timepoint_id``: what led to it (on every branch it
        descends from) and what followed on its own branch. Without one, the main branch."""
        found = self.timepoint(timepoint_id)
        if found is None:
            return [t for t in self.timepoints if t.branch_id == "main"]
        before = self.graph.lineage(found.timepoint_id)
        return [
            t
            for t in self.timepoints
            if t.timepoint_id in before
            or (t.branch_id == found.branch_id and t.index > found.index)
        ]

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
    def forest(self) -> Tree | None:
        """The causal graph as a numbered forest (None when a moment has two parents)."""
        graph, known = self.graph, self._tree
        if known is None or known[0] is not graph or known[1] != graph.version:
            known = self._tree = (graph, graph.version, Tree.of(graph))
        return known[2]

    def _index(self, kind: str, table: dict[str, list[Any]], entity_id: str) -> Reach | None:
        tree = self.forest()
        if tree is None:
            return None
        items = table.get(entity_id, _NOTHING)  # one empty value: its index is kept too
        found = self._reach.get((kind, entity_id))
        if found is None or not found.indexes(items, tree):
            found = self._reach[(kind, entity_id)] = Reach(items, tree)
        return found

    def _reaching(self, items: Iterable[Any], at: str | None) -> list[Any]:
        """The items (in the order they happened) whose timepoint reaches ``at``."""
        tree = self.forest()
        if tree is not None:
            return [x for x in items if tree.reaches(x.timepoint_id, at)]
        lineage = self.lineage(at)
        return [x for x in items if not x.timepoint_id or x.timepoint_id in lineage]

    def ancestry(self, at: str, limit: int) -> tuple[int, list[TimepointInfo]]:
        """How many moments led to ``at`` by causal ancestry, and the last ``limit`` of them,
        oldest first."""
        tree = self.forest()
        if tree is not None and at in tree:
            ids = tree.ancestors(at, limit)
            return tree.depth[at], [t for t in map(self.timepoint, ids) if t is not None]
        found = self.timepoint(at)
        before = [
            t
            for t in self.chain(at)
            if t.timepoint_id != at and found is not None and t.index < found.index
        ]
        before = [t for t in before if self.visible(t.timepoint_id, at)]
        return len(before), before[-limit:] if limit else []

    def state_at(self, entity_id: str, at: str | None) -> StateInfo | None:
        """The entity's state as it stood at the end of ``at`` (None: before the first)."""
        index = self._index("state", self._states, entity_id)
        if index is not None:
            return index.latest(at)
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
        index = self._index("relation", self._relations, entity_id)
        if index is not None:
            latest = index.latest_by(at, lambda rel: rel.other(entity_id))
        else:
            latest = {}
            for rel in self._reaching(self._relations.get(entity_id, ()), at):
                latest[rel.other(entity_id)] = rel
        return sorted(latest.items(), key=lambda item: (-abs(item[1].trust), item[0]))

    def knowledge_loaded(self, entity_id: str) -> bool:
        return self.live or entity_id in self._knowledge

    def all_knowledge(self, entity_id: str) -> list[KnowledgeInfo]:
        """Everything the entity was exposed to, on every branch and at every moment."""
        return list(self._knowledge.get(entity_id, ()))

    def knowledge_at(self, entity_id: str, at: str | None) -> list[KnowledgeInfo]:
        return self._reaching(self._knowledge.get(entity_id, ()), at)

    def recent_knowledge(self, entity_id: str, at: str | None, n: int) -> list[KnowledgeInfo]:
        """The last ``n`` items of what the entity knew at ``at``, in the order they came."""
        index = self._index("knowledge", self._knowledge, entity_id)
        if index is not None:
            return index.last(at, n)
        return self.knowledge_at(entity_id, at)[-n:] if n else []

    def knowledge_item(self, entity_id: str, at: str | None, ref: str) -> KnowledgeInfo | None:
        """The latest item the entity knew at ``at`` whose text or exposure id is ``ref``."""
        index = self._index("knowledge", self._knowledge, entity_id)
        if index is not None:
            return index.find(at, ref, lambda k: (k.information, k.exposure_id))
        for k in reversed(self.knowledge_at(entity_id, at)):
            if ref in (k.information, k.exposure_id):
                return k
        return None

    def knowledge_during(self, entity_id: str, timepoint_id: str) -> list[KnowledgeInfo]:
        """What the entity was exposed to at ``timepoint_id`` itself."""
        index = self._index("knowledge", self._knowledge, entity_id)
        if index is not None:
            return index.during(timepoint_id)
        return [k for k in self._knowledge.get(entity_id, ()) if k.timepoint_id == timepoint_id]

    def inner_at(self, entity_id: str, at: str | None) -> InnerLife | None:
        """The inner life the entity's latest dialog reaching ``at`` left it with."""
        index = self._index("inner", self._inner, entity_id)
        if index is not None:
            found = index.latest(at)
            return found.inner if found else None
        items = self._reaching(self._inner.get(entity_id, ()), at)
        return items[-1].inner if items else None

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

    def queries_of(self, entity_id: str) -> list[QueryInfo]:
        """Every question put to an entity, at any moment."""
        return sorted(
            (q for qs in self._queries.values() for q in qs if q.entity_id == entity_id),
            key=lambda q: q.seq,
        )

    def queries(self, timepoint_id: str | None) -> list[QueryInfo]:
        """The questions put to entities about this moment, in the order they were asked."""
        return list(self._queries.get(timepoint_id or "", []))

    def lookups(self) -> list[LookupInfo]:
        """What observers looked up in the record (/who-knows, /why), in the order they did."""
        return list(self._lookups)

    def observer_ids(self) -> set[str]:
        """Every query id an observer action of this run carries (questions, elevations,
        creations, lookups): the next action takes a number none of them has."""
        ids = {q.query_id for qs in self._queries.values() for q in qs}
        ids.update(a.query_id for a in self.observer_actions() if a.query_id)
        ids.update(x.query_id for x in self._lookups)
        return ids

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
        for branch in snapshot.branches:
            view.branches[branch.branch_id] = branch
        view.add_levels(snapshot.levels, snapshot.cell_tokens)
        view._lookups.extend(snapshot.lookups)
        if snapshot.portal_events:  # the same fold as the live view's
            view.portal = PortalView.of(snapshot.portal_events)
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
