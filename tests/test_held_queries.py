"""Queries asked while a run goes on change it (M5, M2): from the World's next timepoint on, the
people asked are raised, and a replay asks them again at the same point and makes the same run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from conftest import TEMPLATES

from engine.config import Config
from engine.llm.offline import OfflineProvider
from engine.model import events as ev
from engine.model.common import ResolutionLevel as L
from engine.query.execute import Consent
from engine.reopen import prepare_replay
from engine.scenario import load_scenario
from engine.simulation import RunControl, Simulation

YES = Consent(elevate=True, create=True)


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def _minimal(tmp_path: Path) -> str:
    data = json.loads((TEMPLATES / "snowbound_ward.json").read_text())
    data["fidelity"] = {"template": "minimal"}
    path = tmp_path / "ward-minimal.json"
    path.write_text(json.dumps(data))
    return str(path)


async def _run(store, path: str, questions=()) -> tuple[str, list]:
    """The scenario run live; with ``questions``, each asked of the run while it holds
    after its first timepoint (the run goes on once they are answered)."""
    control = RunControl()
    if questions:
        control.step()  # one timepoint, then hold at the gate
    sim = Simulation(
        load_scenario(path), provider=OfflineProvider(2), store=store, seed=2, control=control
    )
    first = asyncio.Event()

    def watch(event) -> None:
        if isinstance(event, ev.TimepointCompleted):
            first.set()

    task = asyncio.create_task(sim.run(watch))
    if questions:
        await first.wait()
        for text in questions:
            await sim.query(text, consent=YES)
        control.resume()
    summary = await task
    assert summary.status.value == "completed", summary.status_reason
    return summary.run_id, await store.events(summary.run_id)


def _levels(events, tp: str) -> dict[str, L]:
    return next(p for p in of(events, ev.FidelityPlanned) if p.timepoint_id == tp).levels


async def test_questions_asked_during_a_run_raise_the_person_from_the_next_timepoint(
    store, tmp_path
) -> None:
    path = _minimal(tmp_path)
    _, quiet = await _run(store, path)
    plain = _levels(quiet, "tp02")
    who = min(sorted(plain), key=lambda k: plain[k].rank)  # someone carried low at tp02
    assert plain[who].rank < L.DIALOG.rank
    asks = [f"@{who}@tp01 what did you see?", f"@{who}@tp01 and what will you do next?"]
    run_id, events = await _run(store, path, asks)
    applied = of(events, ev.QueriesApplied)
    assert [s.query_ids for s in applied] == [("q0001", "q0002")]
    created = next(
        e
        for e in events
        if isinstance(e, ev.TimepointCreated) and e.timepoint.timepoint_id == "tp02"
    )
    answered = of(events, ev.QueryAnswered)
    assert max(a.seq for a in answered) < applied[0].seq < created.seq
    # asked twice: raised to dialog for the timepoints that follow (M2), where nobody asked
    # of the quiet run
    assert _levels(events, "tp02")[who].rank >= L.DIALOG.rank
    assert _levels(events, "tp01") == _levels(quiet, "tp01"), "what was made before stays"

    replay = await prepare_replay(store, Config(), run_id)
    copy = await replay.simulation.run()
    again = await store.events(copy.run_id)
    assert [e.deterministic_dump() for e in again] == [e.deterministic_dump() for e in events]


def _made(events) -> list[tuple]:
    """What a run made, moment by moment: who was at which level, who said what."""
    out: list[tuple] = []
    for e in events:
        if isinstance(e, ev.FidelityPlanned):
            out.append((e.timepoint_id, tuple(sorted((k, v.value) for k, v in e.levels.items()))))
        elif isinstance(e, ev.DialogTurnFinished):
            out.append((e.turn.speaker, e.turn.content))
        elif isinstance(e, ev.QueriesApplied):
            out.append(("applied", e.branch_id, e.index, e.query_ids, e.prefetched))
    return out


async def test_a_question_asked_while_the_run_goes_on_replays_to_the_same_run(
    store, tmp_path
) -> None:
    """Not paused: the question is answered while later timepoints are being made, reaches
    the World at whichever boundary comes next, and a replay makes the same timepoints."""
    path = _minimal(tmp_path)
    sim = Simulation(
        load_scenario(path), provider=OfflineProvider(2, chars_per_second=4000), store=store, seed=2
    )
    asked: list[asyncio.Task] = []

    def watch(event) -> None:
        if isinstance(event, ev.TimepointCompleted) and not asked:
            plan = _levels(seen, "tp01")
            who = min(sorted(plan), key=lambda k: plan[k].rank)
            text = f"@{who}@tp01 what will you do next?"
            asked.append(asyncio.create_task(sim.query(text, consent=YES)))

    seen: list = []
    summary = await sim.run(lambda e: (seen.append(e), watch(e)))
    await asked[0]
    events = await store.events(summary.run_id)
    applied = of(events, ev.QueriesApplied)
    assert [s.query_ids for s in applied] == [("q0001",)]
    replay = await prepare_replay(store, Config(), summary.run_id)
    copy = await replay.simulation.run()
    assert _made(await store.events(copy.run_id)) == _made(events)
