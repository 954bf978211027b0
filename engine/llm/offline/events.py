"""Offline timepoint events: what happens next, built from the scenario, the scripted beat,
the previous events and the state of the cast (M7)."""

from __future__ import annotations

import re
from random import Random

from ...model.responses import TimepointEventResponse
from ..contexts import CastMember, TimepointEventContext
from . import text as tx
from .library import event_bank

_SLOT = re.compile(r"\{(\w+)\}")
PHASE_IMPORTANCE = {
    "setup": 0.4,
    "complication": 0.55,
    "escalation": 0.7,
    "crisis": 0.9,
    "aftermath": 0.6,
}


def _fill(template: str, slots: dict[str, str]) -> str | None:
    if any(not slots.get(name) for name in _SLOT.findall(template)):
        return None
    return tx.upper_first(template.format_map(slots))


def _pick(
    options: tuple[str, ...], slots: dict[str, str], rng: Random, avoid: tuple[str, ...] = ()
) -> str | None:
    order = list(options)
    rng.shuffle(order)
    fallback = None
    for template in order:
        filled = _fill(template, slots)
        if filled is None:
            continue
        if any(filled[:40] == a[:40] for a in avoid):
            fallback = fallback or filled
            continue
        return filled
    return fallback


def _secret(
    cast: tuple[CastMember, ...], previous: tuple[str, ...], rng: Random
) -> tuple[str, str] | None:
    """A knowledge item held by one cast member that the story has not used yet."""
    told = " ".join(previous).lower()
    pool = [(m, k) for m in cast for k in m.knowledge if tx.topic(k).lower() not in told]
    if not pool:
        pool = [(m, k) for m in cast for k in m.knowledge]
    if not pool:
        return None
    member, item = rng.choice(pool)
    return tx.first_name(member.entity.name), item


def generate_event(ctx: TimepointEventContext, rng: Random) -> TimepointEventResponse:
    bank = event_bank()
    cast = list(ctx.cast)
    order = cast[:]
    rng.shuffle(order)
    focus = order[0] if order else None
    # the other one of "{a} and {b}": someone else, and not a namesake ("Claire and Claire")
    others = [m for m in order[1:] if focus is None or m.entity.name != focus.entity.name]
    second = (
        next(
            (m for m in others if tx.first_name(m.entity.name) != tx.first_name(focus.entity.name)),
            others[0] if others else None,
        )
        if focus
        else None
    )
    a_name = tx.first_name(focus.entity.name) if focus else ""
    b_name = tx.first_name(second.entity.name) if second else a_name  # a cast of one
    if second is not None and a_name == b_name:  # namesakes: their whole names tell them apart
        a_name, b_name = focus.entity.name, second.entity.name  # type: ignore[union-attr]
    tense = max(cast, key=lambda m: (m.mood.arousal, m.entity.entity_id), default=None)
    tired = min(cast, key=lambda m: (m.mood.energy, m.entity.entity_id), default=None)
    secret = _secret(ctx.cast, ctx.previous_events, rng)
    slots = {
        "time": ctx.time_of_day,
        "Time": tx.upper_first(ctx.time_of_day),
        "location": tx.short_place(ctx.scenario.location),
        "a": a_name,
        "b": b_name,
        "tense": tx.first_name(tense.entity.name) if tense else "",
        "tired": tx.first_name(tired.entity.name) if tired else "",
        "premise": tx.topic(tx.first_sentence(ctx.scenario.description)),
        "previous": tx.topic(ctx.previous_events[-1]) if ctx.previous_events else "",
        "atmosphere": tx.strip_end(ctx.scenario.atmosphere).lower(),
        "secret": "",
        "secret_topic": "",
        "holder": "",
        "hint": "",
        "Hint": "",
    }
    if secret:
        holder, item = secret
        slots["holder"] = holder
        slots["secret"] = tx.lower_first(tx.strip_end(tx.humanize(item)))
        slots["secret_topic"] = tx.topic(item)
    if ctx.beat_hint:
        slots["hint"] = tx.lower_first(tx.strip_end(ctx.beat_hint))
        slots["Hint"] = tx.upper_first(slots["hint"])
        first = _pick(bank.with_hint, slots, rng)
    else:
        first = _pick(bank.phases[ctx.phase], slots, rng, ctx.previous_events)
    if first is None:  # a cast-less scenario still gets a concrete, scenario-specific line
        first = f"{slots['Time']} at {slots['location']}: {slots['premise']} comes to a head."
    color = _pick(bank.color[ctx.phase], slots, rng)
    description = first if color is None else f"{first} {color}"
    if ctx.beat_title:
        title = ctx.beat_title
    else:
        title = _pick(bank.titles[ctx.phase], slots, rng) or tx.upper_first(ctx.phase)
    mean_arousal = sum(m.mood.arousal for m in cast) / len(cast) if cast else 0.5
    importance = min(1.0, max(0.0, PHASE_IMPORTANCE[ctx.phase] + rng.uniform(-0.05, 0.05)))
    tension = min(
        1.0, max(0.0, 0.5 * ctx.tension + 0.3 * mean_arousal + 0.2 * PHASE_IMPORTANCE[ctx.phase])
    )
    key_events = tuple(
        k for k in (slots["secret_topic"], slots["hint"] and tx.topic(slots["hint"])) if k
    )
    return TimepointEventResponse(
        title=title,
        event_description=description,
        importance=round(importance, 3),
        tension=round(tension, 3),
        key_events=key_events,
    )
