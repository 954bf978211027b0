"""Events of fidelity (M1, M2, M5, M6): the level of every entity at a timepoint, an entity
raised above it (by a query, or by the policy), and an entity compressed back to its tensors.
See :mod:`.events` for what every event carries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import ResolutionLevel
from .event_base import EventBase


class FidelityPlanned(EventBase):
    """The level of every entity of the branch at one timepoint, and why: what it may do there
    (witness, learn, speak) and what it costs. Entities not listed keep their level."""

    type: Literal["fidelity_planned"] = "fidelity_planned"

    timepoint_id: str
    levels: dict[str, ResolutionLevel]
    reasons: dict[str, str] = Field(default_factory=dict)


class EntityElevated(EventBase):
    """An entity raised to ``resolution`` at ``timepoint_id``. With ``query_id``, an observer's
    query caused it: an elaboration call (its tokens here) brought ``learned`` new items, which
    follow as exposures learned at that moment."""

    type: Literal["entity_elevated"] = "entity_elevated"

    entity_id: str
    timepoint_id: str | None
    previous: ResolutionLevel
    resolution: ResolutionLevel
    reason: str
    query_id: str | None = None
    learned: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class EntityCompressed(EventBase):
    """Nobody looked at an entity for a while: it falls back to its tensors and identity (M6).
    Nothing established is lost; the store keeps it and the next elevation brings it back.
    ``full_tokens`` and ``compressed_tokens`` measure its context before and after."""

    type: Literal["entity_compressed"] = "entity_compressed"

    entity_id: str
    timepoint_id: str
    previous: ResolutionLevel
    resolution: ResolutionLevel = ResolutionLevel.TENSOR_ONLY
    reason: str
    full_tokens: int = 0
    compressed_tokens: int = 0
