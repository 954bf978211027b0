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

from ..safety.secrets import scrub


class ActionType(StrEnum):
    """What a call is for. Model routing (M18) and the offline generator key on it.

    The first five are the calls the FORWARD engine makes today; the rest complete the sixteen
    action categories of M18 so that routing requirements (``engine/data/actions.toml``) can be
    written for every mechanism before it lands.
    """

    ENTITY_POPULATION = "entity_population"
    TIMEPOINT_EVENT = "timepoint_event"
    ENTITY_PRESENCE = "entity_presence"
    DIALOG_TURN = "dialog_turn"
    KNOWLEDGE_EXTRACTION = "knowledge_extraction"
    ENTITY_QUERY = "entity_query"
    ENTITY_ELABORATION = "entity_elaboration"
    DIALOG_SYNTHESIS = "dialog_synthesis"
    TEMPORAL_REASONING = "temporal_reasoning"
    COUNTERFACTUAL_PREDICTION = "counterfactual_prediction"
    BRANCH_ALTERNATIVES = "branch_alternatives"
    KNOWLEDGE_VALIDATION = "knowledge_validation"
    SCENE_GENERATION = "scene_generation"
    RELATIONSHIP_ANALYSIS = "relationship_analysis"
    PROSPECTION = "prospection"
    ANIMISTIC_BEHAVIOR = "animistic_behavior"
    PORTAL_BACKWARD_REASONING = "portal_backward_reasoning"
    PORTAL_PATH_SCORING = "portal_path_scoring"
    CONFIG_GENERATION = "config_generation"
    TENSOR_COMPRESSION = "tensor_compression"
    VALIDATION = "validation"
    SUMMARIZATION = "summarization"
    GENERAL = "general"


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
    # The model chosen for this call (M18 routing); None means the provider's default.
    model: str | None = None


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
    """A call that could not be answered. ``retryable`` tells the gateway whether to try again;
    ``retry_after`` (seconds) is the server's own request to wait, when it made one."""

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        # Every provider's failure passes the scrubber (a key in a URL, a server echoing it).
        super().__init__(scrub(message))
        self.retryable = retryable
        self.retry_after = retry_after


@runtime_checkable
class Provider(Protocol):
    """What every provider implements. Providers may also set ``cacheable = True`` (answers are
    worth recording in the cassette; the offline provider is not, it is free and deterministic)
    and ``local = True`` (a server on this machine: calls cost nothing)."""

    name: str
    model: str

    async def complete(self, request: LLMRequest) -> LLMResponse: ...

    def stream(self, request: LLMRequest) -> AsyncIterator[StreamChunk | StreamEnd]: ...
