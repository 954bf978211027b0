"""Offline reading of a free-text what-if (M12): which kind of change it asks for, about whom,
and what is withheld or told, from cue phrases in data and the cast's own names and knowledge.
No randomness: the same words at the same moment are read the same way."""

from __future__ import annotations

import re
from random import Random

from ...model.responses import InterventionResponse
from ..contexts import CastMember, InterventionContext
from . import text as tx
from .library import intervention_cues


def _named(text: str, cast: tuple[CastMember, ...]) -> CastMember | None:
    """The first character the text names (full name, id, or first name)."""
    lower = text.lower()
    found: list[tuple[int, CastMember]] = []
    for member in cast:
        e = member.entity
        for form in (e.name.lower(), e.entity_id.replace("_", " "), tx.first_name(e.name).lower()):
            at = re.search(rf"\b{re.escape(form)}\b", lower)
            if at:
                found.append((at.start(), member))
                break
    return min(found, key=lambda f: f[0])[1] if found else None


def _after(text: str, cue: str) -> str:
    """The words after the cue, as they were typed, up to the end of the sentence."""
    rest = text[text.lower().index(cue) + len(cue) :]
    rest = re.split(r"[?.!;]", rest, maxsplit=1)[0].strip(" ,:")
    for lead in ("that ", "about ", "of "):
        if rest.lower().startswith(lead):
            rest = rest[len(lead) :]
    return rest.strip()


def _best_held(member: CastMember, phrase: str) -> str:
    """What the character holds that the phrase is about, in the character's own words."""
    wanted = set(tx.content_words(phrase))
    scored = [(len(wanted & set(tx.content_words(k))), k) for k in member.knowledge if wanted]
    scored = [s for s in scored if s[0]]
    if not scored:
        return phrase
    best = max(scored, key=lambda s: s[0])[1]
    # the words of the phrase that the item has: enough to match it, short enough to read
    shared = [w for w in tx.content_words(phrase) if w in set(tx.content_words(best))]
    return " ".join(shared) or phrase


def generate_intervention(ctx: InterventionContext, rng: Random) -> InterventionResponse:
    lower = ctx.text.strip().lower()
    cues = intervention_cues()
    member = _named(ctx.text, ctx.cast)
    for rule in cues.kinds:
        cue = next((c for c in rule.cues if c in lower), None)
        if cue is None or member is None:
            continue
        entity = member.entity.entity_id
        if rule.kind == "remove":
            return InterventionResponse(kind="remove", entity_id=entity)
        phrase = _after(ctx.text, cue)
        if not phrase:
            continue
        if rule.kind == "withhold":
            return InterventionResponse(
                kind="withhold", entity_id=entity, information=_best_held(member, phrase)
            )
        return InterventionResponse(
            kind="tell", entity_id=entity, information=phrase[:1].upper() + phrase[1:] + "."
        )
    event = ctx.text.strip()
    for opening in cues.openings:
        if event.lower().startswith(opening + " "):
            event = event[len(opening) :].strip(" ,")
            break
    event = event.rstrip("?").strip()
    return InterventionResponse(kind="inject", event=event[:1].upper() + event[1:] + ".")
