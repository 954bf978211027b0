"""Two branches of one run side by side (M12): where they part, what happened on each from
there, who knows what only on one side, and how people and their relationships end up.

Both Worlds are rebuilt from the run's log (the one fold), so the diff is exactly what each
branch holds; nothing is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import events as ev
from ..model.timepoint import Timepoint
from ..scenario.schema import Scenario
from ..world import World

MOOD_FIELDS = ("valence", "arousal", "energy")
MOVED = {"valence": 0.05, "arousal": 0.05, "energy": 2.0, "trust": 0.05, "alignment": 0.05}


class DiffError(Exception):
    """Two branches that cannot be compared, in one sentence."""


@dataclass(frozen=True)
class Side:
    timepoint_id: str
    title: str
    event: str
    present: tuple[str, ...]


@dataclass
class BranchDiff:
    run_id: str
    a: str
    b: str
    common: str | None  # the last timepoint both share
    interventions: dict[str, list[dict[str, Any]]]
    steps: list[tuple[int, Side | None, Side | None]] = field(default_factory=list)
    only_a: dict[str, list[str]] = field(default_factory=dict)
    only_b: dict[str, list[str]] = field(default_factory=dict)
    moods: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    relations: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def first_divergence(self) -> int | None:
        """The index of the first moment the branches do not share."""
        return self.steps[0][0] if self.steps else None

    def to_json(self) -> dict[str, Any]:
        def side(s: Side | None) -> dict[str, Any] | None:
            if s is None:
                return None
            return {
                "timepoint_id": s.timepoint_id,
                "title": s.title,
                "event_description": s.event,
                "entities_present": list(s.present),
            }

        return {
            "run_id": self.run_id,
            "branch_a": self.a,
            "branch_b": self.b,
            "common_timepoint_id": self.common,
            "first_divergence_index": self.first_divergence,
            "interventions": self.interventions,
            "timepoints": [{"index": i, "a": side(x), "b": side(y)} for i, x, y in self.steps],
            "knowledge_only_in_a": self.only_a,
            "knowledge_only_in_b": self.only_b,
            "moods": {k: {f: list(v) for f, v in d.items()} for k, d in self.moods.items()},
            "relationships": {
                k: {f: list(v) for f, v in d.items()} for k, d in self.relations.items()
            },
        }


def _side(tp: Timepoint) -> Side:
    return Side(tp.timepoint_id, tp.title, tp.event_description, tuple(tp.entities_present))


def diff(scenario: Scenario, events: list[ev.EventBase], run_id: str, a: str, b: str) -> BranchDiff:
    branches = {e.branch_id for e in events if isinstance(e, ev.BranchCreated)} | {"main"}
    for name in (a, b):
        if name not in branches:
            known = ", ".join(sorted(branches))
            raise DiffError(f"the run {run_id} has no branch {name!r} (its branches: {known})")
    if a == b:
        raise DiffError("name two different branches to compare")
    wa, wb = World.replay(scenario, events, a), World.replay(scenario, events, b)
    ids_a = [t.timepoint_id for t in wa.timepoints]
    ids_b = [t.timepoint_id for t in wb.timepoints]
    shared = 0
    while shared < min(len(ids_a), len(ids_b)) and ids_a[shared] == ids_b[shared]:
        shared += 1
    out = BranchDiff(
        run_id,
        a,
        b,
        ids_a[shared - 1] if shared else None,
        {
            a: [i.model_dump(mode="json", exclude_none=True) for i in wa.interventions],
            b: [i.model_dump(mode="json", exclude_none=True) for i in wb.interventions],
        },
        names={e.entity_id: e.name for e in wa.entities.values()},
    )
    rest_a, rest_b = wa.timepoints[shared:], wb.timepoints[shared:]
    for i in range(max(len(rest_a), len(rest_b))):
        x = _side(rest_a[i]) if i < len(rest_a) else None
        y = _side(rest_b[i]) if i < len(rest_b) else None
        out.steps.append((shared + i, x, y))
    for entity in wa.entities:
        held_a, held_b = set(wa.ledger.items(entity)), set(wb.ledger.items(entity))
        if held_a - held_b:
            out.only_a[entity] = sorted(held_a - held_b)
        if held_b - held_a:
            out.only_b[entity] = sorted(held_b - held_a)
        ca, cb = wa.entities[entity].cognitive, wb.entities[entity].cognitive
        moved = {
            f: (getattr(ca, f), getattr(cb, f))
            for f in MOOD_FIELDS
            if abs(getattr(ca, f) - getattr(cb, f)) >= MOVED[f]
        }
        if moved:
            out.moods[entity] = moved
    for key in sorted(set(wa.relations) | set(wb.relations)):
        ra, rb = wa.relation(*key), wb.relation(*key)
        moved = {
            f: (getattr(ra, f), getattr(rb, f))
            for f in ("trust", "alignment")
            if abs(getattr(ra, f) - getattr(rb, f)) >= MOVED[f]
        }
        if moved:
            out.relations[f"{key[0]}~{key[1]}"] = moved
    return out
