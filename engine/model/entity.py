"""Entities: who they are (profile), how they speak (voice), and where they stand (state)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import ResolutionLevel
from .tensors import CognitiveState, TTMTensor
from .voice import VoiceGuide


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
