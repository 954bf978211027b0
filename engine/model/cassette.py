"""A cassette entry: one recorded answer, filed under the hash of the request it answered."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CassetteEntry:
    request_hash: str
    provider: str
    model: str
    action: str
    response_text: str
    parsed_json: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CassetteEntry:
        return cls(
            request_hash=str(data["request_hash"]),
            provider=str(data["provider"]),
            model=str(data["model"]),
            action=str(data["action"]),
            response_text=str(data["response_text"]),
            parsed_json=None if data.get("parsed_json") is None else str(data["parsed_json"]),
            prompt_tokens=int(data["prompt_tokens"]),
            completion_tokens=int(data["completion_tokens"]),
            cost_usd=float(data["cost_usd"]),
            latency_ms=float(data["latency_ms"]),
        )
