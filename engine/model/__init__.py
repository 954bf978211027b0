"""Pydantic models of the simulated world and the typed event log."""

from .common import (
    ANIMISM_THRESHOLDS,
    ENTITY_TYPES,
    MAIN_BRANCH,
    ExposureType,
    ResolutionLevel,
    RunStatus,
    StepStatus,
    TemporalMode,
)
from .dialog import DialogTurn, PersonaParams, Stance
from .entity import Entity, EntityProfile, VoiceGuide
from .knowledge import ExposureEvent, KnowledgeCategory, KnowledgeItem
from .relationship import Relationship, pair_key
from .run import RunCounts, RunSummary
from .tensors import BEHAVIOR_DIMS, BIOLOGY_DIMS, CONTEXT_DIMS, CognitiveState, TTMTensor
from .timepoint import Timepoint

__all__ = [
    "ANIMISM_THRESHOLDS",
    "BEHAVIOR_DIMS",
    "BIOLOGY_DIMS",
    "CONTEXT_DIMS",
    "ENTITY_TYPES",
    "MAIN_BRANCH",
    "CognitiveState",
    "DialogTurn",
    "Entity",
    "EntityProfile",
    "ExposureEvent",
    "ExposureType",
    "KnowledgeCategory",
    "KnowledgeItem",
    "PersonaParams",
    "Relationship",
    "ResolutionLevel",
    "RunCounts",
    "RunStatus",
    "RunSummary",
    "Stance",
    "StepStatus",
    "TTMTensor",
    "TemporalMode",
    "Timepoint",
    "VoiceGuide",
    "pair_key",
]
