"""A small OpenAI-compatible server on 127.0.0.1 for the provider tests, and its own checks.

It answers every call the engine makes with a valid, deterministic object (the same request
always gets the same answer), streams over server-sent events in chunked encoding, reports
usage, and can be told to misbehave per request: an HTTP status with or without Retry-After, a
delay, a stream that stops early, a connection dropped mid-answer, text that is not JSON, an
object that fails validation, a refusal of ``response_format``. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest


@dataclass
class Reply:
    """How to answer one request. Unset fields mean: answer normally."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # a JSON error body or a raw string for non-200 replies
    delay: float = 0.0
    text: str | None = None  # the model's reply text instead of the generated one
    truncate: bool = False  # end the stream cleanly but before finish_reason and [DONE]
    drop: bool = False  # close the connection mid-stream (or before the body)
    usage: bool = True


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


Script = Callable[[Seen, int], Reply | None]


def _kind(messages: list[dict[str, str]]) -> str:
    system = messages[0]["content"] if messages else ""
    user = messages[1]["content"] if len(messages) > 1 else ""
    if '"suppressed_impulse"' in user:  # the response schema of an inner-life call
        return "inner"
    if '"answer"' in user and '"confidence"' in user:  # ... of a question put to an entity
        return "query"
    if '"environment"' in user and '"atmosphere"' in user:  # ... and of a scene call
        return "scene"
    if system.startswith("You advance a simulation"):
        return "event"
    if system.startswith("You decide which characters"):
        return "presence"
    if system.startswith("You extract knowledge"):
        return "extraction"
    if system.startswith("You design the cast"):
        return "population"
    return "dialog"


def answer_for(body: dict[str, Any]) -> dict[str, Any]:
    """A valid answer for the engine call in ``body``, the same for the same request."""
    messages = body.get("messages", [])
    digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()
    n = int(digest[:6], 16)
    kind = _kind(messages)
    user = messages[1]["content"] if len(messages) > 1 else ""
    if kind == "event":
        return {
            "title": f"Moment {n % 97}",
            "event_description": f"The lamps gutter while the crew argues about shift {n % 13}.",
            "importance": 0.6,
            "tension": 0.5,
            "key_events": ["an argument"],
        }
    if kind == "presence":
        ids = re.findall(r"^- ([a-z][a-z0-9_]*): ", user, flags=re.MULTILINE)
        return {"entities_present": ids[:3]}
    if kind == "extraction":
        return {"items": []}
    if kind == "query":
        return {"answer": f"From the server: ask me again at shift {n % 13}.", "confidence": 0.6}
    if kind == "inner":
        return {
            "memory": f"I keep hearing the argument about shift {n % 13}.",
            "expectations": [{"about": "The crew will walk out at dawn.", "likelihood": 0.7}],
            "new_concerns": [{"topic": "the walkout", "intensity": 0.6}],
            "anxiety": 0.4,
        }
    if kind == "scene":
        return {
            "environment": {"location": "the union hall", "lighting": "one bare bulb"},
            "atmosphere": {
                "tension": 0.6,
                "formality": 0.3,
                "valence": -0.2,
                "energy": 0.7,
                "description": "Smoke hangs under the low ceiling; nobody sits down.",
            },
        }
    if kind == "population":
        return {
            "entities": [
                {"name": f"Generated {n % 50}", "role": "a neighbour", "knowledge": ["x y z"]}
            ]
        }
    return {
        "content": f'I said "hold the line" — twice.\nLine {n % 1000}, café ☕.',
        "emotional_tone": "tense",
        "knowledge_references": [],
        "stance": "informs",
    }


class FakeServer:
    def __init__(
        self, script: Script | None = None, *, chunk: int = 7, keep_alive: bool = False
    ) -> None:
        """``keep_alive`` serves several requests per connection, as real servers do (the
        benchmarks use it); by default every answer closes its connection."""
        self.script = script
        self.chunk = chunk
        self.keep_alive = keep_alive
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.disconnects = 0
        self.default_delay = 0.0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> FakeServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    def chat_bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    # ------------------------------------------------------------------ HTTP
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
            while self.keep_alive and not writer.is_closing() and not reader.at_eof():
                try:
                    head = await reader.readuntil(b"\r\n\r\n")  # the next request, or EOF
                except asyncio.CancelledError:
                    return  # the server is closing while this connection waits: it ends here
                await self._serve(reader, writer, head)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes = b""
    ) -> None:
        head = head or await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        raw = await reader.readexactly(length) if length else b""
        body = json.loads(raw) if raw else {}
        seen = Seen(method, path, headers, body)
        self.requests.append(seen)
        if path.endswith("/models"):
            await self._json(writer, 200, {"data": [{"id": "fake-model"}]})
            return
        index = len(self.requests) - 1
        reply = (self.script(seen, index) if self.script else None) or Reply(
            delay=self.default_delay
        )
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if reply.delay and await self._wait_or_disconnect(reader, reply.delay):
                self.disconnects += 1
                return
            if reply.status != 200:
                await self._json(writer, reply.status, reply.body or {}, reply.headers)
                return
            text = reply.text if reply.text is not None else json.dumps(answer_for(body))
            prompt = sum(len(m["content"]) for m in body.get("messages", [])) // 4 + 1
            usage = {"prompt_tokens": prompt, "completion_tokens": len(text) // 4 + 1}
            if body.get("stream"):
                await self._stream(writer, body, text, usage if reply.usage else None, reply)
            elif reply.drop:
                writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"choi')
                await writer.drain()
            else:
                data = {
                    "id": "x",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                }
                if reply.usage:
                    data["usage"] = usage
                await self._json(writer, 200, data)
        finally:
            self.in_flight -= 1

    @property
    def _connection(self) -> str:
        return "keep-alive" if self.keep_alive else "close"

    async def _wait_or_disconnect(self, reader: asyncio.StreamReader, delay: float) -> bool:
        """Sleep ``delay`` seconds; True if the client hung up meanwhile."""
        try:
            data = await asyncio.wait_for(reader.read(1), delay)
        except TimeoutError:
            return False
        return data == b""

    async def _json(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        data: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = (data if isinstance(data, str) else json.dumps(data)).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: {self._connection}\r\n{extra}\r\n".encode()
            + payload
        )
        await writer.drain()

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        body: dict[str, Any],
        text: str,
        usage: dict[str, int] | None,
        reply: Reply,
    ) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: " + self._connection.encode() + b"\r\n\r\n"
        )

        async def send(event: str) -> None:
            data = f"data: {event}\n\n".encode()
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()

        pieces = [text[i : i + self.chunk] for i in range(0, len(text), self.chunk)]
        for i, piece in enumerate(pieces):
            if reply.drop and i == len(pieces) // 2:
                writer.transport.abort()
                return
            if reply.truncate and i == len(pieces) // 2:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
                return
            await send(json.dumps({"choices": [{"index": 0, "delta": {"content": piece}}]}))
            await asyncio.sleep(0)
        await send(json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
        if usage is not None and (body.get("stream_options") or {}).get("include_usage"):
            await send(json.dumps({"choices": [], "usage": usage}))
        await send("[DONE]")
        writer.write(b"0\r\n\r\n")
        await writer.drain()


# --------------------------------------------------------------------------- its own checks
async def test_the_fake_server_answers_and_streams() -> None:
    async with FakeServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        models = (await client.get("/models")).json()
        assert models["data"][0]["id"] == "fake-model"
        body = {"messages": [{"role": "system", "content": "You are Mara."}], "stream": True}
        async with client.stream("POST", "/chat/completions", json=body) as resp:
            lines = [line async for line in resp.aiter_lines() if line.startswith("data:")]
        assert lines[-1] == "data: [DONE]"
        text = "".join(
            json.loads(line[5:])["choices"][0]["delta"].get("content", "")
            for line in lines[:-1]
            if json.loads(line[5:])["choices"]
        )
        assert json.loads(text)["content"].startswith('I said "hold the line"')


async def test_the_fake_server_can_drop_the_connection() -> None:
    body = {"messages": [{"role": "system", "content": "You are Mara."}], "stream": True}
    async with (
        FakeServer(lambda seen, i: Reply(drop=True)) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            async with client.stream("POST", "/chat/completions", json=body) as resp:
                async for _ in resp.aiter_lines():
                    pass
