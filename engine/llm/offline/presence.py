"""Offline presence: who is at a timepoint, judged from the event description."""

from __future__ import annotations

from random import Random

from ...model.responses import PresenceResponse
from ..contexts import PresenceContext
from . import text as tx


def generate_presence(ctx: PresenceContext, rng: Random) -> PresenceResponse:
    event = ctx.event_description.lower()
    event_words = set(tx.content_words(ctx.event_description))
    scored: list[tuple[float, str]] = []
    for entity in ctx.candidates:
        score = rng.random() * 0.5
        if entity.name.lower() in event or tx.first_name(entity.name).lower() in event:
            score += 3.0
        if entity.entity_id.replace("_", " ") in event:
            score += 2.0
        score += 0.5 * len(set(tx.content_words(entity.role)) & event_words)
        scored.append((score, entity.entity_id))
    scored.sort(reverse=True)
    named = [eid for score, eid in scored if score >= 2.0]
    count = max(ctx.min_present, min(ctx.max_present, max(len(named), ctx.min_present + 1)))
    present = [eid for _, eid in scored[:count]]
    order = {e.entity_id: i for i, e in enumerate(ctx.candidates)}
    return PresenceResponse(entities_present=tuple(sorted(present, key=order.__getitem__)))
