"""What the gateway says about a call: one record per attempt, the failure that carries them,
the hash that names a request in the cassette, and the text a reader watches arrive."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from pydantic import BaseModel

from ..model.common import StepStatus
from ..safety.secrets import scrub
from .protocol import LLMRequest


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one attempt cost and how it ended; becomes an ``LLMCallFinished`` event."""

    call_id: str
    action: str
    provider: str
    model: str
    status: StepStatus
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    request_hash: str
    timepoint_id: str | None
    error: str | None = None
    cached: bool = False
    entity_id: str | None = None  # the entity the call was made for, when it was for one

    def __post_init__(self) -> None:
        if self.error is not None:  # what becomes a call row and an event: never a secret
            object.__setattr__(self, "error", scrub(self.error))


class LLMCallFailed(Exception):
    def __init__(self, message: str, records: list[CallRecord]) -> None:
        super().__init__(scrub(message))
        self.records = records


def request_hash(provider: str, model: str, request: LLMRequest) -> str:
    payload = {
        "provider": provider,
        "model": model,
        "action": request.action.value,
        "messages": [m.model_dump() for m in request.messages],
        "sampling": request.sampling.model_dump(),
    }
    data = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()


def display_text(parsed: BaseModel) -> str | None:
    """The text a reader watches arrive for this answer (a dialog turn's ``content``)."""
    value = getattr(parsed, "content", None)
    return value if isinstance(value, str) else None
