"""The World: the state of one branch of a run, and the only fold of events into that state.

A World holds what the simulation knows on one branch: its entities (profile, tensors,
resolution), the exposure ledger (who knows what, and from whom), relationships, the branch's
chain of timepoints and their causal graph, the scenes' atmosphere, inner lives and the last
lines spoken. It changes only by :meth:`World.apply`, which the recorder calls for every event
it emits on the branch; so the World a live run holds and the one :meth:`World.replay` rebuilds
from the stored log are the same by construction. That is what makes resume exact and a fork's
prefix free: :meth:`World.fork` is the replay of the shared prefix under a new branch id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ..knowledge.causal import CausalGraph
from ..knowledge.exposure import KnowledgeLedger
from ..model import events as ev
from ..model.common import MAIN_BRANCH, ResolutionLevel
from ..model.dialog import DialogTurn
from ..model.entity import Entity
from ..model.inner import InnerLife
from ..model.intervention import Intervention
from ..model.portal_events import PORTAL_EVENTS
from ..model.relationship import Relationship, pair_key
from ..model.scene import Atmosphere
from ..model.timepoint import Timepoint
from ..scenario.schema import Scenario
from .attention import Attention

PRIOR_BEATS = 8  # the last lines spoken that a speaker is reminded of
_ATTEMPT = re.compile(r"^(?P<tp>[^/#~]+)(?:~(?P<n>\d+))?/")


@dataclass
class World:
    scenario: Scenario
    branch_id: str = MAIN_BRANCH
    entities: dict[str, Entity] = field(default_factory=dict)
    ledger: KnowledgeLedger = field(default_factory=KnowledgeLedger)
    relations: dict[tuple[str, str], Relationship] = field(default_factory=dict)
    notes: dict[tuple[str, str], str] = field(default_factory=dict)
    timepoints: list[Timepoint] = field(default_factory=list)
    graph: CausalGraph = field(default_factory=CausalGraph)
    prior_beats: list[str] = field(default_factory=list)
    inner: dict[str, InnerLife] = field(default_factory=dict)
    atmosphere: Atmosphere | None = None  # the room as the last dialog left it
    completed: int = 0  # timepoints completed on this branch's chain
    sim_time: datetime | None = None
    stale: bool = False  # events applied to it were discarded: rebuild before going on
    absent: set[str] = field(default_factory=set)  # removed from the branch by an intervention
    injected: list[str] = field(default_factory=list)  # events injected, for the next timepoint
    interventions: list[Intervention] = field(default_factory=list)  # on this branch's lineage
    attention: Attention = field(default_factory=Attention)  # who was looked at, and asked
    observed_seqs: set[int] = field(default_factory=set)  # observer events folded in, once each
    _exposures: int = 0
    _attempts: dict[str, int] = field(default_factory=dict)
    _dialogs: dict[str, list[DialogTurn]] = field(default_factory=dict)

    @classmethod
    def new(cls, scenario: Scenario, branch_id: str = MAIN_BRANCH) -> World:
        world = cls(scenario=scenario, branch_id=branch_id, sim_time=scenario.timeline.start)
        for spec in scenario.relationships:
            if spec.note:
                world.notes[pair_key(*spec.between)] = spec.note
        return world

    # ------------------------------------------------------------------ ids
    def _prefix(self) -> str:
        return "" if self.branch_id == MAIN_BRANCH else f"{self.branch_id}."

    def timepoint_id(self, index: int) -> str:
        """Timepoint ids are unique within a run across branches: ``tp03`` on the main branch,
        ``b1.tp03`` on branch ``b1``."""
        width = max(2, len(str(self.scenario.timeline.count)))
        return f"{self._prefix()}tp{index + 1:0{width}d}"

    def next_exposure_id(self) -> str:
        """The id of the next exposure this branch records. Taken only for an exposure the
        ledger accepts, so that ids never depend on what was offered and turned down."""
        return f"{self._prefix()}x{self._exposures + 1:06d}"

    def call_scope(self, timepoint_id: str) -> str:
        """What a timepoint's call keys start with: its id, and ``~N`` for its N-th attempt
        (after a failure or a stop), so that no two attempts share a call id."""
        attempt = self._attempts.get(timepoint_id, 0) + 1
        return timepoint_id if attempt == 1 else f"{timepoint_id}~{attempt}"

    # ------------------------------------------------------------------ reading
    @property
    def last(self) -> Timepoint | None:
        return self.timepoints[-1] if self.timepoints else None

    def active(self) -> list[Entity]:
        """The entities that can take part on this branch (not removed by an intervention)."""
        return [e for e in self.entities.values() if e.entity_id not in self.absent]

    def relation(self, a: str, b: str) -> Relationship:
        key = pair_key(a, b)
        return self.relations.get(key) or Relationship(a=key[0], b=key[1])

    # ------------------------------------------------------------------ the fold
    def apply(self, event: ev.EventBase) -> None:
        """Fold one persisted event of this branch into the World. An observer's event is
        folded once: a World rebuilt from the log may already hold one a live run applies from its held queries."""
        if is_observer(event):
            if event.seq in self.observed_seqs:
                return
            self.observed_seqs.add(event.seq)
        rule = _RULES.get(type(event))
        if rule is not None:
            rule(self, event)
        elif type(event) not in IGNORED:
            raise TypeError(f"the world has no rule for {type(event).__name__}")

    def _entity_created(self, e: ev.EntityCreated) -> None:
        p = e.profile
        self.entities[p.entity_id] = Entity(
            entity_id=p.entity_id,
            profile=p,
            tensor=e.tensor.to_tensor(),
            cognitive=e.cognitive,
            resolution=e.resolution,
        )

    def _level(self, entity_id: str, level: ResolutionLevel) -> None:
        entity = self.entities.get(entity_id)
        if entity is not None and entity.resolution != level:
            self.entities[entity_id] = entity.model_copy(update={"resolution": level})

    def _elevated(self, e: ev.EntityElevated) -> None:
        last = self.last.timepoint_id if self.last else None
        if e.query_id is None or e.timepoint_id == last:  # an earlier moment's stays there
            self._level(e.entity_id, e.resolution)
        if e.query_id is not None:
            self.attention.elevated(e.entity_id, e.resolution, self._index(e.timepoint_id))

    def _planned(self, e: ev.FidelityPlanned) -> None:
        for entity_id, level in e.levels.items():
            self._level(entity_id, level)

    def _compressed(self, e: ev.EntityCompressed) -> None:
        self._level(e.entity_id, e.resolution)

    def _asked(self, e: ev.QueryAnswered) -> None:
        self.attention.asked(e.entity_id, self._index(e.timepoint_id))

    def _index(self, timepoint_id: str | None) -> int:
        """The position of a timepoint of this branch's chain (-1: before the first)."""
        for tp in reversed(self.timepoints):
            if tp.timepoint_id == timepoint_id:
                return tp.index
        return -1

    def _tensor(self, e: ev.TensorUpdated) -> None:
        entity = self.entities[e.entity_id]
        self.entities[e.entity_id] = entity.model_copy(
            update={
                "tensor": e.tensor.to_tensor(),
                "cognitive": e.cognitive,
                "resolution": e.resolution,
            }
        )

    def _exposure(self, e: ev.ExposureRecorded) -> None:
        self.ledger.record(e.exposure)
        number = e.exposure.exposure_id.rsplit("x", 1)[-1]
        if number.isdigit():
            self._exposures = max(self._exposures, int(number))

    def _relationship(self, e: ev.RelationshipUpdated) -> None:
        rel = e.relationship
        self.relations[(rel.a, rel.b)] = rel

    def _timepoint_created(self, e: ev.TimepointCreated) -> None:
        tp = e.timepoint
        self.timepoints.append(tp)
        self.injected = []  # an injected event is the first timepoint after the fork
        if tp.timepoint_id not in self.graph:
            parent = tp.causal_parent if tp.causal_parent in self.graph else None
            self.graph.add(tp.timepoint_id, parent)
        self.sim_time = tp.timestamp
        self.attention.seen(tp.entities_present, tp.index)

    def _timepoint_completed(self, e: ev.TimepointCompleted) -> None:
        self.completed += 1

    def _turn_finished(self, e: ev.DialogTurnFinished) -> None:
        self._dialogs.setdefault(e.turn.dialog_id, []).append(e.turn)

    def _dialog_finished(self, e: ev.DialogFinished) -> None:
        for turn in self._dialogs.pop(e.dialog_id, []):
            name = self.entities[turn.speaker].name
            self.prior_beats.append(f"{name}: {turn.content.split('. ')[0][:120]}")
        self.prior_beats = self.prior_beats[-PRIOR_BEATS:]

    def _atmosphere(self, e: ev.AtmosphereShifted) -> None:
        self.atmosphere = e.atmosphere

    def _inner(self, e: ev.InnerLifeUpdated) -> None:
        self.inner[e.entity_id] = e.inner

    def _call(self, e: ev.LLMCallFinished) -> None:
        found = _ATTEMPT.match(e.call_id)
        if found is not None:
            tp, n = found.group("tp"), int(found.group("n") or 1)
            self._attempts[tp] = max(self._attempts.get(tp, 0), n)

    def _branch_created(self, e: ev.BranchCreated) -> None:
        """A fork on this branch's lineage: its intervention holds from here on (M12). A told
        item arrives as its own exposure event."""
        if not e.intervention:
            return
        change = Intervention.model_validate(e.intervention)
        self.interventions.append(change)
        if change.kind == "remove" and change.entity:
            self.absent.add(change.entity)
        elif change.kind == "withhold" and change.entity and change.information:
            self.ledger.withhold(change.entity, change.information)
        elif change.kind == "inject" and change.event:
            self.injected.append(change.event)

    def _discarded(self, e: ev.EventsDiscarded) -> None:
        self.stale = True

    # ------------------------------------------------------------------ rebuilding
    @classmethod
    def replay(
        cls, scenario: Scenario, events: Iterable[ev.EventBase], branch_id: str = MAIN_BRANCH
    ) -> World:
        """The World of ``branch_id`` after these events (a run's stored log, in order). The
        events of the branches it descends from count up to the points it forked at."""
        events = list(events)
        world = cls.new(scenario, branch_id)
        for event in lineage_events(events, branch_id):
            if event.PERSIST:
                world.apply(event)
        return world

    @classmethod
    def fork(
        cls, scenario: Scenario, events: Iterable[ev.EventBase], at: str, branch_id: str
    ) -> World:
        """The World a new branch starts from: the parent branch's as it stood once
        timepoint ``at`` was complete. Nothing is copied or re-run; the prefix is replayed."""
        events = list(events)
        home = next(
            (
                e.branch_id
                for e in events
                if isinstance(e, ev.TimepointCreated) and e.timepoint.timepoint_id == at
            ),
            None,
        )
        if home is None:
            raise KeyError(f"no timepoint {at!r} in the run")
        cut = next(
            (
                e.seq
                for e in events
                if isinstance(e, ev.TimepointCompleted) and e.timepoint_id == at
            ),
            None,
        )
        if cut is None:
            raise ValueError(f"timepoint {at!r} never completed; a branch cannot start there")
        world = cls.new(scenario, branch_id)
        for event in lineage_events(events, home):
            if event.PERSIST and event.seq <= cut:
                world.apply(event)
        moments = world.graph.lineage(at)
        for event in events:  # what observers did later about moments the branch starts from
            if event.seq > cut and observed(event, moments, world.entities):
                world.apply(event)
        world.stale = False
        return world


def branch_of(timepoint_id: str | None) -> str:
    """The branch a timepoint id belongs to (``b1.tp03`` → ``b1``; ``tp03`` → main)."""
    if not timepoint_id or "." not in timepoint_id:
        return MAIN_BRANCH
    return timepoint_id.rsplit(".", 1)[0]


def lineage_events(events: list[ev.EventBase], branch_id: str) -> list[ev.EventBase]:
    """The events that make up ``branch_id``'s history: its own, and those of each branch it
    descends from up to the completion of the timepoint the child forked at (the parent may
    have gone on for many timepoints before the branch was made)."""
    completed = {e.timepoint_id: e.seq for e in events if isinstance(e, ev.TimepointCompleted)}
    parents = {
        e.branch_id: (e.parent_branch_id, completed.get(e.fork_timepoint_id or "", e.seq))
        for e in events
        if isinstance(e, ev.BranchCreated)
    }
    limits: dict[str, int] = {branch_id: 1 << 62}
    current = branch_id
    while current in parents:
        parent, seq = parents[current]
        limits[parent] = seq
        current = parent
    kept = [e for e in events if e.branch_id in limits and e.seq <= limits[e.branch_id]]
    if len(limits) == 1:
        return kept
    moments = {e.timepoint.timepoint_id for e in kept if isinstance(e, ev.TimepointCreated)}
    known = {e.profile.entity_id for e in kept if isinstance(e, ev.EntityCreated)}
    later = []
    for e in events:
        if e.seq > limits.get(e.branch_id, -1) and observed(e, moments, known):
            later.append(e)
            if isinstance(e, ev.EntityCreated):
                known.add(e.profile.entity_id)
    return sorted(kept + later, key=lambda e: e.seq)


_OBSERVER_EXPOSURE = re.compile(r"(?:^|\.)q\d+-[xc]\d+$")


def is_observer(event: ev.EventBase) -> bool:
    """Whether ``event`` is an observer's doing: a query's answer, an elevation or a creation
    a query caused, or what those brought (an exposure numbered after its query)."""
    if isinstance(event, ev.QueryAnswered):
        return True
    if isinstance(event, ev.EntityElevated | ev.EntityCreated):
        return bool(event.query_id)
    if isinstance(event, ev.ExposureRecorded):
        return bool(_OBSERVER_EXPOSURE.search(event.exposure.exposure_id))
    return False


def observed(event: ev.EventBase, moments: Iterable[str], known: Iterable[str]) -> bool:
    """Whether ``event`` is an observer's doing (a query, its elevation, an entity it created,
    what they brought to one of the ``known`` entities) about one of ``moments``: a branch
    that descends from those moments inherits it, even when recorded after its fork point."""
    if not is_observer(event):
        return False
    at: str | None
    if isinstance(event, ev.ExposureRecorded):
        if event.exposure.entity_id not in set(known):
            return False
        at = event.exposure.timepoint_id
    else:
        at = getattr(event, "timepoint_id", None)
    return at is None or at in set(moments)


_RULES = {
    ev.EntityCreated: World._entity_created,
    ev.EntityElevated: World._elevated,
    ev.FidelityPlanned: World._planned,
    ev.EntityCompressed: World._compressed,
    ev.QueryAnswered: World._asked,
    ev.TensorUpdated: World._tensor,
    ev.ExposureRecorded: World._exposure,
    ev.RelationshipUpdated: World._relationship,
    ev.TimepointCreated: World._timepoint_created,
    ev.TimepointCompleted: World._timepoint_completed,
    ev.DialogTurnFinished: World._turn_finished,
    ev.DialogFinished: World._dialog_finished,
    ev.AtmosphereShifted: World._atmosphere,
    ev.InnerLifeUpdated: World._inner,
    ev.LLMCallFinished: World._call,
    ev.EventsDiscarded: World._discarded,
    ev.BranchCreated: World._branch_created,
}

IGNORED: frozenset[type] = frozenset(
    {
        ev.RunStarted,
        ev.RunResumed,
        ev.DialogStarted,
        ev.DialogSkipped,
        ev.DialogTurnStarted,
        ev.DialogTokens,
        ev.DialogStreamReset,
        ev.DialogTurnFailed,
        ev.ValidationReported,
        ev.KnowledgeExtractionFailed,
        ev.SceneRead,  # the room as the dialog opens; the world keeps how it ended
        ev.MechanismFailed,
        ev.BudgetWarning,
        ev.TimepointFailed,
        ev.BranchFinished,
        ev.BranchScored,
        ev.RecordLookedUp,  # an observer read the record; nothing in the World changed
        ev.QueriesApplied,  # a marker: the observer events it names were applied before it
        ev.RunFinished,
        *PORTAL_EVENTS,  # the search's record; a path's World is made by its own timepoints
    }
)
HANDLED: frozenset[type] = frozenset(_RULES)
