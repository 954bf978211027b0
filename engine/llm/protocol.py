"""The provider protocol: every LLM call is an :class:`LLMRequest` answered by a provider.

A request carries the action type, the rendered messages, the structured context they were
rendered from, an optional response model and sampling parameters. Providers implement
``complete`` and ``stream``; the engine only ever talks to them through
:class:`engine.llm.gateway.Gateway`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class ActionType(StrEnum):
    """What a call is for. Model routing (M18) and the offline generator key on it."""

    ENTITY_POPULATION = "entity_population"
    TIMEPOINT_EVENT = "timepoint_event"
    ENTITY_PRESENCE = "entity_presence"
    DIALOG_TURN = "dialog_turn"
    KNOWLEDGE_EXTRACTION = "knowledge_extraction"


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: str
    content: str


class SamplingParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(800, ge=1)
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    seed: int | None = None


class LLMRequest(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    action: ActionType
    messages: tuple[Message, ...]
    context: BaseModel
    response_model: type[BaseModel] | None = None
    sampling: SamplingParams = SamplingParams()


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class LLMResponse(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    text: str
    parsed: BaseModel | None = None
    usage: Usage | None = None
    model: str


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """A piece of display text as it arrives."""

    text: str


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The end of a stream, with the complete response."""

    response: LLMResponse


class ProviderError(Exception):
    """A call that could not be answered. ``retryable`` tells the gateway whether to try again."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@runtime_checkable
class Provider(Protocol):
    name: str
    model: str

    async def complete(self, request: LLMRequest) -> LLMResponse: ...

    def stream(self, request: LLMRequest) -> AsyncIterator[StreamChunk | StreamEnd]: ...
