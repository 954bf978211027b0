"""What a dialog leaves weighing on a character: new concerns, the impulse it held back, and
how anxious it is."""

from __future__ import annotations

from random import Random

from ....model.inner import Concern, Expectation
from ...contexts import ProspectionContext
from .. import text as tx
from ..library import InnerBank
from .expectations import _clamp
from .phrasing import _banned, _say
from .reading import STRAINED, Reading
from .topics import _subject


def _concerns(
    ctx: ProspectionContext,
    chosen_lens: str,
    salient: Reading | None,
    readings: list[Reading],
    slots: dict[str, str],
) -> tuple[Concern, ...]:
    m = ctx.mood
    found: list[tuple[str, float]] = []
    if ctx.withheld:
        touched = bool(salient and salient.secret)
        found.append((slots["secret"], 0.35 + 0.35 * m.arousal + 0.15 * touched))
    if salient is not None and salient.topic:
        pointed = salient.kind in ("challenge", "question", "secret")
        found.append((salient.topic, 0.3 + 0.3 * m.arousal + (0.2 if pointed else 0.0)))
    if chosen_lens == "people" and slots["other"]:
        found.append((slots["other"], 0.35 + 0.2 * m.arousal))
    if chosen_lens in ("threat", "pride") or m.valence < 0:
        found.append((slots["event_topic"], 0.25 + 0.4 * max(0.0, -m.valence) + 0.2 * m.arousal))
    if chosen_lens == "decision":
        for r in readings:
            if r.kind == "news" and r.topic:
                found.append((r.topic, 0.3 + 0.2 * m.arousal))
                break
    out: list[Concern] = []
    seen: list[set[str]] = []
    for topic, intensity in found:
        topic = _subject(ctx, topic)
        words = set(tx.content_words(topic))
        # "the backup generator's day tank" and "the generator's day tank" are one concern.
        if not words or any(words <= other or other <= words for other in seen):
            continue
        seen.append(words)
        out.append(Concern(topic=topic, intensity=_clamp(intensity, 0.05, 1.0)))
    return tuple(out[:3])


def _suppressed(
    ctx: ProspectionContext,
    bank: InnerBank,
    chosen_lens: str,
    salient: Reading | None,
    readings: list[Reading],
    slots: dict[str, str],
    rng: Random,
) -> str:
    m = ctx.mood
    me = ctx.entity.entity_id
    challenger = next(
        (r for r in readings if r.kind == "challenge" and r.turn.addressed_to == me), None
    )
    strained = next((r for r in readings if r.turn.emotional_tone in STRAINED), None)
    plans: list[tuple[str, dict[str, str]]] = []
    # A template naming the secret twice ("... about X when Y brought up X") is left out.
    apart = {"topic": ""} if slots["topic"] == slots["secret"] else {}
    if salient is not None and salient.secret:
        plans.append(("nearly_told", apart))
    if challenger is not None and m.valence < 0.3 and chosen_lens != "people":
        plans.append(
            (
                "snap",
                {"other": tx.first_name(challenger.turn.speaker_name), "topic": challenger.topic},
            )
        )
    if not ctx.spoke and ctx.turns:
        plans.append(("speak_up", {}))
    if chosen_lens == "people" and strained is not None:
        plans.append(("comfort", {"other": tx.first_name(strained.turn.speaker_name)}))
    if ctx.withheld and m.arousal >= 0.5:
        plans.append(("nearly_told", apart))
    if m.arousal >= 0.65:
        plans.append(("leave", {}))
    used: set[str] = set()
    for group, extra in plans:
        options = bank.suppressed[group]  # type: ignore[index]
        sentence = _say(ctx, options, {**slots, **extra}, rng, used)
        if sentence and not _banned(ctx, sentence):
            return tx.capitalize_sentences(sentence)
    return ""


def _anxiety(
    ctx: ProspectionContext,
    bank: InnerBank,
    chosen_lens: str,
    readings: list[Reading],
    expectations: tuple[Expectation, ...],
    rng: Random,
) -> float:
    m = ctx.mood
    me = ctx.entity.entity_id
    words = [p.strip().lower() for p in ctx.personality]
    pressed = any(
        r.kind in ("challenge", "question") and r.turn.addressed_to == me for r in readings
    )
    value = (
        0.1
        + 0.35 * m.arousal
        + 0.3 * max(0.0, -m.valence)
        + 0.1 * m.fatigue
        + 0.1 * m.pain
        + 0.06 * len(ctx.withheld)
        + (0.1 if pressed else 0.0)
        + 0.04 * sum(e.hope < -0.2 for e in expectations)
        + min(0.16, 0.08 * sum(w in bank.nervy for w in words))
        - min(0.2, 0.1 * sum(w in bank.calm for w in words))
        + (0.05 if chosen_lens == "threat" else 0.0)
    )
    value += rng.uniform(-0.03, 0.03)
    # Pressures add up, but anxiety saturates slowly instead of pinning at 1.
    return _clamp(value / (1.0 + 0.3 * max(0.0, value)))
