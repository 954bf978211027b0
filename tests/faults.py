"""Seeded provider faults for the fake server (:mod:`test_llm_fakeserver`): a script that makes
about ``rate`` of the requests misbehave in one of the ways a real provider does (429 with and
without Retry-After, 5xx, a hang past the client's timeout, a stream cut short, text that is not
JSON, an object that fails validation), and the runs the fault tests and ``bench/`` make with it.

Which request fails, and how, depends only on the seed, the request's body and how many times
that same body was sent before (its attempt), never on the order concurrent calls arrive in: the
same run against the same plan meets the same faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from test_llm_fakeserver import FakeServer, Reply, Seen

KINDS = (
    "429 with Retry-After",
    "429 without Retry-After",
    "5xx",
    "hang",
    "truncated stream",
    "not JSON",
    "fails validation",
)
HANG = 5.0  # seconds a hung request waits; the client's timeout is far shorter


def reply_for(kind: str, streamed: bool) -> Reply:
    """How a fault of ``kind`` answers (a cut stream, asked without streaming, drops instead)."""
    if kind == "429 with Retry-After":
        return Reply(status=429, headers={"Retry-After": "0"}, body={"error": "slow down"})
    if kind == "429 without Retry-After":
        return Reply(status=429, body={"error": {"message": "rate limited"}})
    if kind == "5xx":
        return Reply(status=503, body={"error": {"message": "upstream overloaded"}})
    if kind == "hang":
        return Reply(delay=HANG)
    if kind == "truncated stream":
        return Reply(truncate=True) if streamed else Reply(drop=True)
    if kind == "not JSON":
        return Reply(text="Sure! Here is what happens next: the lamps go out.")
    return Reply(text=json.dumps({"unexpected": ["a", "reply"], "content": 7}))


@dataclass
class FaultPlan:
    """A fake server's script: about ``rate`` of the chat requests fail, seeded."""

    seed: int
    rate: float = 0.3
    attempts: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)  # by kind

    def __call__(self, seen: Seen, index: int) -> Reply | None:
        if not seen.path.endswith("/chat/completions"):
            return None
        body = json.dumps(
            {k: v for k, v in seen.body.items() if k != "stream_options"}, sort_keys=True
        )
        digest = hashlib.sha256(body.encode()).hexdigest()
        self.attempts[digest] += 1
        draw = hashlib.sha256(f"{self.seed}:{digest}:{self.attempts[digest]}".encode()).digest()
        if int.from_bytes(draw[:4], "big") / 2**32 >= self.rate:
            return None
        kind = KINDS[draw[4] % len(KINDS)]
        self.injected[kind] += 1
        return reply_for(kind, bool(seen.body.get("stream")))


def small_scenario(
    folder: Path, templates: Path, *, count: int = 2, turns: int = 2, generated: int = 0
) -> str:
    """harbor_strike cut down to ``count`` timepoints of ``turns`` dialog turns, presence
    inferred (so every kind of call is made), with ``generated`` more people made by a
    population call, written to ``folder``."""
    data = json.loads((templates / "harbor_strike.json").read_text())
    data["timeline"]["count"] = count
    if generated:
        data["entity_count"] = len(data["entities"]) + generated
    data["dialog"] = {"turns": turns, "max_speakers": 2, "parallel": 2}
    for beat in data["timeline"]["beats"]:
        beat.pop("present", None)
    path = folder / "faulty.json"
    path.write_text(json.dumps(data))
    return str(path)


def small_branching(folder: Path, templates: Path) -> str:
    """lighthouse_log (BRANCHING) cut down: two trunk timepoints, then two named courses for one
    more timepoint each, two dialog turns a timepoint."""
    data = json.loads((templates / "lighthouse_log.json").read_text())
    data["timeline"]["count"] = 3
    data["timeline"]["beats"] = data["timeline"]["beats"][:3]
    data["dialog"] = {"turns": 2, "max_speakers": 2, "parallel": 1}
    data["branching"]["decision_at"] = 2
    data["branching"]["count"] = 2
    data["branching"]["alternatives"] = data["branching"]["alternatives"][:2]
    path = folder / "faulty_branching.json"
    path.write_text(json.dumps(data))
    return str(path)


@dataclass
class FaultRun:
    """What one run against a faulty server did, and what its replay did."""

    status: str
    reason: str | None
    made: int  # chat requests the server saw
    recorded: int  # rows in llm_calls
    counted: int  # the run's own count of calls
    injected: dict[str, int]
    replay_status: str = ""
    replay_reason: str | None = None
    replay_same: bool = False  # the replay's log equals the recording's, event for event
    code: int = 0
    replay_code: int = 0

    @property
    def honest(self) -> bool:
        """Completed, or failed/stopped with a reason; and every attempt recorded."""
        ended = self.status == "completed" or (
            self.status in ("failed", "stopped") and bool(self.reason)
        )
        return ended and self.made == self.recorded == self.counted


def comparable(events: list[Any]) -> list[dict[str, Any]]:
    """A run's log without what legitimately differs between a recording and its replay:
    the run id, the wall-clock fields, latencies, and whether a call was answered from the
    cassette."""
    drop = {
        "run_id",
        "started_at",
        "finished_at",
        "resumed_at",
        "wall_seconds",
        "latency_ms",
        "cached",
        "cached_calls",
    }
    out = []
    for e in events:
        dump = e.deterministic_dump()
        out.append(_without(dump, drop))
    return out


def _without(value: Any, drop: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, drop) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [_without(v, drop) for v in value]
    return value


class ServerThread:
    """A fake server on its own event loop in a thread, for commands that run their own loop
    (``tui.cli.main``), as a real provider runs beside timeloom."""

    def __init__(self, script: Any = None) -> None:
        self.script = script
        self.server: FakeServer | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        self.server = FakeServer(self.script)
        asyncio.run_coroutine_threadsafe(self.server.__aenter__(), self._loop).result(10)
        return self.server

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        asyncio.run_coroutine_threadsafe(self.server.__aexit__(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def provider_config(folder: Path, url: str, *, timeout: float = 0.3) -> Path:
    """A config file for the fake server: short timeouts and backoff, three attempts a call."""
    path = folder / "faulty.toml"
    path.write_text(
        "[provider]\n"
        'name = "llamacpp"\n'
        f'base_url = "{url}"\n'
        'model = "fake-model"\n'
        f"timeout = {timeout}\n"
        "connect_timeout = 1.0\n"
        "max_attempts = 3\n"
        "backoff = 0.001\n"
        "max_backoff = 0.01\n"
        # as many calls at once as a run makes: the fake server is asked for nothing else
        # (a llama.cpp preset would first ask it how many it serves, and shift the fault plan)
        "concurrency = 8\n"
    )
    return path


def run_cli(args: list[str], config: Path, *, as_json: bool = True) -> tuple[int, Any, str]:
    """``timeloom ARGS --json`` in this process: its exit status, its JSON (its text without
    ``as_json``) and its stderr."""
    import contextlib
    import io
    import os

    from tui.cli import common, main

    common._CONFIG = None  # the command line reads its configuration once a process
    out, err = io.StringIO(), io.StringIO()
    before = os.environ.get("TIMELOOM_CONFIG")
    os.environ["TIMELOOM_CONFIG"] = str(config)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*args, "--json"] if as_json else args)
    finally:
        if before is None:
            os.environ.pop("TIMELOOM_CONFIG", None)
        else:
            os.environ["TIMELOOM_CONFIG"] = before
        common._CONFIG = None
    text = out.getvalue().strip()
    if not as_json:
        return code, text, err.getvalue()
    return code, json.loads(text) if text else None, err.getvalue()


def fault_run(folder: Path, scenario: str, *, seed: int, rate: float = 0.3) -> FaultRun:
    """``timeloom run`` of ``scenario`` against a server failing ``rate`` of its requests
    (seeded by ``seed``), then ``timeloom run --replay`` of it, into ``folder``/runs.db."""
    import sqlite3

    from engine.store import Store

    db = folder / "runs.db"
    plan = FaultPlan(seed, rate)
    with ServerThread(plan) as server:
        config = provider_config(folder, server.url)
        code, data, err = run_cli(["run", scenario, "--headless", "--db", str(db)], config)
        made = len(server.chat_bodies())
    assert data is not None, f"the run printed no JSON (exit {code}): {err}"
    run_id = data["run_id"]
    with contextlib.closing(sqlite3.connect(db)) as conn:
        recorded = conn.execute("SELECT COUNT(*) FROM llm_calls WHERE run_id = ?", (run_id,))
        recorded_n = int(recorded.fetchone()[0])
    result = FaultRun(
        status=data["status"],
        reason=data.get("reason"),
        made=made,
        recorded=recorded_n,
        counted=data["llm_calls"],
        injected=dict(plan.injected),
        code=code,
    )
    # the replay needs no server: nothing is sent
    again, replayed, err = run_cli(
        ["run", "--replay", run_id, "--headless", "--db", str(db)], config
    )
    assert replayed is not None, f"the replay printed no JSON (exit {again}): {err}"
    result.replay_status = replayed["status"]
    result.replay_reason = replayed.get("reason")
    result.replay_code = again

    async def logs() -> bool:
        store = await Store.open(db)
        try:
            return comparable(await store.events(run_id)) == comparable(
                await store.events(replayed["run_id"])
            )
        finally:
            await store.close()

    result.replay_same = asyncio.run(logs())
    return result
