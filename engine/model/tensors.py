"""The TTM tensor and the runtime cognitive state (M6).

The TTM tensor is the compressed, persisted representation of an entity: three small numpy
vectors. The cognitive state is what dialog synthesis works with. The two are kept in sync in
both directions by :mod:`engine.agents.tensors`.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator

from .dims import BEHAVIOR_DIMS, BIOLOGY_DIMS, CONTEXT_DIMS


def as_vector(value: Any, size: int) -> np.ndarray:
    """A read-only float vector of ``size`` values clipped to [0, 1]."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (size,):
        raise ValueError(f"expected a vector of {size} numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("vector values must be finite numbers")
    out = np.clip(arr, 0.0, 1.0)
    out.setflags(write=False)
    return out


def _vector(size: int) -> Any:
    return Annotated[
        np.ndarray,
        PlainValidator(lambda value: as_vector(value, size)),
        PlainSerializer(lambda a: [float(x) for x in a], return_type=list),
    ]


Context8 = _vector(8)
Biology4 = _vector(4)
Behavior8 = _vector(8)


class TTMTensor(BaseModel):
    """Compressed entity state: context (8), biology (4), behavior (8), every value in [0, 1]."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    context: Context8
    biology: Biology4
    behavior: Behavior8

    def as_tuples(self) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        return (
            tuple(float(x) for x in self.context),
            tuple(float(x) for x in self.biology),
            tuple(float(x) for x in self.behavior),
        )

    def with_context(self, **values: float) -> TTMTensor:
        ctx = self.context.copy()
        for name, value in values.items():
            ctx[CONTEXT_DIMS.index(name)] = value
        return self.model_copy(update={"context": as_vector(ctx, 8)})

    def with_biology(self, **values: float) -> TTMTensor:
        bio = self.biology.copy()
        for name, value in values.items():
            bio[BIOLOGY_DIMS.index(name)] = value
        return self.model_copy(update={"biology": as_vector(bio, 4)})

    def ctx(self, name: str) -> float:
        return float(self.context[CONTEXT_DIMS.index(name)])

    def bio(self, name: str) -> float:
        return float(self.biology[BIOLOGY_DIMS.index(name)])

    def beh(self, name: str) -> float:
        return float(self.behavior[BEHAVIOR_DIMS.index(name)])


class CognitiveState(BaseModel):
    """Runtime emotional and cognitive state used while an entity speaks.

    Scales follow the seeds: valence in [-1, 1], arousal in [0, 1], energy in [0, 100]; the rest
    in [0, 1].
    """

    model_config = ConfigDict(frozen=True)

    valence: float = Field(0.0, ge=-1.0, le=1.0)
    arousal: float = Field(0.3, ge=0.0, le=1.0)
    energy: float = Field(70.0, ge=0.0, le=100.0)
    confidence: float = Field(0.5, ge=0.0, le=1.0)
    patience: float = Field(0.5, ge=0.0, le=1.0)
    risk: float = Field(0.5, ge=0.0, le=1.0)
    social: float = Field(0.5, ge=0.0, le=1.0)
    knowledge: float = Field(0.0, ge=0.0, le=1.0)
