"""A character's inner life after a dialog (M15): memory, expectations and concerns.

After each conversation every character who was there keeps its own version of it (an episodic
memory filtered by its personality), a few expectations about what comes next, the concerns it
keeps returning to, what it knew and kept to itself, an impulse it held back, and how anxious it
is. Expectations it rates likely enough become knowledge it holds (an ``anticipated`` exposure).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Expectation(BaseModel):
    """Something a character expects to happen, how likely it thinks it is, and how it feels
    about it (``hope`` below zero is dread)."""

    model_config = ConfigDict(frozen=True)

    about: str = Field(min_length=1)
    likelihood: float = Field(ge=0.0, le=1.0)
    hope: float = Field(0.0, ge=-1.0, le=1.0)


class Concern(BaseModel):
    """A topic a character keeps coming back to, and how strongly."""

    model_config = ConfigDict(frozen=True)

    topic: str = Field(min_length=1)
    intensity: float = Field(ge=0.0, le=1.0)


class InnerLife(BaseModel):
    """One character's inner state after the dialog of one timepoint."""

    model_config = ConfigDict(frozen=True)

    entity_id: str
    timepoint_id: str
    memory: str = Field(min_length=1)
    expectations: tuple[Expectation, ...] = ()
    concerns: tuple[Concern, ...] = ()
    withheld: tuple[str, ...] = ()
    suppressed: str = ""
    anxiety: float = Field(0.0, ge=0.0, le=1.0)
