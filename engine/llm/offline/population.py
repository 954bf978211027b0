"""Offline entity population: plausible, named entities with roles drawn from the scenario.

Names written into the scenario description are used first ("between Jefferson, Hamilton, and
Madison"); roles, traits, knowledge and voices come from the archetype library whose keywords
best match the scenario.
"""

from __future__ import annotations

import re
from random import Random

from ...model.archetypes import Archetype, archetypes
from ...model.responses import EntityDraft, PopulationResponse
from ...model.tensors import BEHAVIOR_DIMS
from ..contexts import PopulationContext
from . import text as tx
from .library import names

_CAP = r"[A-Z][a-zA-Z'’.-]+"
_NAME = rf"(?:(?:Dr\.|Mr\.|Mrs\.|Ms\.) )?{_CAP}(?: {_CAP})?"
_LIST = re.compile(rf"({_NAME})((?:, {_NAME})*),? (?:and|&) ({_NAME})")
NOT_NAMES = frozenset(
    [
        "Simulate",
        "Simulation",
        "The",
        "A",
        "An",
        "In",
        "On",
        "At",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "CEO",
        "CFO",
        "CTO",
        "COO",
        "SEC",
        "FDA",
        "OCC",
        "Q1",
        "Q2",
        "Q3",
        "Q4",
        "Track",
        "Day",
        "Night",
    ]
)


def names_in(text: str, known: set[str]) -> list[str]:
    """Proper names listed in a description, in order, without duplicates."""
    found: list[str] = []
    for match in _LIST.finditer(text):
        middle = [m.strip() for m in match.group(2).split(",") if m.strip()]
        for candidate in (match.group(1), *middle, match.group(3)):
            words = candidate.split()
            if any(w in NOT_NAMES for w in words) or candidate.lower() in known:
                continue
            if candidate not in found:
                found.append(candidate)
    return found


def rank_archetypes(ctx: PopulationContext, rng: Random) -> list[Archetype]:
    text = f"{ctx.scenario.title} {ctx.scenario.description} {' '.join(ctx.scenario.tags)}".lower()
    words = set(tx.content_words(text))
    scored = []
    for arch in archetypes().archetypes:
        if arch.entity_type not in ctx.types:
            continue
        hits = sum(1 for k in arch.keywords if (k in words if " " not in k else k in text))
        scored.append((hits + rng.random() * 0.5, arch.id, arch))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [arch for _, _, arch in scored]


def _person_name(rng: Random, taken: set[str]) -> str:
    pools = names()
    for _ in range(200):
        name = f"{rng.choice(pools.given)} {rng.choice(pools.family)}"
        if name.lower() not in taken:
            return name
    return f"{rng.choice(pools.given)} {rng.choice(pools.family)}-{len(taken)}"


def _nonhuman_name(entity_type: str, arch: Archetype, rng: Random, taken: set[str]) -> str:
    pool = names().nonhuman.get(entity_type, ())
    options = [n for n in pool if n.lower() not in taken]
    if options:
        return rng.choice(options)
    return f"the {arch.roles[0].lower()}"


def _fill(template: str, slots: dict[str, str]) -> str:
    return tx.upper_first(template.format_map(slots))


def _human(ranked: list[Archetype], fallback: Archetype) -> Archetype:
    """The best-matching human archetype (an entity asked for by a role is a person)."""
    return next((a for a in ranked if a.entity_type == "human"), fallback)


def generate_population(ctx: PopulationContext, rng: Random) -> PopulationResponse:
    taken = {e.name.lower() for e in ctx.existing}
    listed = names_in(ctx.scenario.description, taken)
    ranked = rank_archetypes(ctx, rng)
    if not ranked:
        ranked = [a for a in archetypes().archetypes if a.entity_type == "human"]
    premise = tx.topic(tx.first_sentence(ctx.scenario.description))
    drafts: list[EntityDraft] = []
    used_roles = {e.role.lower() for e in ctx.existing}
    for i in range(ctx.count):
        arch = ranked[i % len(ranked)]
        role = next((r for r in arch.roles if r.lower() not in used_roles), arch.roles[0])
        if i < len(ctx.roles):  # asked for on demand as "the dock worker": that is the role
            role, arch = ctx.roles[i], _human(ranked, arch)
        used_roles.add(role.lower())
        if arch.entity_type in ("human", "person", "character") and listed:
            name = listed.pop(0)
        elif arch.entity_type in ("human", "person", "character"):
            name = _person_name(rng, taken)
        else:
            name = _nonhuman_name(arch.entity_type, arch, rng, taken)
        taken.add(name.lower())
        slots = {
            "name": name,
            "role": role.lower(),
            "premise": premise,
            "location": ctx.scenario.location,
            "title": ctx.scenario.title,
        }
        traits = {
            dim: round(min(1.0, max(0.0, arch.traits.get(dim, 0.5) + rng.uniform(-0.08, 0.08))), 3)
            for dim in BEHAVIOR_DIMS
        }
        drafts.append(
            EntityDraft(
                name=name,
                entity_type=arch.entity_type,
                role=role,
                description=_fill(arch.description, slots),
                archetype=arch.id,
                personality=arch.personality,
                traits=traits,
                knowledge=tuple(_fill(k, slots) for k in arch.knowledge),
                voice=arch.voice,
            )
        )
    return PopulationResponse(entities=tuple(drafts))
