"""One fold: the live view, the reopened view, ``runs --json``, ``show --json`` and the run's
``RunFinished`` count a run the same way, for a run with cassette hits, failed extractions and
a failed timepoint."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from conftest import ScriptedProvider

from engine.llm.contexts import DialogExtractionContext
from engine.llm.protocol import ActionType, LLMRequest
from engine.model import events as ev
from engine.model.common import RunStatus
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store
from engine.view import RunView
from tui.cli import main

COUNTS = (
    "entities",
    "timepoints",
    "dialog_turns",
    "exposure_events",
    "llm_calls",
    "failed_steps",
    "queries",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "spent_tokens",
    "spent_usd",
    "cached_calls",
)


class Cacheable(ScriptedProvider):
    cacheable = True


def _fails(request: LLMRequest, _n: int) -> bool:
    """Fail by what is asked, not by how many calls came before, so that a second run fails
    at the same places whatever the cassette answered."""
    context = request.context
    if request.action is ActionType.KNOWLEDGE_EXTRACTION:  # a turn's call, or a dialog's
        turns = context.turns if isinstance(context, DialogExtractionContext) else (context.turn,)
        failing = {("tp01", 1), ("tp02", 0)}
        return any((context.timepoint_id, t.turn_index) in failing for t in turns)
    if request.action is ActionType.TIMEPOINT_EVENT:
        return context.index >= context.count - 1
    return False


async def _run(store: Store) -> list[ev.EventBase]:
    sim = Simulation(
        load_scenario("vintners_council"),
        provider=Cacheable(3, fail=_fails),
        store=store,
        seed=3,
        cache=True,
        retry={"max_attempts": 1, "backoff": 0},
    )
    seen: list[ev.EventBase] = []
    await sim.run(seen.append)
    return seen


def _cli_json(capsys, *args: str) -> object:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


async def _two_runs(db: Path) -> tuple[list[ev.EventBase], RunView]:
    store = await Store.open(db)
    try:
        await _run(store)  # records the cassette
        seen = await _run(store)  # answered from it where the first run succeeded
        return seen, await store.load_view(seen[0].run_id)
    finally:
        await store.close()


def test_every_reader_counts_the_run_the_same(tmp_path: Path, capsys) -> None:
    db = tmp_path / "parity.db"
    seen, reopened = asyncio.run(_two_runs(db))
    start = next(e for e in seen if isinstance(e, ev.RunStarted))
    finished = next(e for e in seen if isinstance(e, ev.RunFinished))
    live = RunView.starting(start)
    for event in seen[1:]:
        live.apply(event)

    # The run is what the test needs it to be.
    assert finished.status is RunStatus.FAILED
    assert finished.cached_calls > 0
    assert any(isinstance(e, ev.KnowledgeExtractionFailed) for e in seen)
    assert any(isinstance(e, ev.TimepointFailed) for e in seen)

    expected = {
        **finished.counts.model_dump(),
        "spent_tokens": finished.spent_tokens,
        "spent_usd": finished.spent_usd,
        "cached_calls": finished.cached_calls,
    }
    assert set(COUNTS) <= set(expected)
    for name, info in (("live view", live.run), ("reopened view", reopened.run)):
        got = {k: getattr(info, k) for k in COUNTS}
        assert got == {k: expected[k] for k in COUNTS}, name
    listed = _cli_json(capsys, "runs", "--json", "--db", str(db))
    row = next(r for r in listed if r["run_id"] == start.run_id)
    shown = _cli_json(capsys, "show", start.run_id, "--json", "--db", str(db))
    for name, data in (("runs --json", row), ("show --json", shown)):
        assert {k: data[k] for k in COUNTS} == {k: expected[k] for k in COUNTS}, name
        assert data["status"] == "failed"
