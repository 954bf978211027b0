"""Same scenario, same seed: the same run, event for event (wall-clock fields aside)."""

from __future__ import annotations

from conftest import persisted, run_scenario


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
