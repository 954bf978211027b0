"""The worlds of a stored run, rebuilt from its log: the trunk, and a branching run's
branches from where each stood (with the ones already finished)."""

from __future__ import annotations

from ..model import events as ev
from ..model.common import MAIN_BRANCH
from .world import World


class InconsistentLog(Exception):
    """The log's timepoints and completions disagree; one sentence."""


def replay_worlds(scenario, run_id: str, events: list[ev.EventBase]):  # type: ignore[no-untyped-def]
    """(worlds by branch, the branches already finished) of run ``run_id``."""
    world = World.replay(scenario, events)
    if world.completed != len(world.timepoints):
        raise InconsistentLog(
            f"the run {run_id} has {len(world.timepoints)} timepoints but "
            f"{world.completed} completed; its log is inconsistent"
        )
    worlds = {MAIN_BRANCH: world}
    closed: set[str] = set()
    for made in events:
        if isinstance(made, ev.BranchCreated):
            worlds[made.branch_id] = World.replay(scenario, events, made.branch_id)
        elif isinstance(made, ev.BranchFinished):
            closed.add(made.branch_id)
    return worlds, closed
