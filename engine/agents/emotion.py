"""Tensor synchronisation and the emotional impact of dialog (M6).

Before a dialog the TTM tensor is copied into the runtime cognitive state; after it, the
dialog's impact is applied to the cognitive state and written back to the tensor. Arousal decays
toward a baseline before each impact, and every change is clamped, so that state drifts instead
of saturating.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from ..model.dialog import DialogTurn
from ..model.tensors import CognitiveState, TTMTensor
from ..resources import data_path

AROUSAL_BASELINE = 0.3
AROUSAL_DECAY = 0.3
MAX_DELTA = 0.25


class Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    positive: frozenset[str]
    negative: frozenset[str]
    high_arousal: frozenset[str]
    low_arousal: frozenset[str]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    with open(data_path("lexicon.json"), encoding="utf-8") as handle:
        return Lexicon.model_validate(json.load(handle))


def ttm_to_cognitive(tensor: TTMTensor) -> CognitiveState:
    """Pre-dialog sync: tensor scales (all 0..1) to runtime scales."""
    return CognitiveState(
        valence=round(tensor.ctx("valence") * 2.0 - 1.0, 6),
        arousal=tensor.ctx("arousal"),
        energy=round(tensor.ctx("energy") * 100.0, 6),
        confidence=tensor.ctx("confidence"),
        patience=tensor.ctx("patience"),
        risk=tensor.ctx("risk"),
        social=tensor.ctx("social"),
        knowledge=tensor.ctx("knowledge"),
    )


def cognitive_to_ttm(tensor: TTMTensor, cognitive: CognitiveState) -> TTMTensor:
    """Post-dialog sync: write the runtime state back into the tensor."""
    fatigue = min(1.0, max(tensor.bio("fatigue"), 1.0 - cognitive.energy / 100.0 - 0.1))
    return tensor.with_context(
        knowledge=cognitive.knowledge,
        valence=(cognitive.valence + 1.0) / 2.0,
        arousal=cognitive.arousal,
        energy=cognitive.energy / 100.0,
        confidence=cognitive.confidence,
        patience=cognitive.patience,
        risk=cognitive.risk,
        social=cognitive.social,
    ).with_biology(fatigue=round(fatigue, 6))


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@lru_cache(maxsize=4096)
def _tone(text: str) -> tuple[int, int, int, int]:
    """How many positive, negative, rousing and calming words a text has. Cached: everyone
    present reads the same turns."""
    lex = lexicon()
    words = [w.strip(".,!?;:\"'()").lower() for w in text.split()]
    return (
        sum(w in lex.positive for w in words),
        sum(w in lex.negative for w in words),
        sum(w in lex.high_arousal for w in words),
        sum(w in lex.low_arousal for w in words),
    )


def dialog_impact(
    entity_id: str,
    cognitive: CognitiveState,
    turns: Iterable[DialogTurn],
    *,
    trust: dict[str, float],
    new_knowledge: int,
    vitality: float,
) -> CognitiveState:
    """The cognitive state of ``entity_id`` after taking part in (or witnessing) ``turns``."""
    arousal = AROUSAL_BASELINE + (cognitive.arousal - AROUSAL_BASELINE) * (1.0 - AROUSAL_DECAY)
    d_valence = d_arousal = d_confidence = d_patience = 0.0
    spoken = heard = 0
    for turn in turns:
        own = turn.speaker == entity_id
        aimed = turn.addressed_to == entity_id
        spoken += own
        heard += not own
        weight = 1.0 if own or aimed else 0.4
        pos, neg, hi, lo = _tone(turn.content)
        d_valence += weight * 0.03 * (pos - neg)
        d_arousal += weight * (0.03 * hi - 0.02 * lo)
        if aimed:
            source_trust = trust.get(turn.speaker, 0.0)
            if turn.stance == "challenges":
                d_valence -= 0.06 * (1.0 - 0.5 * source_trust)
                d_arousal += 0.06
                d_confidence -= 0.03
                d_patience -= 0.04
            elif turn.stance == "supports":
                d_valence += 0.05
                d_confidence += 0.04
                d_patience += 0.02
            elif turn.stance == "questions":
                d_arousal += 0.03
        if own and turn.stance == "challenges":
            d_arousal += 0.02
    d_valence = _clamp(d_valence, -MAX_DELTA, MAX_DELTA)
    d_arousal = _clamp(d_arousal, -MAX_DELTA, MAX_DELTA)
    drain = (2.5 * spoken + 0.6 * heard) * (1.3 - 0.6 * vitality)
    return CognitiveState(
        valence=round(_clamp(cognitive.valence + d_valence, -1.0, 1.0), 6),
        arousal=round(_clamp(arousal + d_arousal, 0.0, 1.0), 6),
        energy=round(_clamp(cognitive.energy - drain, 0.0, 100.0), 6),
        confidence=round(_clamp(cognitive.confidence + d_confidence, 0.0, 1.0), 6),
        patience=round(_clamp(cognitive.patience + d_patience, 0.0, 1.0), 6),
        risk=cognitive.risk,
        social=cognitive.social,
        knowledge=round(_clamp(cognitive.knowledge + 0.04 * new_knowledge, 0.0, 1.0), 6),
    )


def rest(tensor: TTMTensor, hours: float) -> TTMTensor:
    """Time away from the action restores some energy and lets arousal settle."""
    if hours <= 0:
        return tensor
    energy = min(1.0, tensor.ctx("energy") + min(0.25, 0.02 * hours))
    arousal = AROUSAL_BASELINE + (tensor.ctx("arousal") - AROUSAL_BASELINE) * 0.8
    fatigue = max(0.0, tensor.bio("fatigue") - min(0.2, 0.015 * hours))
    return tensor.with_context(energy=round(energy, 6), arousal=round(arousal, 6)).with_biology(
        fatigue=round(fatigue, 6)
    )


def mood_label(cognitive: CognitiveState, fatigue: float, pain: float) -> str:
    """A few words a prompt (and a person) can read."""
    parts: list[str] = []
    if cognitive.arousal >= 0.7:
        parts.append("agitated")
    elif cognitive.arousal <= 0.2:
        parts.append("subdued")
    if cognitive.valence <= -0.4:
        parts.append("hostile" if cognitive.patience < 0.35 else "distressed")
    elif cognitive.valence >= 0.4:
        parts.append("hopeful")
    if cognitive.energy <= 30 or fatigue >= 0.7:
        parts.append("exhausted")
    if pain >= 0.6:
        parts.append("in pain")
    return ", ".join(parts) or "steady"
