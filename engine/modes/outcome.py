"""How a branch came out (M12), read from what happened on it after its decision point.

Each signal is a number in [0, 1] where 0.5 means "as it stood at the fork" when the signal is
a change:

- ``mood``: the mean change of the people's emotional valence, fork to end (0.5 + change);
- ``trust``: the mean change of trust between the people who have a relationship (0.5 +
  change);
- ``calm``: how settled the room is at the branch's last dialog (1 - its tension);
- ``criteria``: the share of the scenario's success criteria that what was said, witnessed or
  learned on the branch covers (most content words of a criterion present in one line).

The score is the weighted mean of the signals the branch has, with the scenario's weights
normalised over them. A signal that cannot be read is listed as missing with the reason, and
when none can be read the branch has no score. Nothing here is random or constant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..knowledge.words import content_words
from ..model import events as ev
from ..scenario.schema import BranchingSpec
from ..world import World

COVERED = 0.6  # the share of a criterion's content words one line must hold to meet it


@dataclass(frozen=True)
class Standing:
    """The people's moods and trust at a fork point: what a branch's changes are measured from."""

    valence: dict[str, float]
    trust: dict[tuple[str, str], float]

    @classmethod
    def of(cls, world: World) -> Standing:
        people = {e.entity_id for e in world.active() if e.profile.entity_type == "human"}
        return cls(
            valence={
                e.entity_id: e.cognitive.valence for e in world.active() if e.entity_id in people
            },
            trust={k: r.trust for k, r in world.relations.items() if set(k) <= people},
        )


@dataclass
class Outcome:
    score: float | None
    components: dict[str, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)


def _clamp(x: float) -> float:
    return round(min(1.0, max(0.0, x)), 4)


def _lines(events: list[ev.EventBase], branch_id: str) -> list[str]:
    """What was said, witnessed or learned on the branch."""
    out: list[str] = []
    for e in events:
        if e.branch_id != branch_id:
            continue
        if isinstance(e, ev.DialogTurnFinished):
            out.append(e.turn.content)
        elif isinstance(e, ev.ExposureRecorded):
            out.append(e.exposure.information)
        elif isinstance(e, ev.TimepointCreated):
            out.append(e.timepoint.event_description)
    return out


def _met(criterion: str, lines: list[str]) -> bool:
    wanted = content_words(criterion)
    if not wanted:
        return False
    need = max(1, round(COVERED * len(wanted)))
    return any(len(wanted & content_words(line)) >= need for line in lines)


def score(
    start: Standing, world: World, events: list[ev.EventBase], spec: BranchingSpec
) -> Outcome:
    """The outcome of ``world``'s branch: ``events`` are the run's (the branch's are picked)."""
    components: dict[str, float] = {}
    missing: dict[str, str] = {}
    details: dict[str, object] = {}
    here = {e.entity_id: e for e in world.active()}
    moods = [here[p].cognitive.valence - v for p, v in start.valence.items() if p in here]
    if moods:
        change = sum(moods) / len(moods)
        components["mood"] = _clamp(0.5 + change)
        details["mood_change"] = round(change, 4)
    else:
        missing["mood"] = "nobody on the branch has a mood to compare with the fork point"
    people = set(start.valence) & set(here)
    pairs = {k: r.trust for k, r in world.relations.items() if set(k) <= people}
    if pairs:
        change = sum(t - start.trust.get(k, 0.0) for k, t in pairs.items()) / len(pairs)
        components["trust"] = _clamp(0.5 + change)
        details["trust_change"] = round(change, 4)
    else:
        missing["trust"] = "no two people on the branch have a relationship"
    if world.atmosphere is not None and world.last is not None:
        components["calm"] = _clamp(1.0 - world.atmosphere.tension)
    else:
        missing["calm"] = "the room was not read on this branch (atmosphere is off)"
    if spec.success:
        lines = _lines(events, world.branch_id)
        met = [c for c in spec.success if _met(c, lines)]
        components["criteria"] = _clamp(len(met) / len(spec.success))
        details["criteria_met"] = met
        details["criteria_missed"] = [c for c in spec.success if c not in met]
    else:
        missing["criteria"] = "the scenario names no success criteria"
    weights = {k: float(getattr(spec.weights, k)) for k in components}
    total = sum(weights.values())
    if not components or total <= 0:
        reason = "; ".join(missing.values()) or "every signal has weight 0"
        return Outcome(None, components, weights, missing | {"score": reason}, details)
    value = sum(components[k] * weights[k] for k in components) / total
    return Outcome(round(value, 4), components, weights, missing, details)
