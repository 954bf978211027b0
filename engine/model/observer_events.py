"""Events of branches and of observers: forks and their outcomes, and questions put to a run
(part of its record like every other event; see :mod:`.events`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from .common import ResolutionLevel, RunStatus, StepStatus
from .event_base import ErrorText, EventBase
from .run import RunCounts


class BranchCreated(EventBase):
    """A new branch of the run's timeline: its World is the parent branch's as it stood at
    ``fork_timepoint_id`` (M12, M17). ``intervention`` says what changes there, if anything."""

    type: Literal["branch_created"] = "branch_created"

    parent_branch_id: str
    fork_timepoint_id: str | None
    label: str = ""
    intervention: dict[str, Any] = Field(default_factory=dict)


class BranchFinished(EventBase):
    """A fork ran as far as it was asked (to the scenario's end or N timepoints), or failed, or
    was stopped. ``counts`` are what the fork itself made and spent, not the whole run's."""

    type: Literal["branch_finished"] = "branch_finished"
    WALL_FIELDS: ClassVar[frozenset[str]] = frozenset({"wall_seconds", "finished_at"})

    status: RunStatus
    reason: ErrorText | None = None
    counts: RunCounts
    wall_seconds: float
    finished_at: datetime


class BranchScored(EventBase):
    """How a branch came out, read from what happened on it after it forked (M12): each outcome
    signal in [0, 1] with its weight, the score (their weighted mean), and each signal that could
    not be read with the reason. ``score`` is None, never a guess, when no signal could be."""

    type: Literal["branch_scored"] = "branch_scored"

    score: float | None
    components: dict[str, float] = Field(default_factory=dict)
    weights: dict[str, float] = Field(default_factory=dict)
    missing: dict[str, str] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)


class QueryAnswered(EventBase):
    """Someone asked an entity about a moment and it answered, in character, from what it knew
    then (an observer action: part of the run's record, replayable, never part of its World).
    ``timepoint_id`` is the moment it answered at (None: before the first timepoint)."""

    type: Literal["query_answered"] = "query_answered"
    WALL_FIELDS: ClassVar[frozenset[str]] = frozenset({"asked_at"})

    query_id: str
    entity_id: str
    timepoint_id: str | None
    question: str
    answer: str
    knowledge_references: tuple[str, ...] = ()
    violations: tuple[str, ...] = ()
    emotional_tone: str = "neutral"
    confidence: float = 0.5
    status: StepStatus = StepStatus.OK
    provider: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    asked_at: datetime
    level: ResolutionLevel | None = None  # the level it answered at (M5)
    # where each item it drew on came from: information, kind, source, timepoint, confidence
    provenance: tuple[dict[str, Any], ...] = ()


class RecordLookedUp(EventBase):
    """An observer read the record: who held something at a moment (``/who-knows``) or the
    exposures that brought an entity to know it (``/why``). It calls no model and changes no
    World; it is recorded so that the observer ledger shows what was looked at and when, and a
    replay looks it up again. ``found`` is the holders' entity ids, best match first
    (who-knows) or the chain's steps as sentences, oldest first (why)."""

    type: Literal["record_looked_up"] = "record_looked_up"
    WALL_FIELDS: ClassVar[frozenset[str]] = frozenset({"asked_at"})

    query_id: str
    kind: Literal["who_knows", "why"]
    text: str  # the query as it was typed
    phrase: str
    entity_id: str | None = None  # whose knowledge ``/why`` traced
    timepoint_id: str | None
    found: tuple[str, ...] = ()
    summary: str
    asked_at: datetime


class QueriesApplied(EventBase):
    """What observers did to a live run reached one of its Worlds before timepoint ``index``
    of its branch was made: from there on, the levels, the attention and the knowledge of
    that branch include those queries (``query_ids``), asked while the run went on. A replay
    asks them again at the same point, so that it makes the same timepoints."""

    type: Literal["queries_applied"] = "queries_applied"

    index: int
    query_ids: tuple[str, ...]
    # the event of that timepoint was already being made (started ahead of time, from the
    # World as it was): a replay makes it ahead of time too, or else only after the queries
    prefetched: bool = False
