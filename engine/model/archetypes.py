"""Archetypes: kinds of people (and other entities) with their roles, traits, voice and what
they typically know, from ``engine/data/archetypes.json``. The cast uses them to flesh out
entities a scenario only sketches; the offline provider uses them to invent new ones."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..resources import data_path
from .voice import VoiceGuide


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Archetype(_Data):
    id: str
    entity_type: str = "human"
    keywords: tuple[str, ...]
    roles: tuple[str, ...]
    description: str
    personality: tuple[str, ...]
    traits: dict[str, float]
    voice: VoiceGuide
    knowledge: tuple[str, ...]


class ArchetypeLibrary(_Data):
    version: Literal[1]
    archetypes: tuple[Archetype, ...]

    def get(self, archetype_id: str) -> Archetype | None:
        return next((a for a in self.archetypes if a.id == archetype_id), None)


@lru_cache(maxsize=1)
def archetypes() -> ArchetypeLibrary:
    with open(data_path("archetypes.json"), encoding="utf-8") as handle:
        return ArchetypeLibrary.model_validate(json.load(handle))
