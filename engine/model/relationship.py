"""Relationships between two entities (M13)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


def pair_key(a: str, b: str) -> tuple[str, str]:
    """Relationships are symmetric; they are keyed by the sorted pair of entity ids."""
    return (a, b) if a <= b else (b, a)


class Relationship(BaseModel):
    model_config = ConfigDict(frozen=True)

    a: str
    b: str
    trust: float = Field(0.0, ge=-1.0, le=1.0)
    alignment: float = Field(0.0, ge=-1.0, le=1.0)
    shared_knowledge: tuple[str, ...] = ()
    interaction_count: int = Field(0, ge=0)
