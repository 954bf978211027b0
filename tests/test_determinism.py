"""Same scenario, same seed: the same run, event for event (wall-clock fields aside)."""

from __future__ import annotations

import asyncio

from conftest import persisted, run_scenario

from engine.llm.offline.provider import OfflineProvider
from engine.llm.protocol import ActionType, LLMRequest, LLMResponse
from engine.scenario import load_scenario
from engine.simulation import RunControl, Simulation


def stream(events):
    return [e.deterministic_dump() for e in persisted(events)]


async def test_two_runs_with_the_same_seed_are_identical(store) -> None:
    a_summary, a = await run_scenario("vintners_council", store, seed=11)
    b_summary, b = await run_scenario("vintners_council", store, seed=11)
    assert a_summary.run_id != b_summary.run_id
    assert a_summary.config_hash == b_summary.config_hash
    assert stream(a) == stream(b)
    # The streamed chunks match too, in order, within each turn.
    chunks_a = [(e.turn_index, e.text) for e in a if e.type == "dialog_tokens"]
    chunks_b = [(e.turn_index, e.text) for e in b if e.type == "dialog_tokens"]
    assert sorted(chunks_a) == sorted(chunks_b)


async def test_a_different_seed_gives_a_different_run(store) -> None:
    _, a = await run_scenario("harbor_strike", store, seed=1)
    _, b = await run_scenario("harbor_strike", store, seed=2)
    turns_a = [e.turn.content for e in a if e.type == "dialog_turn_finished"]
    turns_b = [e.turn.content for e in b if e.type == "dialog_turn_finished"]
    assert turns_a != turns_b


async def test_replaying_the_stored_log_gives_the_same_stream(store) -> None:
    summary, live = await run_scenario("river_spirit", store, seed=4)
    stored = await store.events(summary.run_id)
    assert [e.deterministic_dump() for e in stored] == stream(live)


class _Holding(RunControl):
    """A control that never lets the engine start the next timepoint ahead of time."""

    @property
    def holding(self) -> bool:
        return True


async def test_starting_the_next_event_early_changes_nothing(store) -> None:
    loaded = load_scenario("vintners_council")
    free, held = [], []
    await Simulation(loaded, provider=OfflineProvider(5), store=store, seed=5).run(free.append)
    await Simulation(
        loaded, provider=OfflineProvider(5), store=store, seed=5, control=_Holding()
    ).run(held.append)
    assert [e.type for e in persisted(free)].count("dialog_finished") >= 3
    assert stream(free) == stream(held)


class _SlowExtraction(OfflineProvider):
    """Answers knowledge extraction late and notes when each call starts and ends."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.log: list[tuple[str, str, str]] = []

    async def complete(self, request: LLMRequest) -> LLMResponse:
        ctx = request.context
        where = getattr(ctx, "timepoint_id", None) or f"tp{getattr(ctx, 'index', -1) + 1:02d}"
        self.log.append(("start", request.action.value, where))
        if request.action is ActionType.KNOWLEDGE_EXTRACTION:
            await asyncio.sleep(0.05)
        answer = await super().complete(request)
        self.log.append(("end", request.action.value, where))
        return answer

    def stream(self, request: LLMRequest):
        self.log.append(("start", request.action.value, request.context.timepoint_id))
        return super().stream(request)


async def test_the_next_event_is_written_while_the_last_knowledge_is_extracted(store) -> None:
    provider = _SlowExtraction(2)
    summary, _ = await run_scenario("vintners_council", store, seed=2, provider=provider)
    assert summary.status.value == "completed"
    log = provider.log
    next_event = log.index(("start", "timepoint_event", "tp02"))
    last_extraction = max(
        i for i, entry in enumerate(log) if entry == ("end", "knowledge_extraction", "tp01")
    )
    assert next_event < last_extraction, "tp02's event waited for every tp01 extraction"
    # ... and no dialog turn of tp02 starts before tp01's knowledge is all in.
    first_turn = log.index(("start", "dialog_turn", "tp02"))
    assert first_turn > last_extraction
