"""The gateway: the single path from the engine to a provider.

It renders prompts, picks the model (M18 routing, with its fallback chain), answers from the
cassette when it can, checks the budget before spending, sends the request (streaming when
asked), validates the answer against the response model (with one repair request that tells the
model what was wrong), estimates tokens where the provider gives none, prices the call, retries
what can be retried (exponential backoff with jitter, honouring Retry-After) and produces one
:class:`CallRecord` per attempt. It never invents an answer: a call that cannot be answered
raises :class:`LLMCallFailed` after every attempt is recorded. What makes an answer usable, and
the repair request, are in :mod:`engine.llm.validation`; the records in :mod:`engine.llm.calls`.

Call ids are deterministic: the engine names each call by what it is for (``tp03/turn04``,
``tp03/extract04``, ``setup/population``), so that an id never depends on which call happened
to start first, and a resumed run names its calls as an uninterrupted one would; a call made
without a name is numbered (``c00012``). Later attempts of a call are ``tp03/turn04#2``, ...
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from ..model.common import StepStatus
from .budget import BudgetTracker
from .calls import CallRecord, LLMCallFailed, display_text, request_hash
from .cassette import Cassette, CassetteEntry, Transcripts
from .clamp import rescue
from .prompts import render
from .protocol import (
    ActionType,
    LLMRequest,
    LLMResponse,
    Message,
    Provider,
    ProviderError,
    SamplingParams,
    StreamChunk,
    StreamEnd,
    Usage,
)
from .registry import Router
from .tokens import estimate_prompt_tokens, estimate_tokens
from .validation import UNUSABLE, brief, parse_entry, repair_request, validate

__all__ = ["CallRecord", "Gateway", "LLMCallFailed"]


class _ModelFailed(Exception):
    """Every attempt with one model failed; the next model of the chain may be tried."""


class Gateway:
    """Sends requests to one provider and accounts for every attempt."""

    def __init__(
        self,
        provider: Provider,
        *,
        max_attempts: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        router: Router | None = None,
        cassette: Cassette | None = None,
        budget: BudgetTracker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transcripts: Transcripts | None = None,
    ) -> None:
        """``transcripts`` (a replay) plays each recorded call back attempt by attempt."""
        self.provider = provider
        self.transcripts = transcripts
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.router = router
        self.cassette = cassette
        self.budget = budget
        self._sleep = sleep
        self._counter = 0
        self.records: list[CallRecord] = []  # every attempt, in the order each ended

    def chain(self, action: ActionType) -> tuple[str, ...]:
        """The models an action is tried on, in order."""
        return self.router.chain(action) if self.router else (self.provider.model,)

    async def call(
        self,
        action: ActionType,
        context: BaseModel,
        response_model: type[BaseModel],
        *,
        sampling: SamplingParams | None = None,
        timepoint_id: str | None = None,
        on_chunk: Callable[[str], None] | None = None,
        on_reset: Callable[[], None] | None = None,
        call_key: str | None = None,
        entity_id: str | None = None,
    ) -> tuple[BaseModel, list[CallRecord]]:
        """Make one call; return the validated answer and the records of every attempt.
        ``call_key`` names the call (see the module notes)."""
        self._counter += 1
        call = _Call(
            gateway=self,
            base_id=call_key or f"c{self._counter:05d}",
            action=action,
            context=context,
            response_model=response_model,
            sampling=sampling or SamplingParams(),
            timepoint_id=timepoint_id,
            entity_id=entity_id,
            on_chunk=on_chunk,
            on_reset=on_reset,
            messages=render(action, context, response_model),
        )
        return await call.run()

    # ------------------------------------------------------------------ accounting
    def cost(self, model: str, usage: Usage) -> float:
        if getattr(self.provider, "local", False):
            return 0.0
        if usage.cost_usd > 0:
            return usage.cost_usd
        profile = self.router.price(model) if self.router else None
        return profile.cost_usd(usage.prompt_tokens, usage.completion_tokens) if profile else 0.0

    def worst_case(self, model: str, prompt_tokens: int, max_tokens: int) -> float:
        if getattr(self.provider, "local", False):
            return 0.0
        profile = self.router.price(model) if self.router else None
        return profile.cost_usd(prompt_tokens, max_tokens) if profile else 0.0

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ProviderError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_backoff)
        if self.backoff <= 0:
            return 0.0
        return wait_random_exponential(multiplier=self.backoff, max=self.max_backoff)(state)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable


@dataclass
class _Call:
    gateway: Gateway
    base_id: str
    action: ActionType
    context: BaseModel
    response_model: type[BaseModel]
    sampling: SamplingParams
    timepoint_id: str | None
    entity_id: str | None
    on_chunk: Callable[[str], None] | None
    on_reset: Callable[[], None] | None
    messages: tuple[Message, ...]

    def __post_init__(self) -> None:
        self.records: list[CallRecord] = []
        self.attempt = 0
        self.shown: list[str] = []  # display text streamed so far in this attempt

    # ------------------------------------------------------------------ the chain
    async def run(self) -> tuple[BaseModel, list[CallRecord]]:
        g = self.gateway
        if g.transcripts is not None:
            played = await self._play_back(g.chain(self.action)[0])
            if played is not None:
                return played, self.records
        last_error = "no attempt was made"
        for model in g.chain(self.action):
            request = self._request(model)
            rhash = request_hash(g.provider.name, model, request)
            cached = await self._from_cassette(model, rhash)
            if cached is not None:
                return cached, self.records
            try:
                parsed = await self._with_model(model, request, rhash)
            except _ModelFailed as exc:
                last_error = str(exc)
                continue
            return parsed, self.records
        raise LLMCallFailed(f"{self.action.value} call failed: {last_error}", self.records)

    def _request(self, model: str) -> LLMRequest:
        return LLMRequest(
            action=self.action,
            messages=self.messages,
            context=self.context,
            response_model=self.response_model,
            sampling=self.sampling,
            model=model,
        )

    async def _play_back(self, first_model: str) -> BaseModel | None:
        """A replay: the recorded attempts of this call again, then its recorded answer (or
        its recorded failure). None when the recording has no such call or lost its answer."""
        g = self.gateway
        assert g.transcripts is not None
        first = self._request(first_model)
        script = g.transcripts.take(request_hash(g.provider.name, first_model, first))
        if not script:
            return None
        last = script[-1]
        parsed: BaseModel | None = None
        if last["status"] == StepStatus.OK.value:
            # The answer is filed under the first request made to the model that gave it.
            key = next(a for a in script if a["model"] == last["model"])["request_hash"]
            parsed = await self._cassette_answer(str(key))
            if parsed is None:
                return None
        started = time.perf_counter()
        for attempt in script:
            self._record(
                str(attempt["model"]),
                str(attempt["request_hash"]),
                started,
                StepStatus(attempt["status"]),
                int(attempt["prompt_tokens"]),
                int(attempt["completion_tokens"]),
                float(attempt["cost_usd"]),
                attempt.get("error"),
                cached=True,
            )
        if parsed is None:
            raise LLMCallFailed(f"{self.action.value} call failed: {last['error']}", self.records)
        text = display_text(parsed)
        if self.on_chunk is not None and text:
            self.on_chunk(text)
        return parsed

    async def _cassette_answer(self, rhash: str) -> BaseModel | None:
        cassette = self.gateway.cassette
        entry = await cassette.get(rhash) if cassette is not None else None
        return parse_entry(entry, self.response_model) if entry is not None else None

    async def _from_cassette(self, model: str, rhash: str) -> BaseModel | None:
        cassette = self.gateway.cassette
        if cassette is None:
            return None
        started = time.perf_counter()
        entry = await cassette.get(rhash)
        if entry is None:
            return None
        parsed = parse_entry(entry, self.response_model)
        if parsed is None:
            return None  # a stale entry (the response model changed): ask the provider
        self._record(
            model,
            rhash,
            started,
            StepStatus.OK,
            entry.prompt_tokens,
            entry.completion_tokens,
            entry.cost_usd,
            cached=True,
        )
        text = display_text(parsed)
        if self.on_chunk is not None and text:
            self.on_chunk(text)
        return parsed

    # ------------------------------------------------------------------ one model
    async def _with_model(self, model: str, request: LLMRequest, rhash: str) -> BaseModel:
        response = await self._retrying(model, request, rhash, stream=self.on_chunk is not None)
        try:
            parsed = validate(response, self.response_model)
        except UNUSABLE as exc:
            rescued = self._rescued(response, exc)
            if rescued is not None:
                self._show_final(rescued)
                self._put_cassette(model, rhash, response, rescued)
                return rescued
            problem = brief(exc)
            self._mark_failed(f"the answer did not match {self.response_model.__name__}: {problem}")
            self._reset()
            repair = repair_request(request, response.text, problem)
            repair_hash = request_hash(self.gateway.provider.name, model, repair)
            response = await self._retrying(model, repair, repair_hash, stream=False)
            try:
                parsed = validate(response, self.response_model)
            except UNUSABLE as exc2:
                message = (
                    f"the answer did not match {self.response_model.__name__} even after a "
                    f"repair request: {brief(exc2)}"
                )
                self._mark_failed(message)
                raise _ModelFailed(message) from None
        self._show_final(parsed)
        self._put_cassette(model, rhash, response, parsed)
        return parsed

    def _rescued(self, response: LLMResponse, exc: Exception) -> BaseModel | None:
        """The answer with its out-of-range numbers clamped, the change noted on the call
        (status degraded); None when something else is wrong with it."""
        if not isinstance(exc, ValidationError):
            return None
        rescued = rescue(response, self.response_model, exc)
        if rescued is None:
            return None
        parsed, notes = rescued
        last = self.records[-1]
        note = "numbers out of range clamped: " + "; ".join(notes)
        self._replace_last(replace(last, status=StepStatus.DEGRADED, error=note))
        return parsed

    def _put_cassette(
        self, model: str, rhash: str, response: LLMResponse, parsed: BaseModel
    ) -> None:
        cassette = self.gateway.cassette
        if cassette is not None:
            last = self.records[-1]
            cassette.put(
                CassetteEntry(
                    request_hash=rhash,
                    provider=self.gateway.provider.name,
                    model=model,
                    action=self.action.value,
                    response_text=response.text,
                    parsed_json=parsed.model_dump_json(),
                    prompt_tokens=last.prompt_tokens,
                    completion_tokens=last.completion_tokens,
                    cost_usd=last.cost_usd,
                    latency_ms=round(last.latency_ms, 3),
                )
            )
        return parsed

    async def _retrying(
        self, model: str, request: LLMRequest, rhash: str, *, stream: bool
    ) -> LLMResponse:
        g = self.gateway
        retrying = AsyncRetrying(
            stop=stop_after_attempt(g.max_attempts),
            wait=g.wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
            sleep=g._sleep,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(model, request, rhash, stream=stream)
        except ProviderError as exc:
            raise _ModelFailed(str(exc)) from None
        raise _ModelFailed("no attempt was made")  # pragma: no cover

    async def _attempt(
        self, model: str, request: LLMRequest, rhash: str, *, stream: bool
    ) -> LLMResponse:
        g = self.gateway
        prompt_tokens = estimate_prompt_tokens(request.messages)
        reservation = None
        if g.budget is not None:
            reservation = g.budget.reserve(
                prompt_tokens + request.sampling.max_tokens,
                g.worst_case(model, prompt_tokens, request.sampling.max_tokens),
            )
        started = time.perf_counter()
        try:
            response = await self._send(request, stream)
        except ProviderError as exc:
            self._reset()
            self._settle(reservation, 0, 0.0)
            self._record(model, rhash, started, StepStatus.FAILED, prompt_tokens, 0, 0.0, str(exc))
            raise
        except asyncio.CancelledError:
            self._settle(reservation, 0, 0.0)
            self._record(
                model, rhash, started, StepStatus.FAILED, prompt_tokens, 0, 0.0, "cancelled"
            )
            raise
        except BaseException:
            self._settle(reservation, 0, 0.0)
            raise
        usage = response.usage or Usage(
            prompt_tokens=prompt_tokens, completion_tokens=estimate_tokens(response.text)
        )
        cost = g.cost(model, usage)
        self._settle(reservation, usage.prompt_tokens + usage.completion_tokens, cost)
        self._record(
            model,
            rhash,
            started,
            StepStatus.OK,
            usage.prompt_tokens,
            usage.completion_tokens,
            cost,
        )
        return response

    async def _send(self, request: LLMRequest, stream: bool) -> LLMResponse:
        provider = self.gateway.provider
        if not stream or self.on_chunk is None:
            return await provider.complete(request)
        final: LLMResponse | None = None
        self.shown = []
        async for piece in provider.stream(request):
            if isinstance(piece, StreamChunk):
                if piece.text:
                    self.shown.append(piece.text)
                    self.on_chunk(piece.text)
            elif isinstance(piece, StreamEnd):
                final = piece.response
        if final is None:
            raise ProviderError("the stream ended without a final answer", retryable=True)
        return final

    # ------------------------------------------------------------------ helpers
    def _show_final(self, parsed: BaseModel) -> None:
        """Make what the reader saw add up to the accepted answer."""
        if self.on_chunk is None:
            return
        text = display_text(parsed)
        if text is None:
            return
        if "".join(self.shown).strip() != text.strip():
            self._reset()
            self.on_chunk(text)
            self.shown = [text]

    def _reset(self) -> None:
        if self.shown and self.on_reset is not None:
            self.on_reset()
        self.shown = []

    def _settle(self, reservation: Any, tokens: int, usd: float) -> None:
        if self.gateway.budget is not None:
            self.gateway.budget.settle(reservation, tokens, usd)

    def _record(
        self,
        model: str,
        rhash: str,
        started: float,
        status: StepStatus,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
        error: str | None = None,
        *,
        cached: bool = False,
    ) -> None:
        self.attempt += 1
        call_id = self.base_id if self.attempt == 1 else f"{self.base_id}#{self.attempt}"
        record = CallRecord(
            call_id=call_id,
            action=self.action.value,
            provider=self.gateway.provider.name,
            model=model,
            status=status,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd,
            latency_ms=(time.perf_counter() - started) * 1000.0,
            request_hash=rhash,
            timepoint_id=self.timepoint_id,
            error=error,
            cached=cached,
            entity_id=self.entity_id,
        )
        self.records.append(record)
        self.gateway.records.append(record)

    def _mark_failed(self, error: str) -> None:
        """The last attempt was answered but the answer could not be used."""
        self._replace_last(replace(self.records[-1], status=StepStatus.FAILED, error=error))

    def _replace_last(self, changed: CallRecord) -> None:
        """The record of the last attempt, changed, here and in the gateway's log."""
        last = self.records[-1]
        self.records[-1] = changed
        all_records = self.gateway.records
        for i in range(len(all_records) - 1, -1, -1):
            if all_records[i] is last:
                all_records[i] = changed
                break
