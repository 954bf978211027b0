"""The OpenAI-compatible provider against a server on 127.0.0.1: every error path, streaming,
structured output, retries recorded, nothing lost."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from conftest import TEMPLATES, persisted
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from test_llm_fakeserver import FakeServer, Reply, answer_for
from test_offline import context as dialog_context

from engine.llm.gateway import Gateway, LLMCallFailed
from engine.llm.jsonstream import FieldStreamer
from engine.llm.openai import OpenAIProvider, _retry_after
from engine.llm.protocol import ActionType, SamplingParams
from engine.llm.registry import load_registry
from engine.model import events as ev
from engine.model.responses import DialogTurnResponse, TimepointEventResponse
from engine.scenario import load_scenario
from engine.simulation import Simulation


def provider(server: FakeServer, **options: Any) -> OpenAIProvider:
    options.setdefault("local", True)
    return OpenAIProvider(name="llamacpp", base_url=server.url, model="fake-model", **options)


def small_scenario(tmp_path: Path, *, count: int = 2, turns: int = 4) -> str:
    data = json.loads((TEMPLATES / "harbor_strike.json").read_text())
    data["timeline"]["count"] = count
    data["dialog"] = {"turns": turns, "max_speakers": 3, "parallel": 2}
    for beat in data["timeline"]["beats"]:
        beat.pop("present", None)
    path = tmp_path / "small.json"
    path.write_text(json.dumps(data))
    return str(path)


async def run(path: str, store, prov, **options: Any):
    options.setdefault("retry", {"backoff": 0})
    sim = Simulation(load_scenario(path), provider=prov, store=store, seed=1, **options)
    seen: list[ev.EventBase] = []
    summary = await sim.run(seen.append)
    return summary, seen


def calls(events) -> list[ev.LLMCallFinished]:
    return [e for e in events if isinstance(e, ev.LLMCallFinished)]


def turn_text(events) -> dict[tuple[str, int], str]:
    """What a reader saw of each turn: the chunks after the last reset."""
    text: dict[tuple[str, int], str] = {}
    for e in events:
        if isinstance(e, ev.DialogStreamReset):
            text[(e.dialog_id, e.turn_index)] = ""
        elif isinstance(e, ev.DialogTokens):
            key = (e.dialog_id, e.turn_index)
            text[key] = text.get(key, "") + e.text
    return text


def assert_complete(summary, events, store_count: int) -> None:
    assert summary.status.value == "completed", summary.status_reason
    assert summary.counts.timepoints == 2 and summary.counts.dialog_turns > 0
    assert len(persisted(events)) == store_count
    shown = turn_text(events)
    for e in events:
        if isinstance(e, ev.DialogTurnFinished):
            assert shown[(e.turn.dialog_id, e.turn.turn_index)] == e.turn.content


# --------------------------------------------------------------------------- a clean run
async def test_a_run_through_the_http_provider_completes_and_streams(store, tmp_path) -> None:
    async with FakeServer() as server:
        prov = provider(server)
        try:
            summary, events = await run(small_scenario(tmp_path), store, prov)
        finally:
            await prov.aclose()
    assert_complete(summary, events, await store.count("events", summary.run_id))
    bodies = server.chat_bodies()
    assert len(bodies) == summary.counts.llm_calls
    # Every sampling parameter the engine computes is sent.
    turn = next(b for b in bodies if b.get("stream"))
    for key in ("temperature", "top_p", "max_tokens", "frequency_penalty", "presence_penalty"):
        assert key in turn
    assert turn["seed"] == 1 and turn["stream_options"] == {"include_usage": True}
    assert turn["response_format"]["type"] == "json_schema"
    assert turn["response_format"]["json_schema"]["name"] == "DialogTurnResponse"
    # Usage comes from the server, streamed or not; the model is recorded for every call.
    for c in calls(events):
        assert c.status.value == "ok" and c.model == "fake-model" and c.provider == "llamacpp"
        assert c.prompt_tokens > 0 and c.completion_tokens > 0
    assert summary.cost_usd == 0.0  # a local server costs nothing


# --------------------------------------------------------------------------- error paths
ERRORS = {
    "429 with Retry-After": Reply(status=429, headers={"Retry-After": "0"}),
    "429 without Retry-After": Reply(status=429),
    "500": Reply(status=500, body={"error": {"message": "upstream exploded"}}),
    "truncated stream": Reply(truncate=True),
    "dropped connection": Reply(drop=True),
    "not JSON": Reply(text="Sure! Here is what Mara says: hold the line."),
    "fails validation": Reply(text=json.dumps({"content": "", "stance": "informs"})),
}


@pytest.mark.parametrize("name", list(ERRORS))
async def test_each_error_on_a_dialog_turn_is_recorded_and_the_run_completes(
    store, tmp_path, name: str
) -> None:
    failed_once: list[int] = []

    def script(seen, index):
        if seen.body.get("stream") and not failed_once:
            failed_once.append(index)
            return ERRORS[name]
        return None

    async with FakeServer(script) as server:
        prov = provider(server)
        try:
            summary, events = await run(small_scenario(tmp_path), store, prov)
        finally:
            await prov.aclose()
    assert_complete(summary, events, await store.count("events", summary.run_id))
    records = calls(events)
    failed = [c for c in records if c.status.value == "failed"]
    assert len(failed) == 1 and failed[0].action == "dialog_turn" and failed[0].error
    retry = next(c for c in records if c.call_id.startswith(failed[0].call_id + "#"))
    assert retry.status.value == "ok"
    rows = await store.table("llm_calls", summary.run_id)
    assert len(rows) == len(records) == summary.counts.llm_calls
    if name in ("not JSON", "fails validation"):
        # The second attempt was a repair request that said what was wrong.
        repair = server.chat_bodies()[failed_once[0] + 1]
        assert repair["messages"][-2]["role"] == "assistant"
        assert "could not be used" in repair["messages"][-1]["content"]
        assert "DialogTurnResponse" in failed[0].error
    if name in ("truncated stream", "dropped connection"):
        assert any(isinstance(e, ev.DialogStreamReset) for e in events)


async def test_a_timeout_is_retried(store, tmp_path) -> None:
    def script(seen, index):
        return Reply(delay=5) if index == 0 else None  # the first call hangs

    async with FakeServer(script) as server:
        prov = provider(server, timeout=0.2)
        try:
            summary, events = await run(small_scenario(tmp_path), store, prov)
        finally:
            await prov.aclose()
    assert summary.status.value == "completed"
    first = calls(events)[:2]
    assert first[0].status.value == "failed" and "within 0.2 s" in first[0].error
    assert first[1].call_id == first[0].call_id + "#2" and first[1].status.value == "ok"


async def test_retry_after_is_honoured_and_backoff_has_jitter(tmp_path) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    replies = iter([Reply(status=429, headers={"Retry-After": "7"}), Reply(status=503)])

    async with FakeServer(lambda seen, i: next(replies, None)) as server:
        prov = provider(server)
        gateway = Gateway(prov, max_attempts=4, backoff=2.0, max_backoff=60, sleep=fake_sleep)
        try:
            answer, records = await gateway.call(
                ActionType.DIALOG_TURN, dialog_context(), DialogTurnResponse
            )
        finally:
            await prov.aclose()
    assert isinstance(answer, DialogTurnResponse)
    assert [r.status.value for r in records] == ["failed", "failed", "ok"]
    assert "HTTP 429" in records[0].error and "503" in records[1].error
    assert waits[0] == 7.0  # the server's Retry-After
    assert 0.0 <= waits[1] <= 2.0 * 2**2  # exponential backoff with full jitter


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert _retry_after("3") == 3.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert _retry_after("soon") is None and _retry_after(None) is None


async def test_a_call_that_keeps_failing_is_recorded_and_the_turn_fails(store, tmp_path) -> None:
    def script(seen, index):
        if seen.body.get("stream"):
            return Reply(status=500)
        return None

    async with FakeServer(script) as server:
        prov = provider(server)
        try:
            summary, events = await run(
                small_scenario(tmp_path), store, prov, retry={"backoff": 0, "max_attempts": 2}
            )
        finally:
            await prov.aclose()
    # Every dialog turn failed after two attempts each: the run goes to its end, and ends failed
    # with a reason that counts them (a run whose steps mostly failed is not completed).
    failed_turns = [e for e in events if isinstance(e, ev.DialogTurnFailed)]
    assert failed_turns and summary.counts.dialog_turns == 0
    assert summary.status.value == "failed" and summary.counts.timepoints == 2
    n = len(failed_turns)
    assert summary.status_reason == f"most of its steps failed: {n} of {n} dialog turns failed"
    dialog_calls = [c for c in calls(events) if c.action == "dialog_turn"]
    assert len(dialog_calls) == 2 * len(failed_turns)
    assert all(c.status.value == "failed" for c in dialog_calls)
    assert summary.counts.failed_steps == len(failed_turns)


async def test_a_refused_key_is_not_retried_and_names_the_variable() -> None:
    async with FakeServer(lambda s, i: Reply(status=401, body={"error": "bad key"})) as server:
        prov = OpenAIProvider(
            name="openrouter",
            base_url=server.url,
            model="m",
            api_key=SecretStr("sk-secret-123"),
            key_env="OPENROUTER_API_KEY",
        )
        gateway = Gateway(prov, backoff=0)
        try:
            with pytest.raises(LLMCallFailed) as info:
                await gateway.call(ActionType.DIALOG_TURN, dialog_context(), DialogTurnResponse)
        finally:
            await prov.aclose()
    assert len(info.value.records) == 1
    assert "OPENROUTER_API_KEY" in str(info.value) and "sk-secret-123" not in str(info.value)
    assert server.requests[0].headers["authorization"] == "Bearer sk-secret-123"


async def test_structured_output_falls_back_and_remembers(tmp_path) -> None:
    def script(seen, index):
        fmt = (seen.body.get("response_format") or {}).get("type")
        if fmt in ("json_schema", "json_object"):
            return Reply(status=400, body={"error": {"message": f"{fmt} is not supported"}})
        return None

    async with FakeServer(script) as server:
        prov = provider(server)
        gateway = Gateway(prov, backoff=0)
        try:
            for _ in range(2):
                answer, records = await gateway.call(
                    ActionType.TIMEPOINT_EVENT,
                    _event_context(),
                    TimepointEventResponse,
                    sampling=SamplingParams(seed=3),
                )
                assert records[-1].status.value == "ok"
        finally:
            await prov.aclose()
    formats = [(b.get("response_format") or {}).get("type") for b in server.chat_bodies()]
    assert formats == ["json_schema", "json_object", None, None]
    assert prov.structured_mode == "text"
    # The schema is still in the prompt, so plain text can follow it.
    assert '"event_description"' in server.chat_bodies()[-1]["messages"][1]["content"]
    assert isinstance(answer, TimepointEventResponse)


async def test_the_concurrency_limit_holds(store, tmp_path) -> None:
    async with FakeServer() as server:
        server.default_delay = 0.02
        prov = provider(server, concurrency=2)
        try:
            summary, _ = await run(small_scenario(tmp_path, turns=6), store, prov)
        finally:
            await prov.aclose()
    assert summary.status.value == "completed"
    assert server.max_in_flight == 2  # the engine had more to send; the provider held it to 2


async def test_the_requests_per_minute_limit_holds() -> None:
    """Three calls under a limit of two a minute: two go out at once, the third waits."""
    async with FakeServer() as server:
        prov = provider(server, concurrency=8, requests_per_minute=2)
        gateway = Gateway(prov)
        calls = [
            asyncio.create_task(
                gateway.call(
                    ActionType.DIALOG_TURN,
                    dialog_context(),
                    DialogTurnResponse,
                    sampling=SamplingParams(seed=n),
                )
            )
            for n in range(3)
        ]
        done, pending = await asyncio.wait(calls, timeout=1.0)
        assert len(done) == 2 and len(pending) == 1
        assert len(server.chat_bodies()) == 2  # the third was never sent
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await prov.aclose()


class _Gate:
    """A run's pause as the provider sees it; it notes when a queued call stops at it."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.open.set()
        self.waiting = asyncio.Event()

    @property
    def calls_held(self) -> bool:
        return not self.open.is_set()

    async def calls_released(self) -> None:
        self.waiting.set()
        await self.open.wait()


async def test_a_pause_holds_a_call_still_queued_at_the_provider() -> None:
    """Two of a run's calls, one connection: the pause comes while the first is at the server.
    The first finishes; the second, queued behind it, is not sent until the run resumes, and
    meanwhile an observer's question (never held) gets the connection."""
    from engine.llm.gate import gated

    gate = _Gate()

    def pause_on_first(seen, index: int) -> Reply | None:
        if index == 0:
            gate.open.clear()  # the user pauses while the first call is being answered
        return None

    async with FakeServer(pause_on_first) as server:
        prov = provider(server, concurrency=1)
        gateway = Gateway(prov)

        async def call(seed: int, gate_of_call: _Gate | None):
            with gated(gate_of_call):
                return await gateway.call(
                    ActionType.DIALOG_TURN,
                    dialog_context(),
                    DialogTurnResponse,
                    sampling=SamplingParams(seed=seed),
                )

        first = asyncio.create_task(call(1, gate))
        second = asyncio.create_task(call(2, gate))
        await first  # the call under way when the pause came finished
        await asyncio.wait_for(gate.waiting.wait(), 30)  # the queued one stopped at the gate
        assert [b["seed"] for b in server.chat_bodies()] == [1]
        await call(3, None)  # an observer's question goes through the freed connection
        assert [b["seed"] for b in server.chat_bodies()] == [1, 3]
        assert not second.done()
        gate.open.set()  # resume
        await second
        assert [b["seed"] for b in server.chat_bodies()] == [1, 3, 2]
        await prov.aclose()


async def test_cancelling_a_run_reaches_the_call_in_flight(store, tmp_path) -> None:
    async with FakeServer() as server:
        server.default_delay = 30  # never answers in time: only the cancellation ends it
        prov = provider(server)
        sim = Simulation(load_scenario(small_scenario(tmp_path)), provider=prov, store=store)
        task = asyncio.create_task(sim.run())
        while server.in_flight == 0:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        while server.disconnects == 0:  # the server saw the client hang up
            await asyncio.sleep(0.01)
        await prov.aclose()
    summary = await store.get_run(sim.run_id)
    assert summary.status.value == "stopped"
    rows = await store.table("llm_calls", sim.run_id)
    assert rows and rows[-1]["status"] == "failed" and rows[-1]["error"] == "cancelled"


async def test_a_failing_model_falls_back_along_the_chain() -> None:
    from engine.llm.registry import Router

    registry = load_registry()
    router = Router(provider="openrouter", default_model="routed", registry=registry)
    chain = router.chain(ActionType.DIALOG_TURN)
    assert len(chain) >= 2

    def script(seen, index):
        if seen.body["model"] == chain[0]:
            return Reply(status=404, body={"error": {"message": "no such model"}})
        return None

    async with FakeServer(script) as server:
        prov = OpenAIProvider(name="openrouter", base_url=server.url, model="routed")
        gateway = Gateway(prov, router=router, backoff=0)
        try:
            _, records = await gateway.call(
                ActionType.DIALOG_TURN, dialog_context(), DialogTurnResponse
            )
        finally:
            await prov.aclose()
    assert [(r.model, r.status.value) for r in records] == [
        (chain[0], "failed"),
        (chain[1], "ok"),
    ]
    # A hosted model is priced from the registry when the server reports no cost.
    profile = registry.get("openrouter", chain[1])
    assert profile is not None
    expected = profile.cost_usd(records[1].prompt_tokens, records[1].completion_tokens)
    assert records[1].cost_usd == pytest.approx(expected) and expected > 0


@respx.mock
async def test_a_reported_cost_wins_and_an_error_inside_a_200_is_caught() -> None:
    route = respx.post("http://api.test/v1/chat/completions")
    answer = json.dumps(answer_for({"messages": [{"role": "system", "content": "You are X"}]}))
    route.side_effect = [
        httpx.Response(200, json={"error": {"message": "overloaded", "code": 502}}),
        httpx.Response(
            200,
            json={
                "choices": [{"message": {"content": answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "cost": 0.0123},
            },
        ),
    ]
    prov = OpenAIProvider(name="openrouter", base_url="http://api.test/v1", model="m")
    try:
        _, records = await Gateway(prov, backoff=0).call(
            ActionType.DIALOG_TURN, dialog_context(), DialogTurnResponse
        )
    finally:
        await prov.aclose()
    assert [r.status.value for r in records] == ["failed", "ok"]
    assert "overloaded" in records[0].error
    assert records[1].cost_usd == 0.0123 and records[1].prompt_tokens == 10


# --------------------------------------------------------------------------- streamed JSON
@settings(max_examples=200, deadline=None)
@given(
    content=st.text(),
    cuts=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=40),
    before=st.sampled_from(["", "```json\n", "Here you go: "]),
)
def test_the_content_field_streams_exactly(content: str, cuts: list[int], before: str) -> None:
    doc = before + json.dumps(
        {"emotional_tone": "x {", "nested": {"content": "no"}, "content": content, "z": 1},
        ensure_ascii=bool(len(content) % 2),
    )
    streamer = FieldStreamer("content")
    out, i = [], 0
    for n in cuts * (len(doc) // max(1, sum(cuts)) + 1):
        out.append(streamer.feed(doc[i : i + n]))
        i += n
        if i >= len(doc):
            break
    out.append(streamer.feed(doc[i:]))
    assert "".join(out) == content and streamer.done


def _event_context():
    from datetime import datetime

    from engine.llm.contexts import ScenarioBrief, TimepointEventContext

    return TimepointEventContext(
        scenario=ScenarioBrief(
            name="s", title="S", description="A harbour at night, a strike.", location="Dock 4"
        ),
        index=0,
        count=2,
        phase="setup",
        timestamp=datetime(2030, 1, 1, 9),
        time_of_day="morning",
    )
