"""Every event type is either folded or knowingly ignored by each fold of the event stream (the
run tally, the read model, the World, the store's projections); an event a fold has never
heard of is an error, not a silent no-op."""

from __future__ import annotations

from typing import Literal

import pytest

from engine.model import events as ev
from engine.scenario import load_scenario
from engine.store import Store, projections
from engine.view import tally
from engine.view.runview import HANDLED as VIEW_HANDLED
from engine.view.runview import RunView
from engine.world import world as world_module

FOLDS = {
    "run tally": (tally.HANDLED, tally.IGNORED),
    "run view": (VIEW_HANDLED, RunView.IGNORED),
    "world": (world_module.HANDLED, world_module.IGNORED),
    "store projections": (frozenset(projections.PROJECTIONS), projections.UNPROJECTED),
}


def test_the_event_list_is_complete() -> None:
    def subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        return found | {s for c in found for s in subclasses(c)}

    declared = {
        c
        for c in subclasses(ev.EventBase)
        if "type" in c.model_fields and c.__module__ == ev.__name__
    }
    assert declared <= set(ev.EVENT_TYPES), sorted(
        c.__name__ for c in declared - set(ev.EVENT_TYPES)
    )


@pytest.mark.parametrize("fold", sorted(FOLDS))
def test_every_event_type_is_handled_or_ignored(fold: str) -> None:
    handled, ignored = FOLDS[fold]
    everything = set(ev.EVENT_TYPES)
    assert not handled & ignored, f"{fold}: both handled and ignored: {handled & ignored}"
    forgotten = everything - handled - ignored
    assert not forgotten, f"{fold} has no rule for {sorted(c.__name__ for c in forgotten)}"
    assert (handled | ignored) <= everything


def test_only_stored_events_have_a_projection() -> None:
    streamed = {c for c in ev.EVENT_TYPES if not c.PERSIST}
    assert streamed, "no event type is delivered live only"
    assert not streamed & set(projections.PROJECTIONS)


class _Unheard(ev.EventBase):
    type: Literal["unheard_of"] = "unheard_of"


def test_an_unknown_event_is_an_error_in_every_fold() -> None:
    event = _Unheard(run_id="r", seq=1)
    with pytest.raises(TypeError, match="no rule"):
        tally.RunTally().add(event)
    start = ev.RunStarted(
        run_id="r",
        seq=0,
        scenario="s",
        mode="forward",
        seed=1,
        config_hash="h",
        provider="offline",
        model="m",
        source="test",
        scenario_data={},
        planned_timepoints=1,
        started_at="2026-01-01T00:00:00Z",
    )
    with pytest.raises(TypeError, match="no rule"):
        RunView.starting(start).apply(event)
    with pytest.raises(TypeError, match="no rule"):
        world_module.World(load_scenario("lighthouse_night").scenario).apply(event)


async def test_the_store_refuses_an_unknown_event_and_writes_nothing(tmp_path) -> None:
    store = await Store.open(tmp_path / "x.db")
    try:
        with pytest.raises(TypeError, match="no rule"):
            await store.append([_Unheard(run_id="r", seq=1)])
        assert await store.events("r") == []
    finally:
        await store.close()
