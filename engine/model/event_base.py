"""The base of every event (and the plain tensor snapshot events carry); see :mod:`.events`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..safety.secrets import scrub
from .common import MAIN_BRANCH
from .tensors import TTMTensor

# An error or a reason an event carries: scrubbed of secrets when the event is made (and when a
# stored one is read back), whatever text the failure had.
ErrorText = Annotated[str, AfterValidator(scrub)]


class TensorSnapshot(BaseModel):
    """A TTM tensor as plain tuples, for events and messages."""

    model_config = ConfigDict(frozen=True)

    context: tuple[float, ...]
    biology: tuple[float, ...]
    behavior: tuple[float, ...]

    @classmethod
    def of(cls, tensor: TTMTensor) -> TensorSnapshot:
        context, biology, behavior = tensor.as_tuples()
        return cls(context=context, biology=biology, behavior=behavior)

    def to_tensor(self) -> TTMTensor:
        return TTMTensor(context=self.context, biology=self.biology, behavior=self.behavior)


class EventBase(BaseModel):
    model_config = ConfigDict(frozen=True)

    PERSIST: ClassVar[bool] = True
    WALL_FIELDS: ClassVar[frozenset[str]] = frozenset()
    EXECUTION_FIELDS: ClassVar[frozenset[str]] = frozenset()

    run_id: str
    branch_id: str = MAIN_BRANCH
    seq: int = Field(ge=0)
    sim_time: datetime | None = None

    def deterministic_dump(self) -> dict[str, Any]:
        """The event as JSON data without the run id, wall-clock and execution fields."""
        return self.model_dump(
            mode="json", exclude={"run_id", *self.WALL_FIELDS, *self.EXECUTION_FIELDS}
        )
