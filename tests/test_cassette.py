"""Cassettes: record a run, replay it bit-identically with the network disabled and at zero
cost, re-use a shared prefix, and carry a cassette from one database to another."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import pytest
from conftest import ROOT, persisted
from test_llm_fakeserver import FakeServer, Reply, Seen
from test_llm_openai import small_scenario

from engine.llm.budget import Budget
from engine.llm.cassette import (
    CassetteFileError,
    ReplayProvider,
    Transcripts,
    read_file,
    write_file,
)
from engine.llm.openai import OpenAIProvider
from engine.llm.registry import Router
from engine.model import events as ev
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store

MODEL = "deepseek/deepseek-chat"  # priced in the registry, so the recording costs something


def router() -> Router:
    return Router(provider="openrouter", default_model=MODEL, fixed_model=MODEL)


def priced_router() -> Router:
    from engine.llm.registry import load_registry

    return Router(
        provider="openrouter", default_model=MODEL, fixed_model=MODEL, registry=load_registry()
    )


async def record(store: Store, path: str, server: FakeServer, **options):
    prov = OpenAIProvider(name="openrouter", base_url=server.url, model=MODEL)
    options.setdefault("router", priced_router())
    sim = Simulation(
        load_scenario(path), provider=prov, store=store, seed=5, retry={"backoff": 0}, **options
    )
    seen: list[ev.EventBase] = []
    try:
        summary = await sim.run(seen.append)
    finally:
        await prov.aclose()
    return summary, seen


async def replay(store: Store, path: str, **options):
    """Replay the run ``record`` made (seed 5), from the cassette alone."""
    sim = Simulation(
        load_scenario(path),
        provider=ReplayProvider("openrouter", MODEL),
        store=store,
        seed=5,
        router=priced_router(),
        budget=Budget(),
        replay=True,
        **options,
    )
    seen: list[ev.EventBase] = []
    return await sim.run(seen.append), seen


def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self, address):
        raise AssertionError(f"a replay tried to connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def stream(events) -> list[dict]:
    return [e.deterministic_dump() for e in persisted(events)]


async def test_a_recorded_run_replays_identically_offline_and_free(
    store, tmp_path, monkeypatch
) -> None:
    path = small_scenario(tmp_path)
    async with FakeServer() as server:
        original, recorded = await record(store, path, server)
    assert original.status.value == "completed" and original.cost_usd > 0
    assert await store.cassette_count() == original.counts.llm_calls

    no_network(monkeypatch)
    replayed, seen = await replay(store, path)
    assert replayed.status.value == "completed"
    assert stream(seen) == stream(recorded)
    # Nothing was spent; the run holds what the recording held, answered from the cassette.
    assert replayed.spent_usd == 0.0 and replayed.spent_tokens == 0
    assert replayed.cached_calls == replayed.counts.llm_calls == original.counts.llm_calls
    assert (replayed.tokens, replayed.cost_usd) == (original.tokens, original.cost_usd)
    finished = next(e for e in seen if isinstance(e, ev.RunFinished))
    assert finished.cached_calls == original.counts.llm_calls and finished.spent_usd == 0
    assert all(e.cached for e in seen if isinstance(e, ev.LLMCallFinished))
    # The streamed text is there too, for the reader.
    chunks = "".join(e.text for e in seen if isinstance(e, ev.DialogTokens))
    assert chunks and chunks == "".join(
        e.turn.content for e in seen if isinstance(e, ev.DialogTurnFinished)
    )


async def test_a_replay_plays_back_the_errors_the_recording_met(
    store, tmp_path, monkeypatch
) -> None:
    """Retried errors, a repaired answer and a turn that never succeeded come back in the
    replay exactly as they happened, still with no network and at no cost."""

    def script(seen: Seen, index: int) -> Reply | None:
        user = seen.body["messages"][1]["content"] if len(seen.body["messages"]) > 1 else ""
        if "Turn 3 of 4" in user:
            return Reply(status=500, body={"error": {"message": "the GPU fell over"}})
        if index == 2:
            return Reply(status=429, headers={"Retry-After": "0"}, body={"error": "slow down"})
        if index == 5:
            return Reply(text="this is not the JSON you asked for")
        return None

    path = small_scenario(tmp_path)
    async with FakeServer(script) as server:
        original, recorded = await record(store, path, server)
    calls = [e for e in recorded if isinstance(e, ev.LLMCallFinished)]
    failed = [c for c in calls if c.status.value == "failed"]
    assert original.status.value == "completed"
    assert len({c.error for c in failed}) >= 3  # a 429, a bad answer, the 500s
    assert [e for e in recorded if isinstance(e, ev.DialogTurnFailed)]

    attempts = (await store.run_descriptor(original.run_id))["attempts"]
    assert len(attempts) == len(calls)
    no_network(monkeypatch)
    replayed, seen = await replay(store, path, transcripts=Transcripts(attempts))
    assert stream(seen) == stream(recorded)
    assert replayed.spent_tokens == 0 and replayed.spent_usd == 0.0
    assert replayed.tokens == original.tokens
    assert all(e.cached for e in seen if isinstance(e, ev.LLMCallFinished))


async def test_a_replay_that_asks_something_new_fails_that_step_honestly(store, tmp_path) -> None:
    path = small_scenario(tmp_path)
    async with FakeServer() as server:
        await record(store, path, server)
    sim = Simulation(
        load_scenario(path),
        provider=ReplayProvider("openrouter", MODEL),
        store=store,
        seed=6,  # another seed: other requests, none of them recorded
        router=priced_router(),
        replay=True,
    )
    summary = await sim.run()
    assert summary.status.value == "failed" and "cassette has no answer" in summary.status_reason


async def test_a_run_sharing_a_prefix_reuses_the_recorded_calls(store, tmp_path) -> None:
    path = small_scenario(tmp_path)
    async with FakeServer() as server:
        stopped, _ = await record(store, path, server, budget=Budget(tokens=12_000))
        assert stopped.status.value == "stopped"
        asked_before = len(server.chat_bodies())
        full, events = await record(store, path, server, budget=Budget())
        asked_after = len(server.chat_bodies())
    assert full.status.value == "completed"
    cached = [e for e in events if isinstance(e, ev.LLMCallFinished) and e.cached]
    fresh = [e for e in events if isinstance(e, ev.LLMCallFinished) and not e.cached]
    assert cached and fresh
    assert asked_after - asked_before == len(fresh)  # only the new calls reached the server
    assert full.counts.llm_calls == len(cached) + len(fresh)


async def test_cassette_files_move_between_databases_and_replay_there(tmp_path, monkeypatch):
    path = small_scenario(tmp_path)
    first = tmp_path / "first.db"
    store = await Store.open(first)

    def busy_once(seen: Seen, index: int) -> Reply | None:
        return Reply(status=429, headers={"Retry-After": "0"}, body={}) if index == 1 else None

    try:
        async with FakeServer(busy_once) as server:
            original, recorded = await record(store, path, server)
    finally:
        await store.close()
    answered = {
        e.request_hash
        for e in recorded
        if isinstance(e, ev.LLMCallFinished) and e.status.value == "ok"
    }
    cassette = tmp_path / "run.cassette.json"
    env = {**os.environ, "TIMELOOM_CONFIG": str(tmp_path / "none.toml")}
    (tmp_path / "none.toml").write_text("")

    async def cli(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tui.cli",
            *args,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        return proc.returncode or 0, out.decode(), err.decode()

    code, out, err = await cli(
        "cassette", "export", original.run_id, str(cassette), "--db", str(first)
    )
    assert code == 0, err
    runs, entries = read_file(cassette)
    assert runs[0]["run_id"] == original.run_id and len(entries) == len(answered)
    # The file carries every attempt too (the retried 429 included), for a faithful replay.
    attempts = runs[0]["attempts"]
    assert len(attempts) == original.counts.llm_calls
    assert [a["status"] for a in attempts].count("failed") == 1
    code, _, err = await cli(
        "cassette", "export", original.run_id, str(cassette), "--db", str(first)
    )
    assert code == 2 and "already exists" in err  # never over an existing file

    second = tmp_path / "second.db"
    code, out, err = await cli("cassette", "import", str(cassette), "--db", str(second))
    assert code == 0 and f"imported {len(entries)} new answers" in out, err
    code, out, err = await cli(
        "run", "--replay", original.run_id[:12], "--json", "--db", str(second)
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "completed"
    assert result["spent_usd"] == 0 and result["spent_tokens"] == 0
    assert result["cached_calls"] == result["llm_calls"] == original.counts.llm_calls

    store = await Store.open(second)
    try:
        replayed = await store.events(result["run_id"])
    finally:
        await store.close()
    assert [e.deterministic_dump() for e in replayed] == stream(recorded)


def test_cassette_files_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(CassetteFileError, match="not a timeloom cassette"):
        read_file(bad)
    bad.write_text("not json")
    with pytest.raises(CassetteFileError, match="not valid JSON"):
        read_file(bad)
    with pytest.raises(CassetteFileError, match="no file"):
        read_file(tmp_path / "missing.json")
    write_file(tmp_path / "ok.json", [], [])
    assert read_file(tmp_path / "ok.json") == ([], [])
