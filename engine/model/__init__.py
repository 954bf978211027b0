"""Pydantic models of the simulated world and the typed event log.

Names are imported from their submodules on first use, so that code needing only, say, the run
summary does not pay for numpy and every model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "ANIMISM_THRESHOLDS": "common",
    "ENTITY_TYPES": "common",
    "MAIN_BRANCH": "common",
    "ExposureType": "common",
    "ResolutionLevel": "common",
    "RunStatus": "common",
    "StepStatus": "common",
    "TemporalMode": "common",
    "DialogTurn": "dialog",
    "PersonaParams": "dialog",
    "Stance": "dialog",
    "Entity": "entity",
    "EntityProfile": "entity",
    "VoiceGuide": "voice",
    "Concern": "inner",
    "Expectation": "inner",
    "InnerLife": "inner",
    "ExposureEvent": "knowledge",
    "KnowledgeCategory": "knowledge",
    "KnowledgeItem": "knowledge",
    "Relationship": "relationship",
    "pair_key": "relationship",
    "RunCounts": "run",
    "RunSummary": "run",
    "BEHAVIOR_DIMS": "tensors",
    "BIOLOGY_DIMS": "tensors",
    "CONTEXT_DIMS": "tensors",
    "CognitiveState": "tensors",
    "TTMTensor": "tensors",
    "Atmosphere": "scene",
    "Environment": "scene",
    "Scene": "scene",
    "Timepoint": "timepoint",
}

__all__ = [
    "ANIMISM_THRESHOLDS",
    "BEHAVIOR_DIMS",
    "BIOLOGY_DIMS",
    "CONTEXT_DIMS",
    "ENTITY_TYPES",
    "MAIN_BRANCH",
    "Atmosphere",
    "CognitiveState",
    "Concern",
    "DialogTurn",
    "Entity",
    "EntityProfile",
    "Environment",
    "Expectation",
    "ExposureEvent",
    "ExposureType",
    "InnerLife",
    "KnowledgeCategory",
    "KnowledgeItem",
    "PersonaParams",
    "Relationship",
    "ResolutionLevel",
    "RunCounts",
    "RunStatus",
    "RunSummary",
    "Scene",
    "Stance",
    "StepStatus",
    "TTMTensor",
    "TemporalMode",
    "Timepoint",
    "VoiceGuide",
    "pair_key",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.model' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
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
    from .entity import Entity, EntityProfile
    from .inner import Concern, Expectation, InnerLife
    from .knowledge import ExposureEvent, KnowledgeCategory, KnowledgeItem
    from .relationship import Relationship, pair_key
    from .run import RunCounts, RunSummary
    from .scene import Atmosphere, Environment, Scene
    from .tensors import BEHAVIOR_DIMS, BIOLOGY_DIMS, CONTEXT_DIMS, CognitiveState, TTMTensor
    from .timepoint import Timepoint
    from .voice import VoiceGuide
