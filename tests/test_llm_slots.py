"""Concurrency that fits the server: a llama.cpp server is asked how many requests it serves
at once, Ollama's parallel setting is read, hosted routers keep their high default, and a number
the user set always wins without asking."""

from __future__ import annotations

import httpx
import pytest

from engine.config import Config, ProviderConfig, resolve_provider
from engine.llm.factory import open_provider
from engine.llm.registry import load_presets, load_registry


def _server(props=None, slots=None, seen=None):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request.url.path)
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "model.gguf"}]})
        if request.url.path == "/props" and props is not None:
            return httpx.Response(200, json=props)
        if request.url.path == "/slots" and slots is not None:
            return httpx.Response(200, json=slots)
        return httpx.Response(404, json={"error": "not found"})

    return httpx.MockTransport(handler)


async def _opened(name: str, transport, concurrency=None, key=None):
    config = Config(provider=ProviderConfig(name=name, concurrency=concurrency))
    env = {"OPENROUTER_API_KEY": key} if key else {}
    settings = resolve_provider(config, base_url="http://127.0.0.1:9/v1", env=env)
    opened = await open_provider(settings, load_registry(), transport=transport)
    await opened.aclose()
    return opened


@pytest.mark.parametrize(
    ("props", "slots", "calls", "source"),
    [
        ({"total_slots": 4, "n_ctx": 4096}, None, 4, "the server's /props"),
        (None, [{"id": 0}, {"id": 1}], 2, "the server's /slots"),
        (None, None, 1, "does not say"),  # llama-cpp-python's server: one at a time
        ({"total_slots": "many"}, None, 1, "does not say"),
    ],
)
async def test_a_llamacpp_server_is_asked_how_many_it_serves(props, slots, calls, source) -> None:
    opened = await _opened("llamacpp", _server(props, slots))
    assert opened.concurrency == calls
    assert source in opened.concurrency_source
    assert opened.provider._semaphore._value == calls  # type: ignore[attr-defined]


async def test_a_number_the_user_set_wins_and_the_server_is_not_asked() -> None:
    seen: list[str] = []
    opened = await _opened("llamacpp", _server({"total_slots": 4}, seen=seen), concurrency=3)
    assert opened.concurrency == 3 and opened.concurrency_source == "the configuration"
    assert "/props" not in seen and "/slots" not in seen


async def test_ollama_uses_its_parallel_setting(monkeypatch) -> None:
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "3")
    opened = await _opened("ollama", _server())
    assert opened.concurrency == 3 and opened.concurrency_source == "OLLAMA_NUM_PARALLEL"
    monkeypatch.delenv("OLLAMA_NUM_PARALLEL")
    opened = await _opened("ollama", _server())
    assert opened.concurrency == 1


async def test_hosted_routers_keep_a_high_default() -> None:
    presets = load_presets()
    assert presets["openrouter"].slots == "fixed" and presets["openrouter"].concurrency >= 8
    seen: list[str] = []
    opened = await _opened("openrouter", _server(seen=seen), key="sk-test")
    assert opened.concurrency == presets["openrouter"].concurrency
    assert opened.concurrency_source == "the preset" and "/props" not in seen
