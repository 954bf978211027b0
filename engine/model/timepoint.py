"""Timepoints: the nodes of the causal chain (M7)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import MAIN_BRANCH

# Where a moment sits in the arc of a scenario.
Phase = Literal["setup", "complication", "escalation", "crisis", "aftermath"]


class Timepoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    timepoint_id: str
    branch_id: str = MAIN_BRANCH
    index: int
    timestamp: datetime
    causal_parent: str | None = None
    title: str = ""
    event_description: str
    entities_present: tuple[str, ...] = ()
    importance: float = Field(0.5, ge=0.0, le=1.0)
    tension: float = Field(0.5, ge=0.0, le=1.0)
