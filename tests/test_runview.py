"""The read model answers the same questions live (from events) and replayed (from the store)."""

from __future__ import annotations

from conftest import run_scenario

from engine.model import events as ev
from engine.view import RunView


def live_view(events) -> RunView:
    start = next(e for e in events if isinstance(e, ev.RunStarted))
    view = RunView.starting(start)
    for e in events:
        view.apply(e)
    return view


async def test_live_and_replayed_views_agree_at_every_moment(store) -> None:
    summary, events = await run_scenario("vintners_council", store, seed=6)
    live = live_view(events)
    replay = await store.load_view(summary.run_id, everything=True)
    assert [t.timepoint_id for t in replay.timepoints] == [t.timepoint_id for t in live.timepoints]
    assert replay.timepoints == live.timepoints
    assert replay.entities == live.entities
    for at in [None, *(t.timepoint_id for t in replay.timepoints)]:
        for entity_id in replay.entities:
            assert replay.state_at(entity_id, at) == live.state_at(entity_id, at)
            assert replay.series(entity_id, at) == live.series(entity_id, at)
            assert replay.relations_at(entity_id, at) == live.relations_at(entity_id, at)
            assert replay.knowledge_at(entity_id, at) == live.knowledge_at(entity_id, at)
            assert replay.inner_at(entity_id, at) == live.inner_at(entity_id, at)
    for tp in replay.timepoints:
        assert replay.turns(tp.timepoint_id) == live.turns(tp.timepoint_id)
    assert live.run.status == replay.run.status == "completed"
    assert live.run.llm_calls == replay.run.llm_calls
    assert live.run.tokens == replay.run.tokens
    assert live.run.dialog_turns == replay.run.dialog_turns == summary.counts.dialog_turns


async def test_state_moves_over_time_and_knowledge_grows(store) -> None:
    summary, events = await run_scenario("snowbound_ward", store, seed=3)
    view = await store.load_view(summary.run_id, everything=True)
    speaker = next(e.turn.speaker for e in events if isinstance(e, ev.DialogTurnFinished))
    latest = view.timepoints[-1].timepoint_id
    first, last = view.state_at(speaker, None), view.state_at(speaker, latest)
    assert first is not None and last is not None and first != last
    valence, arousal, energy = view.series(speaker, latest)
    assert len(valence) == len(arousal) == len(energy) >= 2
    assert len(view.knowledge_at(speaker, latest)) > len(view.knowledge_at(speaker, None))


def a_turn_started() -> RunView:
    """A live view with one timepoint and the first turn of its dialog under way."""
    from datetime import datetime

    from engine.model import PersonaParams, Timepoint

    start = ev.RunStarted(
        run_id="r",
        seq=1,
        scenario="s",
        mode="forward",
        seed=0,
        config_hash="h",
        provider="p",
        model="m",
        source="x",
        scenario_data={},
        planned_timepoints=1,
        started_at=datetime(2030, 1, 1),
    )
    view = RunView.starting(start)
    view.apply(
        ev.TimepointCreated(
            run_id="r",
            seq=2,
            timepoint=Timepoint(
                timepoint_id="tp01",
                index=0,
                timestamp=datetime(2030, 1, 1),
                event_description="Something happens at the quay.",
            ),
        )
    )
    view.apply(
        ev.DialogStarted(
            run_id="r",
            seq=3,
            dialog_id="d",
            timepoint_id="tp01",
            participants=("a", "b"),
            planned_turns=2,
        )
    )
    params = PersonaParams(
        temperature=0.5, top_p=0.9, max_tokens=50, frequency_penalty=0, presence_penalty=0
    )
    view.apply(
        ev.DialogTurnStarted(
            run_id="r", seq=4, dialog_id="d", turn_index=0, speaker="a", persona=params
        )
    )
    return view


def test_streamed_chunks_build_the_turn_before_it_finishes() -> None:
    view = a_turn_started()
    for text in ("Hold ", "the ", "gate."):
        changed = view.apply(
            ev.DialogTokens(run_id="r", seq=4, dialog_id="d", turn_index=0, text=text)
        )
        assert "turns" in changed
    turn = view.turns("tp01")[0]
    assert turn.content == "Hold the gate." and turn.streaming


def test_a_stream_reset_voids_what_was_streamed() -> None:
    view = a_turn_started()
    view.apply(ev.DialogTokens(run_id="r", seq=4, dialog_id="d", turn_index=0, text="Wrong "))
    view.apply(ev.DialogStreamReset(run_id="r", seq=4, dialog_id="d", turn_index=0))
    view.apply(ev.DialogTokens(run_id="r", seq=4, dialog_id="d", turn_index=0, text="Right."))
    assert view.turn("d", 0).content == "Right."
