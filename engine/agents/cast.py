"""Building the cast: profiles from roster entries (M1) or generated drafts, and initial state.

Roster entries are loaded as given; what they leave out (traits, voice) comes from the
archetype that best fits their role, and then from their personality adjectives, so that even
a bare reference roster produces distinct voices.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from random import Random

from ..model.archetypes import Archetype, archetypes
from ..model.common import ResolutionLevel
from ..model.entity import Entity, EntityProfile, VoiceGuide
from ..model.responses import EntityDraft
from ..model.tensors import BEHAVIOR_DIMS, TTMTensor
from ..resources import data_path
from ..scenario.schema import EntitySpec, EntityStateSpec
from .emotion import ttm_to_cognitive


@lru_cache(maxsize=1)
def personality_effects() -> dict[str, dict[str, float]]:
    """Adjective → trait adjustments (data: ``engine/data/personality.json``)."""
    with open(data_path("personality.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    effects = data["adjectives"]
    for adjective, change in effects.items():
        unknown = set(change) - set(BEHAVIOR_DIMS)
        if unknown:
            raise ValueError(
                f"personality.json: {adjective} names unknown traits {sorted(unknown)}"
            )
    return effects


def _stable_rng(*parts: object) -> Random:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()
    return Random(digest)


def match_archetype(text: str, entity_type: str = "human") -> Archetype | None:
    """The archetype whose keywords best match a role or description (None if none match)."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    best: tuple[int, str, Archetype] | None = None
    for arch in archetypes().archetypes:
        if arch.entity_type != entity_type:
            continue
        hits = sum(1 for k in arch.keywords if (k in words if " " not in k else k in text.lower()))
        if hits and (best is None or (hits, arch.id) > best[:2]):
            best = (hits, arch.id, arch)
    return best[2] if best else None


def derive_traits(
    personality: tuple[str, ...], base: dict[str, float], seed_key: str
) -> dict[str, float]:
    rng = _stable_rng("traits", seed_key)
    effects = personality_effects()
    traits = {}
    for dim in BEHAVIOR_DIMS:
        value = base.get(dim, 0.5 + rng.uniform(-0.1, 0.1))
        for adjective in personality:
            value += effects.get(adjective.lower(), {}).get(dim, 0.0)
        traits[dim] = round(min(1.0, max(0.0, value)), 4)
    return traits


def default_voice(traits: dict[str, float]) -> VoiceGuide:
    richness, formality = traits["vocabulary_richness"], traits["formality"]
    length = "short" if richness < 0.35 else "long" if richness > 0.72 else "medium"
    register = "casual" if formality < 0.35 else "formal" if formality > 0.68 else "neutral"
    return VoiceGuide(sentence_length=length, formality=register)


def profile_from_spec(spec: EntitySpec) -> EntityProfile:
    arch = archetypes().get(spec.archetype) if spec.archetype else None
    if spec.archetype and arch is None:
        raise ValueError(f"unknown archetype {spec.archetype!r}")
    if arch is None and (spec.voice is None or len(spec.traits) < len(BEHAVIOR_DIMS)):
        arch = match_archetype(f"{spec.role} {spec.description}", spec.type)
    personality = tuple(spec.personality) or (arch.personality if arch else ())
    base = dict(arch.traits) if arch else {}
    base.update(spec.traits)
    traits = derive_traits(personality if not spec.traits else (), base, spec.id)
    traits.update(spec.traits)
    voice = spec.voice or (arch.voice if arch else default_voice(traits))
    return EntityProfile(
        entity_id=spec.id,
        name=spec.name,
        entity_type=spec.type,
        role=spec.role,
        description=spec.description,
        archetype=arch.id if arch else None,
        personality=personality,
        traits=traits,
        voice=voice,
        initial_knowledge=tuple(spec.knowledge),
        source="roster",
    )


def slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "entity"
    if not base[0].isalpha():
        base = "e_" + base
    candidate, n = base[:60], 2
    while candidate in taken:
        candidate = f"{base[:56]}_{n}"
        n += 1
    return candidate


def profile_from_draft(draft: EntityDraft, entity_id: str) -> EntityProfile:
    traits = derive_traits(
        draft.personality, {k: v for k, v in draft.traits.items() if k in BEHAVIOR_DIMS}, entity_id
    )
    traits.update({k: min(1.0, max(0.0, v)) for k, v in draft.traits.items() if k in BEHAVIOR_DIMS})
    return EntityProfile(
        entity_id=entity_id,
        name=draft.name,
        entity_type=draft.entity_type,
        role=draft.role,
        description=draft.description,
        archetype=draft.archetype,
        personality=draft.personality,
        traits=traits,
        voice=draft.voice,
        initial_knowledge=draft.knowledge,
        source="generated",
    )


def initial_entity(
    profile: EntityProfile, state: EntityStateSpec | None, resolution: ResolutionLevel
) -> Entity:
    t = profile.traits
    s = state or EntityStateSpec()

    def pick(value: float | None, default: float) -> float:
        return round(min(1.0, max(0.0, default if value is None else value)), 6)

    valence = s.valence if s.valence is not None else 0.2 * (t["warmth"] - 0.5)
    context = [
        pick(None, 0.1 + 0.05 * len(profile.initial_knowledge)),
        pick((valence + 1.0) / 2.0, 0.5),
        pick(s.arousal, 0.25 + 0.3 * t["volatility"]),
        pick(None if s.energy is None else s.energy / 100.0, 0.75),
        pick(s.confidence, 0.4 + 0.4 * t["assertiveness"]),
        pick(s.patience, 0.7 - 0.4 * t["volatility"]),
        pick(s.risk, 0.3 + 0.4 * t["novelty_seeking"]),
        pick(s.social, 0.3 + 0.5 * t["warmth"]),
    ]
    biology = [
        pick(s.vitality, 0.85),
        pick(s.pain, 0.0),
        pick(s.fatigue, 0.2),
        pick(None if s.age is None else s.age / 100.0, 0.4),
    ]
    behavior = [t[dim] for dim in BEHAVIOR_DIMS]
    tensor = TTMTensor(context=context, biology=biology, behavior=behavior)
    return Entity(
        entity_id=profile.entity_id,
        profile=profile,
        tensor=tensor,
        cognitive=ttm_to_cognitive(tensor),
        resolution=resolution,
    )
