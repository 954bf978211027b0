"""Kill -9 at any point, resume, and the run is the one an uninterrupted run would have been,
event for event, ids included; until it is resumed, a killed run shows as interrupted. SIGTERM
at any point stops the run as ``stopped`` ("stopped by SIGTERM"); resumed, it is the
uninterrupted run too, plus what the stop itself recorded (the calls the discarded timepoint had
made, and the stop), its re-made timepoint's calls named as a second attempt."""

from __future__ import annotations

import json
import os
import re
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
from engine.view.tally import RunTally

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
# SIGTERM at the same points (but the last: the run would be over before the signal is handled).
TERM_POINTS = KILL_POINTS[:-1]


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


def _stop_left_out(events: list[ev.EventBase]) -> tuple[list[dict], list[ev.EventBase]]:
    """A stopped-and-resumed log as :func:`_comparable`, without what the stop recorded (the
    calls of the timepoint it discarded, and its RunFinished) and with each attempt's call ids
    as the first attempt's (``tp02~2/turn01`` is ``tp02/turn01``); and the calls the stop kept."""
    kept: list[ev.EventBase] = []
    stop_calls: list[ev.EventBase] = []
    for e in events:
        if isinstance(e, ev.RunFinished) and e.status is RunStatus.STOPPED:
            while kept and isinstance(kept[-1], ev.LLMCallFinished):
                stop_calls.append(kept.pop())
            continue
        kept.append(e)
    same = [json.loads(re.sub(r"~\d+/", "/", json.dumps(d))) for d in _comparable(kept)]
    return same, stop_calls


def _kill_at(db: Path, kind: str, n: int, how: str = "KILL") -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(CHILD), str(db), SCENARIO, str(SEED), RUN_ID, kind, str(n), how],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    expected = -9 if how == "KILL" else 0
    assert done.returncode == expected, f"the child did not stop: {done.returncode} {done.stderr}"
    return done.stdout.strip()


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


@pytest.mark.parametrize(("kind", "n"), TERM_POINTS, ids=[f"{k}-{n}" for k, n in TERM_POINTS])
async def test_a_terminated_run_is_stopped_and_resumes_to_the_uninterrupted_run(
    tmp_path: Path, uninterrupted: list[dict], kind: str, n: int
) -> None:
    db = tmp_path / "term.db"
    assert _kill_at(db, kind, n, "TERM") == "stopped: stopped by SIGTERM"
    store = await Store.open(db)
    try:
        stopped = await store.get_run(RUN_ID)
        assert (stopped.status, stopped.status_reason) == (RunStatus.STOPPED, "stopped by SIGTERM")
        log = await store.events(RUN_ID)
        assert 0 < len(log) < len(uninterrupted)
        # the stop's counts agree with its log, even when it came in the middle of a commit
        end = log[-1]
        assert isinstance(end, ev.RunFinished) and end.status is RunStatus.STOPPED
        assert end.counts == RunTally.of(log[:-1]).counts()
        sim = await Simulation.resume(store, RUN_ID, provider=OfflineProvider(SEED))
        summary = await sim.run()
        assert summary.status is RunStatus.COMPLETED
        events = await store.events(RUN_ID)
        same, stop_calls = _stop_left_out(events)
        # the run's counts are the uninterrupted run's, and the stop's calls on top
        counts, whole = same[-1].pop("counts"), dict(uninterrupted[-1])
        expected = whole.pop("counts")
        assert same[:-1] == uninterrupted[:-1] and same[-1] == whole
        spent = sum(c.prompt_tokens + c.completion_tokens for c in stop_calls)
        assert counts["prompt_tokens"] + counts["completion_tokens"] == spent + (
            expected["prompt_tokens"] + expected["completion_tokens"]
        )
        assert {k: v for k, v in counts.items() if "tokens" not in k and k != "llm_calls"} == {
            k: v for k, v in expected.items() if "tokens" not in k and k != "llm_calls"
        }
        # what the stop kept is what the uninterrupted run made at that point, call for call
        # (recorded at the stop, a call bears the time the run stood at then)
        by_id = {d["call_id"]: d for d in uninterrupted if d["type"] == "llm_call_finished"}
        for call in stop_calls:
            dump = _comparable([call])[0]
            assert {**by_id[dump["call_id"]], "sim_time": None} == {**dump, "sim_time": None}
        calls = [e for e in events if isinstance(e, ev.LLMCallFinished)]
        assert summary.counts.llm_calls == len(calls) == len(by_id) + len(stop_calls)
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("how", "reason"), [("HUP", "the terminal hung up"), ("INT", "interrupted (Ctrl+C)")]
)
async def test_a_hang_up_or_ctrl_c_stops_the_run_with_its_own_reason(
    tmp_path: Path, uninterrupted: list[dict], how: str, reason: str
) -> None:
    db = tmp_path / "signal.db"
    assert _kill_at(db, "dialog_turn_finished", 3, how) == f"stopped: {reason}"
    store = await Store.open(db)
    try:
        stopped = await store.get_run(RUN_ID)
        assert (stopped.status, stopped.status_reason) == (RunStatus.STOPPED, reason)
        sim = await Simulation.resume(store, RUN_ID, provider=OfflineProvider(SEED))
        assert (await sim.run()).status is RunStatus.COMPLETED
        same, _ = _stop_left_out(await store.events(RUN_ID))
        assert same[:-1] == uninterrupted[:-1]
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
