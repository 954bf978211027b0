"""BRANCHING mode (M12, M17): one timeline up to a decision point, then one branch per course,
run side by side to the horizon and scored from what happened on each.

The courses are the scenario's named alternatives, and when it wants more than it names, those
the provider proposes at the decision point, held to the premise, the cast and what has happened
so far (one recorded call). Each course is an event injected at the fork, so every branch starts
from the same World and then diverges; a branch never sees what another discovered (the fork's
isolation holds on every turn). The branches advance one timepoint at a time together and are
committed in their fixed order, so a run's log is the same whichever branch answers first.
"""

from __future__ import annotations

from ..llm.contexts import AlternativesContext, CastMember
from ..llm.gateway import LLMCallFailed
from ..llm.protocol import ActionType
from ..model.common import MAIN_BRANCH, RunStatus, TemporalMode
from ..model.intervention import Intervention
from ..model.responses import AlternativesResponse
from ..model.timepoint import Phase
from ..scenario.schema import AlternativeSpec, BranchingSpec, Scenario
from ..steps.briefs import brief, mood
from ..steps.context import StepContext
from ..world import World
from .base import Driver, Mode, ModeFailed, StepFailed
from .forward import phase, tension
from .outcome import Standing, score

HISTORY = 10  # how many of the trunk's events a course proposal is told


class AlternativesFailed(ModeFailed):
    """The provider could not propose the courses a branching scenario wants."""


class Branching(Mode):
    mode = TemporalMode.BRANCHING

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        assert scenario.branching is not None, "the schema requires it for branching mode"
        self.spec: BranchingSpec = scenario.branching

    @property
    def horizon(self) -> int:
        return self.spec.horizon or self.scenario.timeline.count - self.spec.decision_at

    def planned_timepoints(self) -> int:
        return self.spec.decision_at + self.spec.branches * self.horizon

    def makes(self, branch_id: str, index: int) -> bool:
        """The trunk stops at the decision point; each branch at the horizon."""
        if branch_id == MAIN_BRANCH:
            return index < self.spec.decision_at
        return index < self.spec.decision_at + self.horizon

    def arc(self, index: int, count: int) -> tuple[Phase, float]:
        return phase(index, count), tension(index, count, self.scenario.tension)

    async def run(self, driver: Driver) -> None:
        trunk = driver.worlds[MAIN_BRANCH]
        for index in range(trunk.completed, self.spec.decision_at):
            await driver.gate()
            await driver.advance(trunk, index)
        assert trunk.last is not None
        at = trunk.last.timepoint_id
        start = Standing.of(trunk)
        branches = [w for b, w in driver.worlds.items() if b != MAIN_BRANCH]
        if not branches:
            await driver.gate()
            courses = await self.courses(driver.steps, trunk)
            for i, (course, source) in enumerate(courses, start=1):
                change = Intervention(
                    kind="inject",
                    event=course.description,
                    text=course.name,
                    source=source,
                )
                branches.append(
                    await driver.fork(trunk, at, f"b{i}", label=course.name, intervention=change)
                )
        end = self.spec.decision_at + self.horizon
        running = [w for w in branches if w.branch_id not in driver.closed]
        failures: dict[str, StepFailed] = {}
        for index in range(min((w.completed for w in running), default=end), end):
            due = [w for w in running if w.completed == index]
            if not due:
                continue
            await driver.gate()
            failed = await driver.advance_together(due, index)
            for branch, failure in failed.items():
                failures[branch] = failure
                world = driver.worlds[branch]
                running.remove(world)
                await driver.close(
                    world, RunStatus.FAILED, f"timepoint {failure.index + 1}: {failure}"
                )
        events = await driver.events()
        for world in running:
            await driver.close(
                world, RunStatus.COMPLETED, None, score(start, world, events, self.spec)
            )
        if failures and not running:
            first = next(iter(failures.values()))
            raise StepFailed(first.index, first.cause)

    async def courses(self, steps: StepContext, trunk: World) -> list[tuple[AlternativeSpec, str]]:
        """The named courses, then as many proposed by the provider as the scenario wants."""
        named = [(a, "scenario") for a in self.spec.alternatives]
        wanted = self.spec.branches - len(named)
        if wanted <= 0:
            return named[: self.spec.branches]
        proposed = await propose(steps, trunk, self.spec, wanted)
        known = {a.name.lower() for a, _ in named}
        for item in proposed.alternatives:
            if item.name.lower() in known or len(named) >= self.spec.branches:
                continue
            decided = item.decided_by if item.decided_by in trunk.entities else None
            named.append(
                (
                    AlternativeSpec(
                        name=item.name, description=item.description, decided_by=decided
                    ),
                    "provider",
                )
            )
            known.add(item.name.lower())
        if len(named) < 2:
            raise AlternativesFailed(
                f"the decision point has {len(named)} course(s); a branching run needs two"
            )
        return named


async def propose(
    steps: StepContext, trunk: World, spec: BranchingSpec, wanted: int
) -> AlternativesResponse:
    """One recorded call: the provider's courses at the decision point."""
    assert trunk.last is not None
    context = AlternativesContext(
        scenario=steps.brief,
        decision=spec.decision,
        timepoint_id=trunk.last.timepoint_id,
        history=tuple(t.event_description for t in trunk.timepoints[-HISTORY:]),
        cast=tuple(CastMember(entity=brief(e), mood=mood(e)) for e in trunk.active()),
        named=tuple(a.name for a in spec.alternatives),
        wanted=min(8, wanted),
    )
    try:
        answer = await steps.call_alone(
            "alternatives",
            f"{trunk.last.timepoint_id}/alternatives",
            ActionType.BRANCH_ALTERNATIVES,
            context,
            AlternativesResponse,
            steps.sampling(0.7, 500),
            world=trunk,
            timepoint_id=trunk.last.timepoint_id,
        )
    except LLMCallFailed as exc:
        raise AlternativesFailed(
            f"the courses at the decision point could not be proposed: {exc}"
        ) from exc
    assert isinstance(answer, AlternativesResponse)
    return answer
