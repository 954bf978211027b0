"""The gateway: the single path from the engine to a provider.

It renders prompts, sends the request (streaming when asked), validates the answer against the
response model, estimates tokens where the provider gives none, retries what can be retried, and
produces one :class:`CallRecord` per call. It never invents an answer: a call that cannot be
answered raises :class:`LLMCallFailed` after its failure is recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from ..model.common import StepStatus
from .jsonparse import JSONExtractionError, extract_json
from .prompts import render
from .protocol import (
    ActionType,
    LLMRequest,
    LLMResponse,
    Provider,
    ProviderError,
    SamplingParams,
    StreamChunk,
    StreamEnd,
    Usage,
)
from .tokens import estimate_prompt_tokens, estimate_tokens


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one call cost and how it ended; becomes an ``LLMCallFinished`` event."""

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


class LLMCallFailed(Exception):
    def __init__(self, message: str, records: list[CallRecord]) -> None:
        super().__init__(message)
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


class Gateway:
    """Sends requests to one provider and accounts for every call."""

    def __init__(self, provider: Provider, *, max_attempts: int = 3, backoff: float = 0.5) -> None:
        self.provider = provider
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._counter = 0

    def _next_call_id(self) -> str:
        self._counter += 1
        return f"c{self._counter:05d}"

    async def call(
        self,
        action: ActionType,
        context: BaseModel,
        response_model: type[BaseModel],
        *,
        sampling: SamplingParams | None = None,
        timepoint_id: str | None = None,
        on_chunk: Callable[[str], None] | None = None,
    ) -> tuple[BaseModel, list[CallRecord]]:
        """Make one call; return the validated answer and the records of every attempt."""
        messages = render(action, context, response_model)
        request = LLMRequest(
            action=action,
            messages=messages,
            context=context,
            response_model=response_model,
            sampling=sampling or SamplingParams(),
        )
        provider, model = self.provider.name, self.provider.model
        rhash = request_hash(provider, model, request)
        prompt_tokens = estimate_prompt_tokens(messages)
        records: list[CallRecord] = []
        last_error = "no attempt was made"
        for attempt in range(1, self.max_attempts + 1):
            call_id = self._next_call_id()
            started = time.perf_counter()
            try:
                response = await self._send(request, on_chunk)
                parsed = self._validate(response, response_model)
            except ProviderError as exc:
                last_error = str(exc)
                records.append(
                    self._record(
                        call_id,
                        request,
                        rhash,
                        started,
                        timepoint_id,
                        None,
                        prompt_tokens,
                        0,
                        StepStatus.FAILED,
                        last_error,
                    )
                )
                if exc.retryable and attempt < self.max_attempts:
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                break
            except (ValidationError, JSONExtractionError) as exc:
                last_error = f"the answer did not match {response_model.__name__}: {_brief(exc)}"
                records.append(
                    self._record(
                        call_id,
                        request,
                        rhash,
                        started,
                        timepoint_id,
                        None,
                        prompt_tokens,
                        0,
                        StepStatus.FAILED,
                        last_error,
                    )
                )
                if attempt < self.max_attempts:
                    continue
                break
            usage = response.usage or Usage(
                prompt_tokens=prompt_tokens, completion_tokens=estimate_tokens(response.text)
            )
            records.append(
                self._record(
                    call_id,
                    request,
                    rhash,
                    started,
                    timepoint_id,
                    usage,
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    StepStatus.OK,
                    None,
                    model=response.model,
                )
            )
            return parsed, records
        raise LLMCallFailed(f"{action.value} call failed: {last_error}", records)

    async def _send(
        self, request: LLMRequest, on_chunk: Callable[[str], None] | None
    ) -> LLMResponse:
        if on_chunk is None:
            return await self.provider.complete(request)
        final: LLMResponse | None = None
        async for piece in self.provider.stream(request):
            if isinstance(piece, StreamChunk):
                on_chunk(piece.text)
            elif isinstance(piece, StreamEnd):
                final = piece.response
        if final is None:
            raise ProviderError("the stream ended without a final answer", retryable=True)
        return final

    @staticmethod
    def _validate(response: LLMResponse, model: type[BaseModel]) -> BaseModel:
        if isinstance(response.parsed, model):
            return response.parsed
        if response.parsed is not None:
            return model.model_validate(response.parsed.model_dump())
        return model.model_validate(extract_json(response.text))

    def _record(
        self,
        call_id: str,
        request: LLMRequest,
        rhash: str,
        started: float,
        timepoint_id: str | None,
        usage: Usage | None,
        prompt_tokens: int,
        completion_tokens: int,
        status: StepStatus,
        error: str | None,
        *,
        model: str | None = None,
    ) -> CallRecord:
        return CallRecord(
            call_id=call_id,
            action=request.action.value,
            provider=self.provider.name,
            model=model or self.provider.model,
            status=status,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=usage.cost_usd if usage else 0.0,
            latency_ms=(time.perf_counter() - started) * 1000.0,
            request_hash=rhash,
            timepoint_id=timepoint_id,
            error=error,
        )


def _brief(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        return f"{loc}: {err['msg']}"
    return str(exc)
