"""Relationship evolution (M13): trust and alignment move with how people treat each other."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..model.dialog import DialogTurn
from ..model.relationship import Relationship, pair_key

TRUST_STEP = {
    "supports": 0.05,
    "challenges": -0.06,
    "questions": -0.01,
    "informs": 0.02,
    "deflects": -0.03,
}
ALIGNMENT_STEP = {
    "supports": 0.04,
    "challenges": -0.04,
    "questions": 0.0,
    "informs": 0.01,
    "deflects": -0.01,
}
MAX_SHARED = 25


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))


def update_after_dialog(
    relationships: Mapping[tuple[str, str], Relationship],
    turns: Iterable[DialogTurn],
    knowledge: Mapping[str, Iterable[str]],
) -> list[Relationship]:
    """The relationships of every pair that spoke to each other, after a dialog.

    A turn addressed to someone moves the pair's trust and alignment by its stance; sharing
    knowledge builds a little trust. Shared knowledge is recomputed from what both now know.
    """
    changes: dict[tuple[str, str], list[DialogTurn]] = {}
    for turn in turns:
        if turn.addressed_to and turn.addressed_to != turn.speaker:
            changes.setdefault(pair_key(turn.speaker, turn.addressed_to), []).append(turn)
    updated: list[Relationship] = []
    for key in sorted(changes):
        current = relationships.get(key) or Relationship(a=key[0], b=key[1])
        trust, alignment = current.trust, current.alignment
        for turn in changes[key]:
            trust += TRUST_STEP[turn.stance]
            alignment += ALIGNMENT_STEP[turn.stance]
            if turn.knowledge_references:
                trust += 0.01
        a_knows = list(dict.fromkeys(knowledge.get(key[0], ())))
        b_knows = set(knowledge.get(key[1], ()))
        shared = tuple(item for item in a_knows if item in b_knows)[-MAX_SHARED:]
        updated.append(
            current.model_copy(
                update={
                    "trust": round(_clamp(trust), 6),
                    "alignment": round(_clamp(alignment), 6),
                    "shared_knowledge": shared,
                    "interaction_count": current.interaction_count + len(changes[key]),
                }
            )
        )
    return updated
