"""Kill -9 at any point, resume, and the run is the one an uninterrupted run would have been,
event for event, ids included; until it is resumed, a killed run shows as interrupted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from engine.llm.offline import OfflineProvider
from engine.model import events as ev
from engine.model.common import RunStatus
from engine.scenario import load_scenario
from engine.simulation import ResumeError, Simulation
from engine.store import Store

SCENARIO, SEED, RUN_ID = "vintners_council", 5, "run-crash"
CHILD = Path(__file__).with_name("crash_child.py")

# Where the process dies: during the set-up of the cast, as the first timepoint opens, in the
# middle of a dialog, as the second timepoint is about to be committed, as an extraction of the
# last timepoint returns, and just before the run's end is recorded.
KILL_POINTS = [
    ("entity_created", 2),
    ("timepoint_created", 1),
    ("dialog_turn_finished", 3),
    ("timepoint_completed", 2),
    ("run_finished", 1),
]


def _comparable(events: list[ev.EventBase]) -> list[dict]:
    """The log as a user would compare it: what happened, in order, with its ids; the seq
    numbers aside (a resumption adds its own event) and RunResumed dropped."""
    out = []
    for e in events:
        if isinstance(e, ev.RunResumed):
            continue
        dump = e.deterministic_dump()
        dump.pop("seq")
        out.append(dump)
    return out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    import asyncio

    async def run() -> list[dict]:
        store = await Store.open(tmp_path_factory.mktemp("whole") / "whole.db")
        try:
            await Simulation(
                load_scenario(SCENARIO),
                provider=OfflineProvider(SEED),
                store=store,
                seed=SEED,
                run_id=RUN_ID,
            ).run()
            return _comparable(await store.events(RUN_ID))
        finally:
            await store.close()

    return asyncio.run(run())


def _kill_at(db: Path, kind: str, n: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(CHILD), str(db), SCENARIO, str(SEED), RUN_ID, kind, str(n)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -9, f"the child was not killed: {done.returncode} {done.stderr}"


@pytest.mark.parametrize(("kind", "n"), KILL_POINTS, ids=[f"{k}-{n}" for k, n in KILL_POINTS])
async def test_a_killed_run_resumes_to_the_uninterrupted_run(
    tmp_path: Path, uninterrupted: list[dict], kind: str, n: int
) -> None:
    db = tmp_path / "crash.db"
    _kill_at(db, kind, n)
    store = await Store.open(db)
    try:
        killed = await store.get_run(RUN_ID)
        assert killed.status is RunStatus.INTERRUPTED
        assert [r.status for r in await store.list_runs()] == [RunStatus.INTERRUPTED]
        before = len(await store.events(RUN_ID))
        assert 0 < before < len(uninterrupted)
        sim = await Simulation.resume(store, RUN_ID, provider=OfflineProvider(SEED))
        summary = await sim.run()
        assert summary.status is RunStatus.COMPLETED
        assert _comparable(await store.events(RUN_ID)) == uninterrupted
    finally:
        await store.close()


async def test_a_run_being_written_cannot_be_resumed(tmp_path: Path) -> None:
    """Another writer holds the run's lease: resuming it is refused, and it reads as running."""
    db = tmp_path / "held.db"
    _kill_at(db, "timepoint_created", 2)
    writer, other = await Store.open(db), await Store.open(db)
    try:
        await writer.take_lease(RUN_ID)
        assert (await other.get_run(RUN_ID)).status is RunStatus.RUNNING
        with pytest.raises(ResumeError, match="being written by another timeloom process"):
            await Simulation.resume(other, RUN_ID, provider=OfflineProvider(SEED))
        await writer.end_lease(RUN_ID)
        assert (await other.get_run(RUN_ID)).status is RunStatus.INTERRUPTED
    finally:
        await writer.close()
        await other.close()


def test_the_commands_show_a_killed_run_and_refuse_a_held_one(tmp_path: Path, capsys) -> None:
    import asyncio

    from tui.cli import main

    db = tmp_path / "cli.db"
    _kill_at(db, "timepoint_created", 2)
    assert main(["runs", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "interrupted" in out and f"timeloom resume {RUN_ID}" in out

    async def hold() -> Store:
        writer = await Store.open(db)
        await writer.take_lease(RUN_ID)
        return writer

    loop = asyncio.new_event_loop()
    try:
        writer = loop.run_until_complete(hold())
        assert main(["resume", RUN_ID, "--db", str(db)]) == 2
        err = capsys.readouterr().err.strip()
        assert "being written by another timeloom process" in err
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        loop.run_until_complete(writer.close())
    finally:
        loop.close()
    assert main(["resume", RUN_ID, "--db", str(db), "--json"]) == 0
    assert '"status": "completed"' in capsys.readouterr().out
