"""Entities: who they are (profile), how they speak (voice), and where they stand (state)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import ResolutionLevel
from .tensors import CognitiveState, TTMTensor


class VoiceGuide(BaseModel):
    """How a character sounds. Used by every provider; the offline one follows it literally."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    verbal_tics: tuple[str, ...] = ()
    sentence_length: Literal["short", "medium", "long"] = "medium"
    formality: Literal["casual", "neutral", "formal"] = "neutral"
    never_says: tuple[str, ...] = ()
    specificity_anchors: tuple[str, ...] = ()
    speech_examples: tuple[str, ...] = ()


class EntityProfile(BaseModel):
    """The stable identity of an entity: loaded from a roster (M1) or generated."""

    model_config = ConfigDict(frozen=True)

    entity_id: str
    name: str
    entity_type: str = "human"
    role: str = ""
    description: str = ""
    archetype: str | None = None
    personality: tuple[str, ...] = ()
    traits: dict[str, float] = Field(default_factory=dict)
    voice: VoiceGuide = VoiceGuide()
    initial_knowledge: tuple[str, ...] = ()
    source: Literal["roster", "generated", "on_demand"] = "roster"


class Entity(BaseModel):
    """An entity at one moment: its profile plus the state that changes over time."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    entity_id: str
    profile: EntityProfile
    tensor: TTMTensor
    cognitive: CognitiveState
    resolution: ResolutionLevel = ResolutionLevel.SCENE

    @property
    def name(self) -> str:
        return self.profile.name
