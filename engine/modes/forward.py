"""FORWARD mode (M17): a single causal chain, each timepoint caused by the one before."""

from __future__ import annotations

from ..model.common import MAIN_BRANCH, TemporalMode
from ..model.timepoint import Phase
from .base import Driver, Mode


def phase(index: int, count: int) -> Phase:
    """Where a timepoint sits in the dramatic arc of a forward run."""
    if count == 1:
        return "crisis"
    if count == 2:
        return ("setup", "crisis")[index]
    position = index / (count - 1)
    if index == 0:
        return "setup"
    if index == count - 1:
        return "aftermath"
    if position < 0.4:
        return "complication"
    if position < 0.7:
        return "escalation"
    return "crisis"


def tension(index: int, count: int, baseline: float) -> float:
    """A rising-then-falling tension curve around the scenario's baseline."""
    arc = {"setup": 0.35, "complication": 0.5, "escalation": 0.7, "crisis": 0.9, "aftermath": 0.45}[
        phase(index, count)
    ]
    return round(min(1.0, max(0.0, 0.5 * arc + 0.5 * baseline + 0.25 * (arc - 0.5))), 4)


class Forward(Mode):
    """One chain on the main branch, from the first timepoint not yet made to the last."""

    mode = TemporalMode.FORWARD

    def arc(self, index: int, count: int) -> tuple[Phase, float]:
        return phase(index, count), tension(index, count, self.scenario.tension)

    async def run(self, driver: Driver) -> None:
        world = driver.worlds[MAIN_BRANCH]
        for index in range(world.completed, self.scenario.timeline.count):
            await driver.gate()
            await driver.advance(world, index)
