"""An API key is sent to the server and written nowhere else: not in the database (or its WAL
and shared-memory files), not in an export, not in the output, not in an error message."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from conftest import ROOT
from test_llm_fakeserver import FakeServer, Reply
from test_llm_openai import small_scenario

KEY = "sk-or-v1-TESTKEY-5f3a9c1e7d2b4a6f8e0c"


async def test_the_key_never_leaves_the_request(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.toml").write_text("")
    db = work / "runs.db"
    scenario = small_scenario(tmp_path)

    def script(seen, index):
        if index == 2:  # an error whose body quotes the key back, as careless servers do
            auth = seen.headers.get("authorization", "")
            return Reply(status=500, body={"error": {"message": f"bad upstream for {auth}"}})
        return None

    outputs: list[bytes] = []

    async def cli(*args: str) -> int:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TIMELOOM_")},
            "TIMELOOM_CONFIG": str(work / "config.toml"),
            "OPENROUTER_API_KEY": KEY,
            "TIMELOOM_DEBUG": "",
        }
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
        outputs.extend([out, err])
        return proc.returncode or 0

    async with FakeServer(script) as server:
        common = ("--provider", "openrouter", "--base-url", server.url, "--db", str(db))
        code = await cli("run", scenario, *common, "--model", "deepseek/deepseek-chat", "--json")
        assert code == 0, b"".join(outputs).decode()
        # A server that refuses the key: the error names the variable, not the value.
        server.script = lambda seen, index: Reply(status=401, body={"error": seen.headers})
        code = await cli(
            "run", scenario, *common, "--model", "deepseek/deepseek-chat", "--no-cache"
        )
    assert code == 1
    assert b"OPENROUTER_API_KEY" in outputs[-1] + outputs[-2]
    # The key did reach the server, in the header and only there.
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in server.requests)
    assert any("bad upstream for Bearer [redacted]" in r for r in await _errors(db))

    assert await cli("runs", "--json", "--db", str(db)) == 0
    assert await cli("show", "latest", "--db", str(db)) == 2  # an error message, too
    run_id = (await _run_ids(db))[0]
    assert await cli("show", run_id, "--json", "--db", str(db)) == 0
    assert await cli("cassette", "export", run_id, str(work / "c.json"), "--db", str(db)) == 0

    files = [p for p in work.rglob("*") if p.is_file()]
    assert db in files and (work / "c.json") in files
    for path in files:
        assert KEY.encode() not in path.read_bytes(), f"the key leaked into {path.name}"
    for stream in outputs:
        assert KEY.encode() not in stream


async def _errors(db: Path) -> list[str]:
    from engine.store import Store

    store = await Store.open(db)
    try:
        rows = []
        for run in await store.list_runs():
            rows += [r["error"] or "" for r in await store.table("llm_calls", run.run_id)]
        return rows
    finally:
        await store.close()


async def _run_ids(db: Path) -> list[str]:
    from engine.store import Store

    store = await Store.open(db)
    try:
        return [r.run_id for r in await store.list_runs()]
    finally:
        await store.close()
