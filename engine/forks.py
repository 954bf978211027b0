"""Setting up a fork of a stored run (M12) for the command line and the explorer: the checked
intervention, its blast radius and cost, and the simulation that runs the branch."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .model import events as ev
from .model.intervention import Intervention
from .query.forks import (
    ForkError,
    ForkEstimate,
    Reach,
    blast_radius,
    check,
    estimate,
    next_branch_id,
)
from .reopen import open_recorded
from .scenario.schema import Scenario
from .session import RunRequest, SessionError, budget_for

if TYPE_CHECKING:
    from .config import Config
    from .llm.factory import Opened
    from .simulation import Simulation
    from .store import Store


@dataclass(frozen=True)
class ForkPreview:
    run_id: str
    branch_id: str
    at: str
    intervention: Intervention | None
    names: dict[str, str]
    reach: tuple[Reach, ...]
    cost: ForkEstimate

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "branch_id": self.branch_id,
            "fork_timepoint_id": self.at,
            "intervention": self.intervention.model_dump(mode="json", exclude_none=True)
            if self.intervention
            else None,
            "blast_radius": [r.to_json() for r in self.reach],
            "estimate": self.cost.to_json(),
        }


@dataclass(frozen=True)
class Forked:
    """A fork set up to run; close ``opened`` when it is done."""

    preview: ForkPreview
    simulation: Simulation
    opened: Opened

    async def release(self) -> None:
        """Give up a fork that was set up but will not run."""
        await self.simulation.store.end_lease(self.simulation.run_id)
        await self.opened.aclose()


async def preview(
    store: Store, run_id: str, at: str, change: Intervention | None, steps: int | None
) -> ForkPreview:
    """What the fork would do, without doing it (one sentence when it cannot be done)."""
    from .store import StoreError

    try:
        full = await store.resolve_run_id(run_id)
        events = await store.events(full)
    except StoreError as exc:
        raise SessionError(str(exc)) from exc
    start = events[0] if events else None
    if not isinstance(start, ev.RunStarted):
        raise SessionError(f"the run {full} has no recorded start; it cannot be forked")
    try:
        scenario = Scenario.model_validate(start.scenario_data)
        world, change = check(scenario, events, at, change)
        cost = estimate(events, at, scenario, steps)
        if cost.timepoints == 0:
            raise ForkError(f"{at} is the last timepoint of the run; fork from an earlier one")
    except (ForkError, ValueError) as exc:
        raise SessionError(str(exc)) from exc
    reach = tuple(blast_radius(world, events, at, change)) if change else ()
    names = {e.entity_id: e.name for e in world.entities.values()}
    return ForkPreview(full, next_branch_id(events), at, change, names, reach, cost)


async def prepare_fork(
    store: Store,
    config: Config,
    request: RunRequest,
    run_id: str,
    at: str,
    change: Intervention | None,
    *,
    label: str = "",
    steps: int | None = None,
    text: str | None = None,
) -> Forked:
    """The fork, ready to run. A free-text what-if (``text``) is read by the provider first,
    through the run's gateway; the structured reading is checked like a typed one."""
    from .modes.fork import InterventionUnreadable
    from .simulation import ResumeError, Simulation, UnsupportedScenario

    shown = await preview(store, run_id, at, change, steps)
    recorded = await store.run_descriptor(shown.run_id)
    opened = await open_recorded(config, request, recorded)
    try:
        budget = budget_for(request, config, scenario_has_budget=False)
        sim = await Simulation.fork(
            store,
            shown.run_id,
            at=at,
            intervention=shown.intervention,
            provider=opened.provider,
            branch_id=shown.branch_id,
            label=label,
            steps=steps,
            budget=budget,
            router=opened.router,
            cache=config.provider.cache,
        )
    except BaseException as exc:
        await opened.aclose()
        if isinstance(exc, ResumeError | UnsupportedScenario):
            raise SessionError(str(exc)) from exc
        raise
    forked = Forked(shown, sim, opened)
    if text is None:
        return forked
    try:
        change = await sim.interpret(text)
        read = await preview(store, run_id, at, change, steps)
    except BaseException as exc:
        await forked.release()
        if isinstance(exc, InterventionUnreadable):
            raise SessionError(str(exc)) from exc
        if isinstance(exc, SessionError):
            raise SessionError(f"the what-if was read as '{change.describe()}': {exc}") from exc
        raise
    sim.mode.intervention = read.intervention  # type: ignore[attr-defined]
    return Forked(replace(read, branch_id=shown.branch_id), sim, opened)
