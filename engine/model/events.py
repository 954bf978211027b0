"""The event log: every change to a run is one immutable, typed event.

Events carry plain data (tuples, frozen models), never numpy arrays or live objects, so that
subscribers (the store, the TUI bridge, the headless printer, tests) can keep them as they are.

``seq`` increases monotonically within a run. Events marked ``PERSIST = False`` (streamed
dialog chunks) are delivered to subscribers but not stored; they repeat the ``seq`` of the event
that precedes them. Fields named in ``WALL_FIELDS`` hold wall-clock measurements and fields named
in ``EXECUTION_FIELDS`` describe how this execution obtained its answers (from the cassette or
from a provider, what it spent); everything else is a deterministic function of the scenario,
the seed and the provider's answers, so a replay from a cassette reproduces it exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, TypeAdapter

from .common import ResolutionLevel, RunStatus, StepStatus, TemporalMode
from .dialog import DialogTurn, PersonaParams
from .entity import EntityProfile
from .event_base import ErrorText, EventBase, TensorSnapshot
from .fidelity_events import EntityCompressed, EntityElevated, FidelityPlanned
from .inner import InnerLife
from .knowledge import ExposureEvent
from .observer_events import (
    BranchCreated,
    BranchFinished,
    BranchScored,
    QueriesApplied,
    QueryAnswered,
    RecordLookedUp,
)
from .portal_events import (
    PortalAnalysed,
    PortalBeamKept,
    PortalCandidateProposed,
    PortalCandidateScored,
    PortalPathJudged,
    PortalPathsKept,
    PortalSearchStarted,
    PortalStepFailed,
)
from .relationship import Relationship
from .run import RunCounts
from .scene import Atmosphere, Scene
from .tensors import CognitiveState
from .timepoint import Timepoint


class RunStarted(EventBase):
    type: Literal["run_started"] = "run_started"
    WALL_FIELDS: ClassVar[frozenset[str]] = frozenset({"started_at"})

    scenario: str
    title: str = ""
    mode: TemporalMode
    seed: int
    config_hash: str
    provider: str
    model: str
    source: str
    scenario_data: dict[str, Any]
    planned_timepoints: int
    warnings: tuple[str, ...] = ()
    started_at: datetime
    # The budget the run started with ({"tokens", "usd", "mode", "warn_fraction"}) or None.
    budget: dict[str, Any] | None = None
    # How models were chosen (see engine.llm.registry.Router.describe); empty for offline runs.
    routing: dict[str, Any] = Field(default_factory=dict)


class RunResumed(EventBase):
    """A stopped, failed or interrupted run continues from its last committed timepoint."""

    type: Literal["run_resumed"] = "run_resumed"
    WALL_FIELDS: ClassVar[frozenset[str]] = frozenset({"resumed_at"})

    from_index: int
    provider: str
    model: str
    budget: dict[str, Any] | None = None
    resumed_at: datetime


class EntityCreated(EventBase):
    type: Literal["entity_created"] = "entity_created"

    profile: EntityProfile
    resolution: ResolutionLevel
    tensor: TensorSnapshot
    cognitive: CognitiveState
    query_id: str | None = None  # created on demand by this query (M9), not by the scenario
    timepoint_id: str | None = None  # where a query created it


class ExposureRecorded(EventBase):
    type: Literal["exposure_recorded"] = "exposure_recorded"

    exposure: ExposureEvent


class TimepointCreated(EventBase):
    type: Literal["timepoint_created"] = "timepoint_created"

    timepoint: Timepoint
    status: StepStatus = StepStatus.OK
    issues: tuple[str, ...] = ()


class DialogStarted(EventBase):
    type: Literal["dialog_started"] = "dialog_started"

    dialog_id: str
    timepoint_id: str
    participants: tuple[str, ...]
    planned_turns: int


class DialogSkipped(EventBase):
    type: Literal["dialog_skipped"] = "dialog_skipped"

    timepoint_id: str
    reason: ErrorText


class DialogTurnStarted(EventBase):
    type: Literal["dialog_turn_started"] = "dialog_turn_started"

    dialog_id: str
    turn_index: int
    speaker: str
    addressed_to: str | None = None
    persona: PersonaParams


class DialogTokens(EventBase):
    """A streamed piece of a turn's text. Delivered live, never stored."""

    type: Literal["dialog_tokens"] = "dialog_tokens"
    PERSIST: ClassVar[bool] = False

    dialog_id: str
    turn_index: int
    text: str


class DialogStreamReset(EventBase):
    """The text streamed so far for a turn is void (the attempt failed and is being retried,
    or the accepted answer differs from what was shown); chunks that follow start over.
    Delivered live, never stored."""

    type: Literal["dialog_stream_reset"] = "dialog_stream_reset"
    PERSIST: ClassVar[bool] = False

    dialog_id: str
    turn_index: int


class DialogTurnFinished(EventBase):
    type: Literal["dialog_turn_finished"] = "dialog_turn_finished"

    turn: DialogTurn


class DialogTurnFailed(EventBase):
    type: Literal["dialog_turn_failed"] = "dialog_turn_failed"

    dialog_id: str
    turn_index: int
    speaker: str
    error: ErrorText


class DialogFinished(EventBase):
    type: Literal["dialog_finished"] = "dialog_finished"

    dialog_id: str
    timepoint_id: str
    turn_count: int
    failed_turns: int
    status: StepStatus


class ValidationReported(EventBase):
    """The outcome of one validator (M4) over one turn or one entity."""

    type: Literal["validation_reported"] = "validation_reported"

    validator: str
    entity_id: str
    timepoint_id: str | None
    dialog_id: str | None = None
    turn_index: int | None = None
    valid: bool
    violations: tuple[str, ...] = ()
    action: str = ""


class KnowledgeExtractionFailed(EventBase):
    type: Literal["knowledge_extraction_failed"] = "knowledge_extraction_failed"

    dialog_id: str
    turn_index: int
    error: ErrorText


class SceneRead(EventBase):
    """The place and the room's atmosphere as a timepoint's dialog opens (M10)."""

    type: Literal["scene_read"] = "scene_read"

    timepoint_id: str
    scene: Scene


class AtmosphereShifted(EventBase):
    """The room's atmosphere after what was said in the timepoint's dialog (M10)."""

    type: Literal["atmosphere_shifted"] = "atmosphere_shifted"

    timepoint_id: str
    atmosphere: Atmosphere


class InnerLifeUpdated(EventBase):
    """One character's memory, concerns and expectations after a dialog (M15)."""

    type: Literal["inner_life_updated"] = "inner_life_updated"

    entity_id: str
    timepoint_id: str
    inner: InnerLife


class MechanismFailed(EventBase):
    """A call that enriches a timepoint (the scene, a character's inner life) failed; the
    timepoint goes on without it and is marked degraded."""

    type: Literal["mechanism_failed"] = "mechanism_failed"

    mechanism: Literal["scene", "inner_life"]
    timepoint_id: str
    entity_id: str | None = None
    error: ErrorText


class TensorUpdated(EventBase):
    type: Literal["tensor_updated"] = "tensor_updated"

    entity_id: str
    timepoint_id: str
    resolution: ResolutionLevel
    tensor: TensorSnapshot
    cognitive: CognitiveState
    cause: str


class RelationshipUpdated(EventBase):
    type: Literal["relationship_updated"] = "relationship_updated"

    timepoint_id: str
    relationship: Relationship


class LLMCallFinished(EventBase):
    """One attempt at one call. ``cached`` attempts were answered from the cassette: they cost
    nothing now, and ``cost_usd`` and the tokens are those of the recorded answer."""

    type: Literal["llm_call_finished"] = "llm_call_finished"
    WALL_FIELDS: ClassVar[frozenset[str]] = frozenset({"latency_ms"})
    # Call ids name the step that made the call (``tp03/turn02``, ``tp03/event#2`` for a
    # retry), so they are part of what happened; only whether the cassette answered is not.
    EXECUTION_FIELDS: ClassVar[frozenset[str]] = frozenset({"cached"})

    call_id: str
    action: str
    provider: str
    model: str
    status: StepStatus
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    request_hash: str
    timepoint_id: str | None = None
    error: ErrorText | None = None
    cached: bool = False
    entity_id: str | None = None  # the entity the call was for (a turn's speaker, an inner life)


class BudgetWarning(EventBase):
    """The run has spent ``warn_fraction`` of a budget, or (soft budgets) gone past it."""

    type: Literal["budget_warning"] = "budget_warning"

    dimension: Literal["tokens", "usd"]
    spent: float
    limit: float
    exceeded: bool = False
    hard: bool = True
    message: str


class TimepointCompleted(EventBase):
    type: Literal["timepoint_completed"] = "timepoint_completed"

    timepoint_id: str
    status: StepStatus
    issues: tuple[str, ...] = ()


class TimepointFailed(EventBase):
    """A timepoint could not be completed. Its events from ``discarded_from_seq`` on were never
    stored, but for the model calls it made (and any budget warning), which stay in the log as
    their own events: what was spent is never lost."""

    type: Literal["timepoint_failed"] = "timepoint_failed"

    index: int
    timepoint_id: str | None
    error: ErrorText
    discarded_from_seq: int


class EventsDiscarded(EventBase):
    """Events delivered live that will never be stored: those of a timepoint that failed or was
    cut short by a budget or a stop. Live views take them back out; never stored itself."""

    type: Literal["events_discarded"] = "events_discarded"
    PERSIST: ClassVar[bool] = False

    events: tuple[EventBase, ...]


class RunFinished(EventBase):
    """The end of a run (or of one resumed stretch of it). ``counts`` cover the whole run, as
    the fold of its events counts them; ``spent_*`` are what its executions paid (answers that
    came from the cassette cost nothing now)."""

    type: Literal["run_finished"] = "run_finished"
    WALL_FIELDS: ClassVar[frozenset[str]] = frozenset({"wall_seconds", "finished_at"})
    EXECUTION_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"spent_tokens", "spent_usd", "cached_calls"}
    )

    status: RunStatus
    reason: ErrorText | None = None
    counts: RunCounts
    wall_seconds: float
    finished_at: datetime
    spent_tokens: int = 0
    spent_usd: float = 0.0
    cached_calls: int = 0


Event = Annotated[
    RunStarted
    | RunResumed
    | EntityCreated
    | EntityElevated
    | EntityCompressed
    | FidelityPlanned
    | ExposureRecorded
    | TimepointCreated
    | DialogStarted
    | DialogSkipped
    | DialogTurnStarted
    | DialogTokens
    | DialogStreamReset
    | DialogTurnFinished
    | DialogTurnFailed
    | DialogFinished
    | ValidationReported
    | KnowledgeExtractionFailed
    | SceneRead
    | AtmosphereShifted
    | InnerLifeUpdated
    | MechanismFailed
    | TensorUpdated
    | RelationshipUpdated
    | LLMCallFinished
    | BudgetWarning
    | TimepointCompleted
    | TimepointFailed
    | EventsDiscarded
    | BranchCreated
    | BranchFinished
    | BranchScored
    | QueryAnswered
    | RecordLookedUp
    | QueriesApplied
    | PortalSearchStarted
    | PortalCandidateProposed
    | PortalCandidateScored
    | PortalStepFailed
    | PortalBeamKept
    | PortalPathJudged
    | PortalPathsKept
    | PortalAnalysed
    | RunFinished,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(data: str | bytes) -> EventBase:
    """Rebuild an event from its stored JSON."""
    return EVENT_ADAPTER.validate_json(data)  # type: ignore[return-value]


def _members(annotation: Any) -> tuple[type[EventBase], ...]:
    from typing import get_args

    union = get_args(annotation)[0]
    return tuple(get_args(union))


EVENT_TYPES: tuple[type[EventBase], ...] = _members(Event)
"""Every type of the event union, for code that must handle each one (the folds)."""
