"""The OpenAI-compatible provider: any ``/chat/completions`` endpoint over httpx, no vendor SDK.

OpenRouter, Ollama, vLLM, the llama.cpp server, LM Studio and anything else that speaks the
protocol. Every sampling parameter the engine computes is sent. Structured output starts with
``response_format: json_schema``; a server that refuses it gets ``json_object`` (with the schema
attached, which llama.cpp turns into a grammar), then plain text. The prompt always carries the
schema too, so every mode can work; what worked is remembered for the provider's lifetime.

Streaming reads server-sent events; when the response model has a ``content`` field, its value
is decoded incrementally from the streamed JSON and yielded as display text. The final usage is
taken from the stream when the server sends it.

Transport failures become :class:`ProviderError` with ``retryable`` set for what is worth trying
again (429 with its Retry-After, 5xx, timeouts, dropped connections, truncated streams); the
gateway does the retrying. A per-provider semaphore bounds the calls in flight and an
``aiolimiter`` leaky bucket bounds requests per minute. Cancelling the calling task closes the
HTTP request. The API key is sent in a header and nowhere else: every error text passes the
scrubber (:mod:`engine.safety.secrets`) before it leaves this module, and the server's address
is named without the credentials a URL may carry (``https://***@host/v1``).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aiolimiter import AsyncLimiter
from pydantic import BaseModel, SecretStr

from ..safety import secrets
from . import gate
from .jsonstream import FieldStreamer
from .protocol import LLMRequest, LLMResponse, ProviderError, StreamChunk, StreamEnd, Usage
from .schema import bounded_schema

if TYPE_CHECKING:
    import httpx

MODES = ("json_schema", "json_object", "text")
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class OpenAIProvider:
    """One OpenAI-compatible endpoint."""

    cacheable = True

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        model: str,
        api_key: SecretStr | None = None,
        local: bool = False,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        concurrency: int = 8,
        requests_per_minute: int = 0,
        structured_output: str = "auto",
        extra_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        start_hint: str = "",
        key_env: str | None = None,
        max_tokens: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # httpx is imported here, not at module level: with click installed, importing httpx
        # loads its command-line tool and with it rich, which the engine must never import.
        import httpx

        self.name = name
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.shown_url = secrets.scrub_url(self.base_url)  # the address as messages name it
        self.local = local
        self.timeout = timeout
        self.start_hint = start_hint
        self.key_env = key_env
        self.max_tokens = max_tokens  # a cap on every answer (small local models ramble)
        self.extra_body = dict(extra_body or {})
        self._key = api_key
        secrets.remember(api_key)
        self._mode = "json_schema" if structured_output == "auto" else structured_output
        self._can_downgrade = structured_output in ("auto", "json_schema", "json_object")
        self._stream_usage = True
        self._semaphore = asyncio.Semaphore(concurrency)
        self._limiter = AsyncLimiter(requests_per_minute, 60) if requests_per_minute else None
        all_headers = {"User-Agent": "timeloom", **(headers or {})}
        if api_key is not None and api_key.get_secret_value():
            all_headers["Authorization"] = f"Bearer {api_key.get_secret_value()}"
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=all_headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Any, model: str, **kwargs: Any) -> OpenAIProvider:
        preset = settings.preset
        return cls(
            name=settings.name,
            base_url=settings.base_url,
            model=model,
            api_key=settings.api_key,
            local=preset.local,
            timeout=settings.timeout,
            connect_timeout=settings.connect_timeout,
            concurrency=settings.concurrency,
            requests_per_minute=settings.requests_per_minute,
            structured_output=settings.structured_output,
            extra_body=preset.extra_body,
            headers=preset.headers,
            start_hint=preset.start_hint,
            key_env=preset.key_env,
            max_tokens=settings.max_tokens,
            **kwargs,
        )

    @property
    def structured_mode(self) -> str:
        """The structured-output mode in use (what the server accepted last)."""
        return self._mode

    async def aclose(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------------ errors
    def _scrub(self, text: str) -> str:
        if self._key is not None:
            secret = self._key.get_secret_value()
            if secret:
                text = text.replace(secret, secrets.MASK)
        return secrets.scrub(text)

    def _transport_error(self, exc: Exception) -> ProviderError:
        """A transport failure (any httpx error, an invalid URL), scrubbed like every other."""
        error = self._transport_problem(exc)
        return ProviderError(
            self._scrub(str(error)), retryable=error.retryable, retry_after=error.retry_after
        )

    def _transport_problem(self, exc: Exception) -> ProviderError:
        import httpx

        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            hint = f"; {self.start_hint}" if self.start_hint else ""
            return ProviderError(f"cannot reach {self.shown_url}{hint}", retryable=True)
        if isinstance(exc, httpx.TimeoutException):
            return ProviderError(
                f"no answer from {self.shown_url} within {self.timeout:g} s", retryable=True
            )
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return ProviderError(
                f"the connection to {self.shown_url} dropped before the answer was complete",
                retryable=True,
            )
        return ProviderError(
            self._scrub(f"HTTP error talking to {self.shown_url}: {exc.__class__.__name__}"),
            retryable=True,
        )

    def _status_error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        detail = _error_detail(response)
        retry_after = _retry_after(response.headers.get("retry-after"))
        if status in (401, 403):
            # openai's preset reads TIMELOOM_API_KEY itself: name it once
            other = self.key_env not in (None, "", "TIMELOOM_API_KEY")
            where = (
                f"check {self.key_env} (or TIMELOOM_API_KEY)" if other else "check TIMELOOM_API_KEY"
            )
            message = (
                f"{self.shown_url} refused the API key (HTTP {status}); {where}"
                f"{': ' + detail if detail else ''}"
            )
            return ProviderError(self._scrub(message), retryable=False)
        if status == 429:
            wait = f"; it asked to wait {retry_after:g} s" if retry_after is not None else ""
            return ProviderError(
                f"{self.shown_url} is rate limiting (HTTP 429){wait}",
                retryable=True,
                retry_after=retry_after,
            )
        message = f"{self.shown_url} answered HTTP {status}{': ' + detail if detail else ''}"
        return ProviderError(
            self._scrub(message), retryable=status in RETRYABLE_STATUS, retry_after=retry_after
        )

    # ------------------------------------------------------------------ requests
    def _body(self, request: LLMRequest, *, stream: bool, mode: str) -> dict[str, Any]:
        s = request.sampling
        body: dict[str, Any] = {
            **self.extra_body,
            "model": request.model or self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": min(s.max_tokens, self.max_tokens or s.max_tokens),
            "frequency_penalty": s.frequency_penalty,
            "presence_penalty": s.presence_penalty,
        }
        if s.seed is not None:
            body["seed"] = s.seed
        model = request.response_model
        if model is not None and mode != "text":
            schema = _schema(model)
            if mode == "json_schema":
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": model.__name__, "schema": schema, "strict": False},
                }
            else:
                body["response_format"] = {"type": "json_object", "schema": schema}
        if stream:
            body["stream"] = True
            if self._stream_usage:
                body["stream_options"] = {"include_usage": True}
        return body

    def _downgrade(self, mode: str, body: dict[str, Any], response: httpx.Response) -> bool:
        """After a 400/422: step down the structured-output ladder (or stop asking for usage in
        the stream) when the refused request used the feature. True if worth sending again."""
        detail = response.text[:2000].lower()
        named = "response_format" in detail or "stream_options" in detail
        # Some servers (llama-cpp-python) report a request they cannot parse as HTTP 500.
        if response.status_code not in (400, 404, 415, 422, 501) and not named:
            return False
        if "response_format" in body and self._can_downgrade:
            if self._mode == mode:
                self._mode = MODES[MODES.index(mode) + 1]
            return True
        if "stream_options" in body and self._stream_usage:
            self._stream_usage = False
            return True
        return False

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """A connection slot, once the run's calls are not held (see ``gate``): a call that
        waited here through a pause gives its slot back until the run resumes."""
        while True:
            await gate.released()
            await self._semaphore.acquire()
            if not gate.held():
                break
            self._semaphore.release()
        try:
            if self._limiter is not None:
                await self._limiter.acquire()
            yield
        finally:
            self._semaphore.release()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        import httpx

        async with self._slot():
            for _ in range(len(MODES) + 1):
                mode = self._mode
                body = self._body(request, stream=False, mode=mode)
                try:
                    response = await self._client.post("/chat/completions", json=body)
                except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
                    raise self._transport_error(exc) from None
                if response.status_code >= 400:
                    if self._downgrade(mode, body, response):
                        continue
                    raise self._status_error(response)
                return self._parse_completion(request, response)
        raise ProviderError(f"{self.shown_url} refused every request format", retryable=False)

    def _parse_completion(self, request: LLMRequest, response: httpx.Response) -> LLMResponse:
        try:
            data = response.json()
        except ValueError:
            raise ProviderError(
                f"{self.shown_url} answered with something that is not JSON", retryable=True
            ) from None
        if isinstance(data, dict) and "error" in data and "choices" not in data:
            raise _payload_error(data, self._scrub)
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError(
                f"{self.shown_url} answered without a choice", retryable=True
            ) from None
        return LLMResponse(
            text=text, usage=_usage(data.get("usage")), model=request.model or self.model
        )

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamChunk | StreamEnd]:
        import httpx

        async with self._slot():
            for _ in range(len(MODES) + 1):
                mode = self._mode
                body = self._body(request, stream=True, mode=mode)
                retry = False
                try:
                    async with self._client.stream("POST", "/chat/completions", json=body) as resp:
                        if resp.status_code >= 400:
                            await resp.aread()
                            if self._downgrade(mode, body, resp):
                                retry = True
                            else:
                                raise self._status_error(resp)
                        else:
                            async for piece in self._read_stream(request, resp):
                                yield piece
                            return
                except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
                    raise self._transport_error(exc) from None
                if not retry:
                    return
        raise ProviderError(f"{self.shown_url} refused every request format", retryable=False)

    async def _read_stream(
        self, request: LLMRequest, resp: httpx.Response
    ) -> AsyncIterator[StreamChunk | StreamEnd]:
        model = request.response_model
        streamer = (
            FieldStreamer("content")
            if model is not None and "content" in model.model_fields
            else None
        )
        parts: list[str] = []
        usage: Usage | None = None
        finished = done = False
        async for line in resp.aiter_lines():
            line = line.strip()
            if not line or line.startswith(":") or not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                done = True
                break
            try:
                data = json.loads(payload)
            except ValueError:
                raise ProviderError(
                    f"{self.shown_url} sent a stream event that is not JSON", retryable=True
                ) from None
            if not isinstance(data, dict):
                continue
            if "error" in data:
                raise _payload_error(data, self._scrub)
            if data.get("usage"):
                usage = _usage(data["usage"])
            for choice in data.get("choices") or ():
                delta = choice.get("delta") or {}
                text = delta.get("content")
                if text:
                    parts.append(text)
                    if streamer is not None:
                        shown = streamer.feed(text)
                        if shown:
                            yield StreamChunk(shown)
                if choice.get("finish_reason"):
                    finished = True
        if not (done or finished):
            raise ProviderError(
                f"the stream from {self.shown_url} ended before the answer was complete",
                retryable=True,
            )
        yield StreamEnd(
            LLMResponse(text="".join(parts), usage=usage, model=request.model or self.model)
        )

    # ------------------------------------------------------------------ the server
    def set_concurrency(self, calls: int) -> None:
        """How many calls may be in flight at once, from now on (before any call is made)."""
        self._semaphore = asyncio.Semaphore(max(1, calls))

    async def serving_slots(self, kind: str, env: dict[str, str]) -> tuple[int | None, str]:
        """How many requests the server says it serves at once, and where that was read;
        (None, why not) when it does not say. ``kind`` is the preset's ``slots``."""
        if kind == "ollama":
            value = env.get("OLLAMA_NUM_PARALLEL", "")
            if value.isdigit() and int(value) > 0:
                return int(value), "OLLAMA_NUM_PARALLEL"
            return None, "OLLAMA_NUM_PARALLEL is not set"
        if kind != "llamacpp":
            return None, "the preset"
        import httpx

        root = self.base_url.removesuffix("/v1")
        for path, read in (("/props", _props_slots), ("/slots", _slot_list)):
            try:
                response = await self._client.get(f"{root}{path}", timeout=min(self.timeout, 5.0))
                found = read(response.json()) if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                found = None
            if found:
                return found, f"the server's {path}"
        return None, "the server does not say how many requests it serves at once"

    async def list_models(self) -> list[str]:
        """The model ids the server offers (``GET /models``); also proves it is reachable."""
        import httpx

        try:
            response = await self._client.get("/models", timeout=min(self.timeout, 15.0))
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise self._transport_error(exc) from None
        if response.status_code >= 400:
            raise self._status_error(response)
        try:
            data = response.json()
            return [str(m["id"]) for m in data.get("data", []) if isinstance(m, dict)]
        except (ValueError, KeyError, TypeError, AttributeError):
            return []


def _props_slots(data: Any) -> int | None:
    """llama-server's ``GET /props``: ``{"total_slots": 4, ...}``."""
    value = data.get("total_slots") if isinstance(data, dict) else None
    return value if isinstance(value, int) and 0 < value <= 256 else None


def _slot_list(data: Any) -> int | None:
    """llama-server's ``GET /slots``: one entry per slot."""
    return len(data) if isinstance(data, list) and 0 < len(data) <= 256 else None


@lru_cache(maxsize=64)
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """A response model's JSON schema, bounded for constrained decoding (``schema``), built
    once per model. Shared between requests: it is only ever serialized, never changed."""
    return bounded_schema(model)


def _usage(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    try:
        prompt = int(data.get("prompt_tokens") or 0)
        completion = int(data.get("completion_tokens") or 0)
        cost = float(data.get("cost") or 0.0)
    except (TypeError, ValueError):
        return None
    if prompt == 0 and completion == 0:
        return None
    return Usage(prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost)


def _error_detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data))
        if isinstance(err, dict):
            err = err.get("message", err)
        return str(err)[:200]
    return str(data)[:200]


def _payload_error(data: dict[str, Any], scrub: Any) -> ProviderError:
    err = data.get("error")
    code = None
    message = str(err)
    if isinstance(err, dict):
        message = str(err.get("message", err))
        code = err.get("code")
    try:
        status = int(code) if code is not None else 500
    except (TypeError, ValueError):
        status = 500
    return ProviderError(
        scrub(f"the server reported an error: {message[:200]}"),
        retryable=status in RETRYABLE_STATUS or status >= 500,
    )


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():  # a number of seconds
        return float(value)
    try:  # otherwise an HTTP date
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
