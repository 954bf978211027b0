"""Enumerations and small value types shared by every model."""

from __future__ import annotations

from enum import StrEnum


class ResolutionLevel(StrEnum):
    """How much detail an (entity, timepoint) carries (M1). Ordered from cheapest to richest."""

    TENSOR_ONLY = "tensor_only"
    SCENE = "scene"
    GRAPH = "graph"
    DIALOG = "dialog"
    TRAINED = "trained"

    @property
    def rank(self) -> int:
        return _RESOLUTION_ORDER.index(self)

    def at_least(self, other: ResolutionLevel) -> ResolutionLevel:
        return self if self.rank >= other.rank else other


_RESOLUTION_ORDER = list(ResolutionLevel)


class TemporalMode(StrEnum):
    """The five temporal ontologies of M17."""

    FORWARD = "forward"
    PORTAL = "portal"
    BRANCHING = "branching"
    CYCLICAL = "cyclical"
    DIRECTORIAL = "directorial"


class ExposureType(StrEnum):
    """How an entity came to hold a piece of information (M3)."""

    INITIAL = "initial"
    WITNESSED = "witnessed"
    LEARNED = "learned"
    TOLD = "told"
    EXPERIENCED = "experienced"
    # Held because the entity expects it to happen (M15): a belief about the future, not a fact.
    ANTICIPATED = "anticipated"


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    # Never stored: what a run still marked running is when no process holds its lease.
    INTERRUPTED = "interrupted"


class StepStatus(StrEnum):
    """Outcome of one step (an LLM call, a turn, a timepoint): done, done with gaps, or not done."""

    OK = "ok"
    DEGRADED = "degraded"
    FAILED = "failed"


# Entity types and the minimum animism level at which they take part in dialog (M16).
ANIMISM_THRESHOLDS: dict[str, int] = {
    "human": 0,
    "person": 0,
    "character": 0,
    "animal": 1,
    "creature": 1,
    "building": 2,
    "object": 2,
    "environment": 2,
    "location": 2,
    "vehicle": 2,
    "abstract": 3,
    "concept": 3,
    "force": 3,
    "institution": 3,
    "kami": 5,
    "spirit": 5,
    "ai": 6,
}

ENTITY_TYPES: tuple[str, ...] = tuple(ANIMISM_THRESHOLDS)

MAIN_BRANCH = "main"
