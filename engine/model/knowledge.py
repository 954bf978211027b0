"""Knowledge provenance (M3, M19): exposure events and extracted knowledge items."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import ExposureType

KnowledgeCategory = Literal[
    "fact", "decision", "opinion", "plan", "revelation", "question", "agreement", "expectation"
]


class ExposureEvent(BaseModel):
    """One entity coming to hold one piece of information, and how."""

    model_config = ConfigDict(frozen=True)

    exposure_id: str
    entity_id: str
    kind: ExposureType
    information: str
    source: str | None = None
    timestamp: datetime
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    timepoint_id: str | None = None
    dialog_id: str | None = None
    turn_index: int | None = None
    category: KnowledgeCategory = "fact"


class KnowledgeItem(BaseModel):
    """A semantic unit of knowledge extracted from dialog (M19)."""

    model_config = ConfigDict(frozen=True)

    content: str = Field(min_length=3)
    speaker: str
    listeners: tuple[str, ...] = ()
    category: KnowledgeCategory = "fact"
    confidence: float = Field(0.8, ge=0.0, le=1.0)
    causal_relevance: float = Field(0.5, ge=0.0, le=1.0)
    context: str | None = None
