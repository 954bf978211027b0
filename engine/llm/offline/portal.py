"""Offline PORTAL answers (M17): antecedents of a state and how each holds up.

Antecedents: each candidate proposed for one consequent takes a different kind of cause from
``engine/data/offline/portal.json`` (a decision, a warning ignored, a shortfall, a rivalry,
outside pressure, concealment), led by a different member of the cast and about what the
consequent is about, so that siblings differ in cause, not in wording; kinds already proposed
(``avoid``) are not repeated while others remain.

Scores are read from the texts, never drawn at random: plausibility from how much of the
candidate is grounded in the scenario and the consequent, causal necessity from how closely its
causal link and events bear on the consequent, entity capability from whether the people it
names are of the cast. Historical precedent needs knowledge of the world this provider does not
have: it is left out (null), and says so.
"""

from __future__ import annotations

import re
from random import Random

from ...knowledge.retrieval import rank
from ...knowledge.words import content_words
from ...model.responses import (
    AntecedentDraft,
    AntecedentScore,
    AntecedentsResponse,
    PathCoherence,
)
from ..contexts import AntecedentContext, AntecedentScoringContext, PathCoherenceContext
from . import text as tx
from .library import portal_kinds


def _slots(ctx: AntecedentContext, lead: int, other: int, topic: str) -> dict[str, str]:
    cast = ctx.cast
    who = cast[lead % len(cast)] if cast else None
    them = cast[other % len(cast)] if cast else None
    return {
        "name": who.name if who else "the person in charge",
        "other": them.name if them else "the others",
        "role": (who.role or "the one responsible") if who else "the one responsible",
        "topic": topic,
        "when": ctx.when.strftime("%B %Y"),
    }


def _topic(ctx: AntecedentContext) -> str:
    """What the whole history is about: the endpoint's subject (a state proposed earlier is
    written around it too, so reading its text again would only find its date)."""
    found = tx.topic(tx.first_sentence(ctx.endpoint)) or tx.topic(
        tx.first_sentence(ctx.consequent.description)
    )
    return tx.lower_first(found) if found else "the plan"


def _written_from(template: str, text: str) -> bool:
    """Whether ``text`` was written from ``template``: most of the template's own words (its
    slots aside) are in it."""
    own = content_words(re.sub(r"\{[a-z]+\}", " ", template))
    return bool(own) and len(own & content_words(text)) >= 0.7 * len(own)


def generate_antecedents(ctx: AntecedentContext, rng: Random) -> AntecedentsResponse:
    kinds = list(portal_kinds().kinds)
    taken = {k.kind for k in kinds for a in ctx.avoid if _written_from(k.description, a)}
    # kinds the states after this one already took: a history of one cause told five times
    # over is not a history, so they come last
    later = [ctx.consequent.description, *ctx.later]
    told = {k.kind for k in kinds for t in later if _written_from(k.description, t)}
    fresh = [k for k in kinds if k.kind not in taken] or kinds
    rng.shuffle(fresh)
    fresh.sort(key=lambda k: k.kind in told)  # a stable sort: the shuffle decides the rest
    topic = _topic(ctx)
    start = rng.randrange(max(1, len(ctx.cast)))
    drafts = []
    for i, kind in enumerate(fresh[: ctx.wanted]):
        lead, other = start + i, start + i + 1 + (len(ctx.cast) // 2 if len(ctx.cast) > 2 else 0)
        if ctx.cast and other % len(ctx.cast) == lead % len(ctx.cast):
            other += 1
        slots = _slots(ctx, lead, other, topic)
        # the two the cause is about, and a witness from the rest of the cast when there is one
        n = max(1, len(ctx.cast))
        third = next(
            (j for j in range(lead + 1, lead + n) if j % n not in {lead % n, other % n}), None
        )
        around = (lead, other) if third is None else (lead, other, third)
        present = tuple(
            dict.fromkeys(ctx.cast[j % len(ctx.cast)].entity_id for j in around if ctx.cast)
        )
        drafts.append(
            AntecedentDraft(
                description=tx.upper_first(kind.description.format(**slots))[:700],
                key_events=tuple(e.format(**slots)[:200] for e in kind.events[:5]),
                entity_changes={e: round(0.6 - 0.25 * n, 2) for n, e in enumerate(present)},
                world_context=f"{kind.kind}, {ctx.step} of {ctx.steps} steps back"
                + (
                    f", after: {tx.first_sentence(ctx.earlier.description)}"[:300]
                    if ctx.earlier is not None
                    else ""
                ),
                causal_link=tx.upper_first(kind.link.format(**slots))[:400],
                entities_present=present,
            )
        )
    return AntecedentsResponse(candidates=tuple(drafts))


def _share(words: frozenset[str], known: frozenset[str]) -> float:
    return len(words & known) / len(words) if words else 0.0


def generate_antecedent_score(ctx: AntecedentScoringContext, rng: Random) -> AntecedentScore:
    candidate = " ".join([ctx.candidate.description, *ctx.candidate.key_events])
    grounding = content_words(
        " ".join([ctx.scenario.description, ctx.endpoint, ctx.consequent.description])
    )
    plausibility = _share(content_words(candidate), grounding)
    ranked = rank(
        " ".join([ctx.consequent.description, *ctx.consequent.key_events]),
        [f"{ctx.causal_link} {candidate}"],
    )
    necessity = ranked[0][1] if ranked else 0.0
    cast = {e.entity_id for e in ctx.cast}
    capability = (
        sum(1 for e in ctx.present if e in cast) / len(ctx.present) if ctx.present else None
    )
    return AntecedentScore(
        plausibility=round(min(1.0, 0.2 + plausibility), 4),
        historical_precedent=None,
        causal_necessity=round(min(1.0, necessity * 2), 4),
        entity_capability=round(capability, 4) if capability is not None else None,
        reason="historical precedent is not judged offline; the rest is read from the texts",
    )


def _state_text(description: str, events: tuple[str, ...]) -> str:
    return " ".join([description, *events])


def generate_path_coherence(ctx: PathCoherenceContext, rng: Random) -> PathCoherence:
    """Each link read from the texts: how much of the later state the earlier one, with what
    it was said to lead to, anticipates (the cosine of their word vectors), on a scale where
    a state that shares its subject and its people with the next reads as following on."""
    links = []
    for i in range(len(ctx.states) - 1):
        earlier, later = ctx.states[i], ctx.states[i + 1]
        said = ctx.links[i] if i < len(ctx.links) else ""
        ranked = rank(
            _state_text(later.description, later.key_events),
            [f"{said} {_state_text(earlier.description, earlier.key_events)}"],
        )
        similarity = ranked[0][1] if ranked else 0.0
        links.append(round(min(1.0, 0.3 + 1.5 * similarity), 4))
    return PathCoherence(
        links=tuple(links),
        reason="each step judged by how much of the next state the earlier one anticipates",
    )
