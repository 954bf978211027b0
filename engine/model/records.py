"""Records: what the store's readers return and the read model keeps, one per stored row.

Plain frozen dataclasses of immutable values (tuples of floats, strings, frozen models), safe to
put in UI messages. The live view builds the same records from events, so a screen cannot tell
a run watched live from one reopened from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .event_base import EventBase
from .inner import InnerLife
from .scene import Scene
from .tensors import CognitiveState


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
    seq: int = 0


@dataclass(frozen=True, slots=True)
class StateInfo:
    """An entity's tensors and mood as a timepoint left them (``timepoint_id`` "" before the
    first timepoint)."""

    entity_id: str
    timepoint_id: str
    resolution: str
    context: tuple[float, ...]
    biology: tuple[float, ...]
    behavior: tuple[float, ...]
    valence: float
    arousal: float
    energy: float
    cause: str
    seq: int = 0
    cognitive: CognitiveState | None = None


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
    seq: int = 0


@dataclass(frozen=True, slots=True)
class KnowledgeInfo:
    """One exposure event: how an entity came to hold one piece of information (M3)."""

    entity_id: str
    information: str
    kind: str
    source: str | None
    timepoint_id: str | None
    confidence: float
    category: str
    seq: int
    exposure_id: str = ""


@dataclass(frozen=True, slots=True)
class RelationInfo:
    """A relationship between ``a`` and ``b`` as a timepoint left it."""

    a: str
    b: str
    timepoint_id: str
    trust: float
    alignment: float
    interaction_count: int
    shared: tuple[str, ...]
    seq: int = 0

    def other(self, entity_id: str) -> str:
        return self.b if entity_id == self.a else self.a


@dataclass(frozen=True, slots=True)
class InnerInfo:
    entity_id: str
    timepoint_id: str
    inner: InnerLife
    seq: int = 0


@dataclass(frozen=True, slots=True)
class SceneInfo:
    timepoint_id: str
    scene: Scene
    seq: int = 0


@dataclass(frozen=True, slots=True)
class QueryInfo:
    query_id: str
    entity_id: str
    timepoint_id: str | None
    question: str
    answer: str
    references: tuple[str, ...]
    status: str
    seq: int = 0


@dataclass(frozen=True, slots=True)
class LookupInfo:
    """An observer's look at the record (``/who-knows``, ``/why``): part of the ledger."""

    query_id: str
    kind: str  # who_knows | why
    text: str
    entity_id: str | None
    timepoint_id: str | None
    branch_id: str
    found: tuple[str, ...]
    summary: str
    seq: int = 0


@dataclass(frozen=True, slots=True)
class BranchInfo:
    branch_id: str
    parent_branch_id: str | None
    fork_timepoint_id: str | None
    label: str = ""
    intervention: dict[str, object] = field(default_factory=dict)
    status: str = "completed"  # a fork's outcome; the main branch's is the run's
    status_reason: str | None = None
    wall_seconds: float | None = None
    score: float | None = None  # how the branch came out (BranchScored); None: not scored
    scoring: dict[str, object] = field(default_factory=dict)  # components, weights, missing


@dataclass(frozen=True, slots=True)
class LevelInfo:
    """An entity's level from one moment on (M1): set by the fidelity plan (``cause`` "plan"),
    raised by a query ("query", with its id) or compressed after disuse ("compressed")."""

    entity_id: str
    timepoint_id: str  # "" before the first timepoint
    level: str
    reason: str
    cause: str
    query_id: str | None
    seq: int


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """Everything needed to show any moment of a stored run, read in one transaction, but
    the dialog and the knowledge, which are read when they are looked at."""

    entities: tuple[EntityInfo, ...]
    timepoints: tuple[TimepointInfo, ...]
    states: tuple[StateInfo, ...]
    relations: tuple[RelationInfo, ...]
    branches: tuple[BranchInfo, ...]
    warnings: tuple[str, ...]
    levels: tuple[LevelInfo, ...] = ()
    cell_tokens: tuple[tuple[str, str, int], ...] = ()  # (entity, timepoint, tokens spent)
    portal_events: tuple[EventBase, ...] = ()  # a PORTAL run's search, folded by the view
    lookups: tuple[LookupInfo, ...] = ()  # what observers looked up (/who-knows, /why)


@dataclass(frozen=True, slots=True)
class MomentRecords:
    """The dialog, scenes and questions of some timepoints."""

    turns: tuple[TurnInfo, ...]
    scenes: tuple[SceneInfo, ...]
    queries: tuple[QueryInfo, ...]


@dataclass(frozen=True, slots=True)
class EntityRecords:
    """What one entity was exposed to and its inner lives, over the whole run."""

    knowledge: tuple[KnowledgeInfo, ...]
    inner: tuple[InnerInfo, ...]


@dataclass(frozen=True, slots=True)
class CallModel:
    """How many calls of one action for one entity one model answered at one timepoint (``""``
    for none), and how many succeeded: what an export's licences rest on."""

    timepoint_id: str
    entity_id: str
    action: str
    provider: str
    model: str
    calls: int
    ok: int
