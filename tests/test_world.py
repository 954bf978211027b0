"""The World of a branch: rebuilt from the log (resume), and forked from a parent branch as the
replay of the shared prefix, however far the parent went on after the fork point."""

from __future__ import annotations

from conftest import run_scenario

from engine.model import events as ev
from engine.scenario import load_scenario
from engine.world import World


async def test_a_fork_is_the_parent_as_it_stood_at_the_fork_point(store) -> None:
    summary, _ = await run_scenario("lighthouse_night", store, seed=2)
    events = await store.events(summary.run_id)
    scenario = load_scenario("lighthouse_night").scenario
    main = World.replay(scenario, events)
    assert len(main.timepoints) == scenario.timeline.count >= 3
    first = main.timepoints[0].timepoint_id

    fork = World.fork(scenario, events, at=first, branch_id="b1")
    assert [t.timepoint_id for t in fork.timepoints] == [first]
    assert fork.completed == 1
    # What the branch knows is what the main branch knew once that timepoint was complete.
    cut = next(e.seq for e in events if isinstance(e, ev.TimepointCompleted) and e.seq > 0)
    held = {
        (e.exposure.entity_id, e.exposure.information)
        for e in events
        if isinstance(e, ev.ExposureRecorded) and e.seq <= cut
    }
    assert {
        (x.entity_id, x.information) for eid in fork.entities for x in fork.ledger.exposures(eid)
    } == held
    assert fork.ledger.count() < main.ledger.count()
    # Its new timepoints and exposures are named on the branch.
    assert fork.timepoint_id(1) == "b1.tp02"
    assert fork.next_exposure_id().startswith("b1.x")

    # Replaying the log with the branch recorded (created after the main branch ran on)
    # gives the same World: the parent counts only up to the fork point.
    created = ev.BranchCreated(
        run_id=summary.run_id,
        branch_id="b1",
        seq=events[-1].seq + 1,
        parent_branch_id="main",
        fork_timepoint_id=first,
    )
    replayed = World.replay(scenario, [*events, created], branch_id="b1")
    assert [t.timepoint_id for t in replayed.timepoints] == [first]
    assert replayed.ledger.count() == fork.ledger.count()
    assert {e: s.cognitive for e, s in replayed.entities.items()} == {
        e: s.cognitive for e, s in fork.entities.items()
    }
