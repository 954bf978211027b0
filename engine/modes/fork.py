"""A fork (M12): one new branch opened at a completed timepoint of a stored run, with an
intervention applied there, then run forward with the scenario's own mode shape.

The new branch's World is the replay of the shared prefix (nothing is copied and no call of
the prefix is made again); the intervention is part of the ``BranchCreated`` event, so every
later replay of the branch applies it the same way.
"""

from __future__ import annotations

from ..llm.contexts import CastMember, InterventionContext
from ..llm.gateway import LLMCallFailed
from ..llm.protocol import ActionType
from ..model import events as ev
from ..model.intervention import Intervention
from ..model.responses import InterventionResponse
from ..model.timepoint import Phase
from ..scenario.schema import Scenario
from ..steps.briefs import brief, mood
from ..steps.context import StepContext
from ..world import World
from .base import Driver, Mode

KNOWN_PER_PERSON = 12  # what each character is said to know when a what-if is read


class Fork(Mode):
    def __init__(
        self,
        scenario: Scenario,
        shape: Mode,
        *,
        parent: str,
        at: str,
        branch_id: str,
        intervention: Intervention | None,
        label: str = "",
        steps: int | None = None,
    ) -> None:
        super().__init__(scenario)
        self.mode = shape.mode  # type: ignore[misc]  # a fork keeps the run's mode
        self.shape = shape
        self.parent = parent
        self.at = at
        self.branch_id = branch_id
        self.intervention = intervention
        self.label = label
        self.steps = steps
        self.end: int | None = None  # the index the branch stops before, once it runs

    def makes(self, branch_id: str, index: int) -> bool:
        end = self.scenario.timeline.count if self.end is None else self.end
        return branch_id == self.branch_id and index < end

    def arc(self, index: int, count: int) -> tuple[Phase, float]:
        return self.shape.arc(index, count)

    async def run(self, driver: Driver) -> None:
        world = await driver.fork(
            driver.worlds[self.parent],
            self.at,
            self.branch_id,
            label=self.label,
            intervention=self.intervention,
        )
        count = self.scenario.timeline.count
        end = count if self.steps is None else min(count, world.completed + self.steps)
        self.end = end
        for index in range(world.completed, end):
            await driver.gate()
            await driver.advance(world, index)


class InterventionUnreadable(Exception):
    """The provider's reading of a free-text what-if cannot be applied."""


async def interpret(
    steps: StepContext, events: list[ev.EventBase], fork: Fork, text: str
) -> Intervention:
    """Turn a free-text what-if into one structured intervention with one call through the
    run's gateway (recorded like every call, on the branch it is for). The structured form,
    with the words it was read from, is what the branch records."""
    world = World.fork(steps.scenario, events, fork.at, fork.branch_id)
    at = next(t for t in world.timepoints if t.timepoint_id == fork.at)
    context = InterventionContext(
        scenario=steps.brief,
        text=text,
        fork_timepoint_id=fork.at,
        event_description=at.event_description,
        cast=tuple(
            CastMember(
                entity=brief(e),
                mood=mood(e),
                knowledge=tuple(world.ledger.items(e.entity_id))[:KNOWN_PER_PERSON],
            )
            for e in world.active()
        ),
    )
    try:
        answer = await steps.call_alone(
            f"interpret:{fork.branch_id}",
            f"{fork.branch_id}/intervention",
            ActionType.COUNTERFACTUAL_PREDICTION,
            context,
            InterventionResponse,
            steps.sampling(0.0, 300),
            branch_id=fork.branch_id,
        )
    except LLMCallFailed as exc:
        raise InterventionUnreadable(f"the what-if could not be read: {exc}") from exc
    assert isinstance(answer, InterventionResponse)
    try:
        return Intervention(
            kind=answer.kind,
            entity=answer.entity_id,
            information=answer.information,
            event=answer.event,
            text=text[:600],
            source="provider",
        )
    except ValueError as exc:
        raise InterventionUnreadable(
            f"the what-if was read as a {answer.kind} that cannot be applied; "
            "say it with --inject, --remove, --withhold or --tell"
        ) from exc
