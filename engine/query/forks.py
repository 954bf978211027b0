"""Before a fork runs (M12): check what it asks for, and say what it will reach and cost.

Everything here reads a stored run's log; nothing is called or written. ``check`` turns what
a user typed into a structured intervention on a real entity and a completed timepoint (one
sentence when it cannot); ``blast_radius`` follows the parent branch's exposure graph after
the fork point to the entities the intervention reaches first; ``estimate`` prices the branch
from what the run's own timepoints cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..knowledge.words import mentions
from ..model import events as ev
from ..model.common import MAIN_BRANCH, ExposureType
from ..model.intervention import Intervention
from ..model.knowledge import ExposureEvent
from ..scenario.schema import Scenario
from ..world import World
from ..world.world import branch_of, lineage_events


class ForkError(Exception):
    """A fork that cannot be made, in one sentence."""


@dataclass(frozen=True, slots=True)
class Reach:
    """One entity the intervention reaches: ``via`` who (None: directly), at which moment."""

    entity_id: str
    name: str
    hop: int
    via: str | None
    timepoint_id: str | None
    information: str

    def to_json(self) -> dict[str, object]:
        return {
            "entity_id": self.entity_id,
            "name": self.name,
            "hop": self.hop,
            "via": self.via,
            "timepoint_id": self.timepoint_id,
            "information": self.information,
        }


@dataclass(frozen=True, slots=True)
class ForkEstimate:
    timepoints: int
    llm_calls: int
    tokens: int
    cost_usd: float
    basis: str  # what the figures are scaled from

    def to_json(self) -> dict[str, object]:
        return {
            "timepoints": self.timepoints,
            "llm_calls": self.llm_calls,
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
            "basis": self.basis,
        }

    def text(self) -> str:
        money = f", about ${self.cost_usd:.4f}" if self.cost_usd else ""
        return (
            f"{self.timepoints} timepoint(s), about {self.llm_calls} calls and "
            f"{self.tokens:,} tokens{money} ({self.basis})"
        )


def next_branch_id(events: list[ev.EventBase]) -> str:
    # every branch id the log has used, even by a fork that never opened its branch
    taken = {e.branch_id for e in events} - {MAIN_BRANCH}
    n = len(taken) + 1
    while f"b{n}" in taken:
        n += 1
    return f"b{n}"


def resolve_entity(world: World, name: str) -> str:
    """An entity by id, full name or first name (case does not matter)."""
    wanted = name.strip().lower()
    for e in world.entities.values():
        if wanted in (e.entity_id.lower(), e.name.lower()):
            return e.entity_id
    first = [e.entity_id for e in world.entities.values() if e.name.lower().split()[0] == wanted]
    if len(first) == 1:
        return first[0]
    names = ", ".join(sorted(e.entity_id for e in world.entities.values()))
    raise ForkError(f"no entity called {name!r} in this run (its entities: {names})")


def check(
    scenario: Scenario, events: list[ev.EventBase], at: str, change: Intervention | None
) -> tuple[World, Intervention | None]:
    """The parent World at ``at`` and the intervention with its entity resolved."""
    created = {e.timepoint.timepoint_id for e in events if isinstance(e, ev.TimepointCreated)}
    completed = {e.timepoint_id for e in events if isinstance(e, ev.TimepointCompleted)}
    if at not in created:
        known = ", ".join(sorted(created)) or "none"
        raise ForkError(f"no timepoint {at!r} in this run (its timepoints: {known})")
    if at not in completed:
        raise ForkError(f"timepoint {at} never completed; a branch cannot start there")
    parent = World.fork(scenario, events, at, "preview")
    if change is None:
        return parent, None
    if change.kind == "inject":
        return parent, change
    entity = resolve_entity(parent, change.entity or "")
    if entity in parent.absent:
        raise ForkError(f"{entity} is already absent on this branch")
    change = change.model_copy(update={"entity": entity})
    if change.kind == "withhold":
        ever = _held_ever(events, branch_of(at), entity)
        if not any(mentions(x.information, change.information or "") for x in ever):
            raise ForkError(
                f"{entity} never holds anything about {change.information!r} in this run; "
                "`timeloom show RUN_ID` lists what each entity knows"
            )
    if change.kind == "remove" and len(parent.active()) <= 2:
        raise ForkError(f"removing {entity} would leave fewer than two people on the branch")
    return parent, change


def _held_ever(events: list[ev.EventBase], branch: str, entity: str) -> list[ExposureEvent]:
    return [
        e.exposure
        for e in lineage_events(events, branch)
        if isinstance(e, ev.ExposureRecorded) and e.exposure.entity_id == entity
    ]


def _after(events: list[ev.EventBase], at: str) -> list[ExposureEvent]:
    """The parent branch's exposures after the fork point, in the order they happened."""
    branch = branch_of(at)
    lineage = lineage_events(events, branch)
    cut = next(
        (e.seq for e in lineage if isinstance(e, ev.TimepointCompleted) and e.timepoint_id == at),
        0,
    )
    return [e.exposure for e in lineage if isinstance(e, ev.ExposureRecorded) and e.seq > cut]


def blast_radius(
    world: World, events: list[ev.EventBase], at: str, change: Intervention
) -> list[Reach]:
    """Who the intervention reaches first, read from what happened next on the parent branch:
    for a withheld item, everyone who was told it along a chain that starts at the entity (and
    who told the entity, if it learned it later); for a removed entity, everyone who learned
    anything from it, and whom they passed that on to; for a told item, whom the entity spoke
    to next; for an injected event, who was present at the next moment."""
    later = _after(events, at)
    names = {e.entity_id: e.name for e in world.entities.values()}
    out: list[Reach] = []
    seen: set[str] = set()

    def reach(entity: str, hop: int, x: ExposureEvent | None, via: str | None) -> None:
        if entity in seen:
            return
        seen.add(entity)
        out.append(
            Reach(
                entity,
                names.get(entity, entity),
                hop,
                via,
                x.timepoint_id if x else at,
                x.information if x else (change.information or change.event or ""),
            )
        )

    if change.kind == "inject":
        present = [x for x in later if x.kind == ExposureType.WITNESSED]
        first = present[0].timepoint_id if present else None
        for x in present:
            if x.timepoint_id == first:
                reach(x.entity_id, 1, x.model_copy(update={"information": change.event}), None)
        return out
    target = change.entity or ""
    reach(target, 0, None, None)
    if change.kind == "tell":
        for x in later:
            if x.source == target and x.kind == ExposureType.TOLD:
                reach(x.entity_id, 1, x, target)
        return out
    about = (
        (lambda info: mentions(info, change.information or ""))
        if change.kind == "withhold"
        else None
    )
    carriers = {target: 0}
    for x in later:
        if about is not None and not about(x.information):
            continue
        if x.entity_id == target and about is not None and x.source:
            reach(x.source, 1, x, None)  # the one who would have told the entity
            continue
        if x.source in carriers and x.entity_id not in carriers:
            carriers[x.entity_id] = carriers[x.source] + 1
            reach(x.entity_id, carriers[x.entity_id], x, x.source)
    return out


def estimate(
    events: list[ev.EventBase], at: str, scenario: Scenario, steps: int | None
) -> ForkEstimate:
    """The branch's cost scaled from the run's own completed timepoints on the lineage."""
    lineage = lineage_events(events, branch_of(at))
    done = [e for e in lineage if isinstance(e, ev.TimepointCompleted)]
    calls = [e for e in lineage if isinstance(e, ev.LLMCallFinished) and e.timepoint_id is not None]
    index = next(
        e.timepoint.index
        for e in events
        if isinstance(e, ev.TimepointCreated) and e.timepoint.timepoint_id == at
    )
    remaining = scenario.timeline.count - (index + 1)
    count = remaining if steps is None else max(0, min(remaining, steps))
    per = max(1, len(done))
    tokens = sum(c.prompt_tokens + c.completion_tokens for c in calls)
    cost = sum(c.cost_usd for c in calls)
    model = next((c.model for c in calls), "its model")
    return ForkEstimate(
        timepoints=count,
        llm_calls=round(len(calls) / per * count),
        tokens=round(tokens / per * count),
        cost_usd=cost / per * count,
        basis=f"scaled from the run's {len(done)} timepoint(s) on {model}",
    )
