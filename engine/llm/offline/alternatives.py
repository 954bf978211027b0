"""Offline courses at a decision point (BRANCHING, M12): first the choices the premise itself
offers ("must decide: fortify the crash site, explore the alien biosphere, or attempt to
repair the beacon"), each decided by the character the sentence names; then, if more are
wanted, courses led by members of the cast. Phrasings are data; the choice among them is the
seeded ``rng``, so the same decision point gets the same courses."""

from __future__ import annotations

import re
from random import Random

from ...model.responses import AlternativeItem, AlternativesResponse
from ..contexts import AlternativesContext, CastMember
from . import text as tx
from .library import alternative_cues

_PAREN = re.compile(r"\s*\([^)]*\)")


def _choices(premise: str) -> tuple[str, list[str]]:
    """The sentence offering a choice and the items of its list (empty when none is found)."""
    for sentence in re.split(r"(?<=[.!?])\s+", premise):
        lower = sentence.lower()
        for cue in alternative_cues().cues:
            at = lower.find(cue)
            if at < 0:
                continue
            rest = _PAREN.sub("", sentence[at + len(cue) :]).strip(" :.?!")
            rest = re.sub(
                r"^(?:\w+ )?(?:response )?(?:strategies|options|courses)\s*:\s*", "", rest
            )
            items = [p.strip(" ,;") for p in re.split(r",\s*(?:or\s+|and\s+)?|\s+or\s+", rest)]
            items = [i for i in items if len(i.split()) >= 2]
            if len(items) >= 2:
                return sentence, items
    return "", []


def _named(sentence: str, cast: tuple[CastMember, ...]) -> CastMember | None:
    lower = sentence.lower()
    found = []
    for member in cast:
        e = member.entity
        forms = {e.name.lower(), tx.first_name(e.name).lower(), e.name.split()[-1].lower()}
        hits = [
            m.start()
            for f in forms
            if len(f) > 2
            for m in re.finditer(rf"\b{re.escape(f)}\b", lower)
        ]
        if hits:
            found.append((min(hits), member))
    return min(found, key=lambda f: f[0])[1] if found else None


def _title(course: str) -> str:
    words = course.split()
    if words and words[0].lower() in {"attempt", "try", "to"} and len(words) > 2:
        words = words[2:] if words[1].lower() == "to" else words[1:]
    return " ".join(words[:4]).capitalize()[:80]


def generate_alternatives(ctx: AlternativesContext, rng: Random) -> AlternativesResponse:
    cues = alternative_cues()
    taken = {n.lower() for n in ctx.named}
    out: list[AlternativeItem] = []
    sentence, items = _choices(ctx.scenario.description)
    decider = _named(sentence, ctx.cast) if sentence else None
    who = decider.entity.name if decider else "The group"
    for course in items:
        name = _title(course)
        if name.lower() in taken or len(out) >= ctx.wanted:
            continue
        course = course[:1].lower() + course[1:]
        text = rng.choice(cues.decides).format(who=who, course=course)
        out.append(
            AlternativeItem(
                name=name,
                description=text[:1].upper() + text[1:],
                decided_by=decider.entity.entity_id if decider else None,
            )
        )
        taken.add(name.lower())
    people = [c for c in ctx.cast if c.entity.entity_type == "human"] or list(ctx.cast)
    order = sorted(people, key=lambda c: rng.random())
    for member in order:
        if len(out) >= ctx.wanted:
            break
        e = member.entity
        fields = {"name": e.name, "first": tx.first_name(e.name), "role": e.role.lower()}
        pick = rng.randrange(len(cues.led))
        name = cues.names[pick % len(cues.names)].format(**fields)[:80]
        if name.lower() in taken:
            continue
        out.append(
            AlternativeItem(
                name=name,
                description=cues.led[pick].format(**fields)[:600],
                decided_by=e.entity_id,
            )
        )
        taken.add(name.lower())
    if not out:  # no cast and no choice in the premise: the one course left is to wait
        out.append(AlternativeItem(name="Wait and see", description="Nobody decides anything yet."))
    return AlternativesResponse(alternatives=out)
