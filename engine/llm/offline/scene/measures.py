"""The numbers of a scene's atmosphere: tension, formality, valence and energy, from the
timeline's tension, the moods of the people present, the setting and the hour."""

from __future__ import annotations

import re
from random import Random

from ...contexts import SceneContext
from .bank import Level, TimeBucket, scene_bank


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _level(tension: float) -> Level:
    if tension < 0.35:
        return "calm"
    if tension < 0.55:
        return "uneasy"
    if tension < 0.75:
        return "tense"
    return "charged"


def _numbers(ctx: SceneContext, bucket: TimeBucket, rng: Random) -> tuple[float, ...]:
    bank = scene_bank()
    moods = [m.mood for m in ctx.present]
    arousal = _mean([m.arousal for m in moods], 0.3)
    peak = max((m.arousal for m in moods), default=0.3)
    valence = _mean([m.valence for m in moods], 0.0)
    strength = _mean([m.energy / 100.0 for m in moods], 0.6)
    fatigue = _mean([m.fatigue for m in moods], 0.2)
    pain = _mean([m.pain for m in moods], 0.0)

    tension = (
        0.55 * ctx.tension
        + 0.25 * arousal
        + 0.1 * peak
        + 0.1 * max(0.0, -valence)
        + rng.uniform(-0.03, 0.03)
    )
    mood_valence = 0.6 * valence - 0.3 * (ctx.tension - 0.4) - 0.15 * pain
    energy = (
        0.45 * arousal
        + 0.25 * strength
        + 0.2 * ctx.tension
        - 0.1 * fatigue
        + bank.time_energy[bucket]
        + rng.uniform(-0.03, 0.03)
    )
    setting = " ".join(
        (
            ctx.scenario.location,
            ctx.scenario.description,
            " ".join(ctx.scenario.tags),
            ctx.event_description,
            " ".join(m.entity.role for m in ctx.present),
        )
    ).lower()
    words = {w.strip(".,:;'’") for w in re.split(r"[\s/]+", setting)}
    cues = len(words & bank.formality["formal"]) - len(words & bank.formality["casual"])
    # (distinct cue words: a setting that says "nurse" ten times is no more casual for it)
    formality = (
        0.45
        + _clamp(0.03 * cues, -0.2, 0.2)
        - 0.15 * (ctx.tension - 0.5)
        - (0.05 if bucket == "night" else 0.0)
        + rng.uniform(-0.02, 0.02)
    )
    return (
        round(_clamp(tension, 0.0, 1.0), 3),
        round(_clamp(formality, 0.05, 0.95), 3),
        round(_clamp(mood_valence + rng.uniform(-0.03, 0.03), -1.0, 1.0), 3),
        round(_clamp(energy, 0.0, 1.0), 3),
    )
