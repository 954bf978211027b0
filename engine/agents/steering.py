"""Dialog steering (M11): who speaks next, to whom, with what move.

Turns are planned in rounds. A round is one turn or several turns answering the same previous
turn; turns within a round do not see each other, so their calls can run concurrently. The plan
avoids strict round-robin, favours assertive and agitated speakers, gives everyone a say, and
ends with a closing turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from ..model.common import ANIMISM_THRESHOLDS
from ..model.dialog import Move
from ..model.entity import Entity

SPEAKING_MODES = {
    "animal": "behavior",
    "creature": "behavior",
    "building": "environment",
    "object": "environment",
    "environment": "environment",
    "location": "environment",
    "vehicle": "environment",
    "abstract": "collective",
    "concept": "collective",
    "force": "collective",
    "institution": "collective",
}


def speaking_mode(entity_type: str) -> str:
    return SPEAKING_MODES.get(entity_type, "speech")


def can_speak(entity: Entity, animism_level: int) -> bool:
    """Animism-aware participation (M16)."""
    return ANIMISM_THRESHOLDS.get(entity.profile.entity_type, 0) <= animism_level


def choose_speakers(
    present: list[Entity], event_description: str, animism_level: int, max_speakers: int
) -> list[Entity]:
    """Who takes part in the dialog: those named in the event first, then the most assertive."""
    eligible = [e for e in present if can_speak(e, animism_level)]
    text = event_description.lower()

    def weight(entity: Entity) -> tuple[float, str]:
        named = entity.name.lower() in text or entity.name.split()[0].lower() in text
        score = (
            (2.0 if named else 0.0)
            + entity.tensor.beh("assertiveness")
            + entity.tensor.ctx("social") * 0.5
        )
        return (-score, entity.entity_id)

    return sorted(eligible, key=weight)[:max_speakers]


@dataclass(frozen=True, slots=True)
class TurnPlan:
    turn_index: int
    speaker: str
    addressed_to: str | None
    move: Move


def plan_round(
    speakers: list[Entity],
    spoken: dict[str, int],
    last_speaker: str | None,
    next_index: int,
    planned_turns: int,
    parallel: int,
    rng: Random,
    asked: str | None = None,
) -> list[TurnPlan]:
    """The next round of turns. ``spoken`` counts turns per speaker so far; ``asked`` is
    whom the last turn put a question to: they speak in the next round, first."""
    remaining = planned_turns - next_index
    if remaining <= 0 or len(speakers) < 2:
        return []
    if next_index == 0:
        opener = max(
            speakers,
            key=lambda e: (
                e.tensor.beh("assertiveness") + e.tensor.ctx("arousal") * 0.5 + rng.random() * 0.3,
                e.entity_id,
            ),
        )
        return [TurnPlan(0, opener.entity_id, None, "open")]
    if remaining == 1:
        closer = _closer([e for e in speakers if e.entity_id != last_speaker], spoken)
        return [TurnPlan(next_index, closer.entity_id, last_speaker, "close")]
    candidates = [e for e in speakers if e.entity_id != last_speaker]
    weights = [
        (
            1.0
            + 2.0 * (spoken.get(e.entity_id, 0) == 0)
            + e.tensor.beh("assertiveness")
            + e.tensor.ctx("arousal") * 0.5
        )
        / (1.0 + spoken.get(e.entity_id, 0))
        for e in candidates
    ]
    # As many answers to the last turn as the scenario allows: they are independent calls.
    size = max(1, min(parallel, remaining - 1, len(candidates)))
    chosen: list[Entity] = []
    pool, pool_weights = list(candidates), list(weights)
    answerer = next((i for i, e in enumerate(pool) if e.entity_id == asked), None)
    if answerer is not None:  # a question gets its answer (or its evasion) next
        chosen.append(pool.pop(answerer))
        pool_weights.pop(answerer)
    for _ in range(size - len(chosen)):
        pick = rng.choices(range(len(pool)), weights=pool_weights)[0]
        chosen.append(pool.pop(pick))
        pool_weights.pop(pick)
    plans = []
    for offset, entity in enumerate(chosen):
        if entity.entity_id == asked:
            plans.append(TurnPlan(next_index + offset, entity.entity_id, last_speaker, "respond"))
            continue
        roll = rng.random()
        openness = entity.tensor.beh("openness")
        if roll < 0.15 + 0.2 * openness:
            move: Move = "question"
        elif roll < 0.55:
            move = "reveal"
        elif roll < 0.7 and next_index >= planned_turns // 2:
            move = "propose"
        else:
            move = "respond"
        plans.append(TurnPlan(next_index + offset, entity.entity_id, last_speaker, move))
    # When only the closing turn would be left and the round has room, the closer speaks in
    # this round too: it answers the same turn as the others instead of waiting a round.
    taken = {e.entity_id for e in chosen}
    others = [e for e in candidates if e.entity_id not in taken]
    if remaining - size == 1 and size < parallel and others:
        closer = _closer(others, spoken)
        plans.append(TurnPlan(next_index + size, closer.entity_id, last_speaker, "close"))
    return plans


def _closer(candidates: list[Entity], spoken: dict[str, int]) -> Entity:
    """Who closes a dialog: whoever has spoken least, the most assertive among equals."""
    return min(
        candidates,
        key=lambda e: (spoken.get(e.entity_id, 0), -e.tensor.beh("assertiveness"), e.entity_id),
    )
