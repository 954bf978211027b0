"""What a cassette file may hold, checked before anything of it reaches the database or a
replay: every entry and every run description has the fields a replay reads, of the right type
and within the bounds of :mod:`engine.safety.limits` (a count that would not fit a SQLite
INTEGER, a seed over 64 bits, a cost that is not a finite number...). A file that fails is
refused in one sentence naming the entry and the field."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..model.cassette import CassetteEntry
from ..model.common import StepStatus
from ..safety import limits

Count = Annotated[int, Field(ge=0, le=limits.MAX_TOKENS_INT)]
Name = Annotated[str, Field(max_length=400)]
Id = Annotated[
    str,
    Field(
        min_length=1, max_length=limits.MAX_RUN_ID_CHARS, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
    ),
]


def _finite(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError("expected a finite number, 0 or more")
    return value


Amount = Annotated[float, AfterValidator(_finite)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    request_hash: Annotated[str, Field(min_length=1, max_length=200)]
    provider: Name
    model: Name
    action: Name
    response_text: str
    parsed_json: str | None = None
    prompt_tokens: Count
    completion_tokens: Count
    cost_usd: Amount
    latency_ms: Amount


class _Attempt(BaseModel):
    model_config = ConfigDict(extra="allow")

    call_id: Annotated[str, Field(min_length=1, max_length=400)]
    model: Name
    request_hash: Annotated[str, Field(min_length=1, max_length=200)]
    status: StepStatus
    prompt_tokens: Count = 0
    completion_tokens: Count = 0
    cost_usd: Amount = 0.0
    error: str | None = None


class _Routing(BaseModel):
    model_config = ConfigDict(extra="allow")

    routed: bool = False
    fixed_model: Name | None = None
    prefer: Literal["quality", "speed", "cost"] | None = None
    training_safe: bool = False


class _Run(BaseModel):
    model_config = ConfigDict(extra="allow")

    run_id: Id
    seed: Annotated[int, Field(ge=0, le=limits.MAX_SEED)]
    provider: Annotated[str, Field(min_length=1, max_length=64)]
    model: Name
    source: str = ""
    scenario_data: dict[str, Any]
    warnings: list[str] = Field(default_factory=list)
    budget: dict[str, Any] | None = None
    routing: _Routing = _Routing()
    attempts: list[_Attempt] = Field(default_factory=list)


_ENTRIES = TypeAdapter(list[_Entry])
_RUNS = TypeAdapter(list[_Run])


def _problem(exc: ValidationError, what: str) -> str:
    err = exc.errors()[0]
    loc = list(err["loc"])
    index = f"{what} {int(loc[0]) + 1}" if loc and isinstance(loc[0], int) else what
    field = ".".join(str(p) for p in loc[1:]) or "(itself)"
    return f"{index}, field {field}: {err['msg']}"


def checked(data: dict[str, Any], source: str) -> tuple[list[dict[str, Any]], list[CassetteEntry]]:
    """The run descriptions and entries of a parsed cassette file, checked; raises
    ``ValueError`` in one sentence (without ``source``, which the caller names)."""
    raw_entries = data.get("entries", [])
    raw_runs = data.get("runs", [])
    if not isinstance(raw_entries, list) or not isinstance(raw_runs, list):
        raise ValueError("its entries and runs must be lists")
    try:
        entries = _ENTRIES.validate_python(raw_entries)
    except ValidationError as exc:
        raise ValueError(f"has a damaged entry ({_problem(exc, 'entry')})") from None
    try:
        runs = _RUNS.validate_python(raw_runs)
    except ValidationError as exc:
        raise ValueError(f"has a damaged run description ({_problem(exc, 'run')})") from None
    return (
        [r.model_dump(mode="json") for r in runs],
        [CassetteEntry(**e.model_dump()) for e in entries],
    )
