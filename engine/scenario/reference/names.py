"""Names and kinds of the reference engine's entities: a slug for an id, an entity type guessed
from a roster key, and a display name for an id such as ``witness_dr_patel``."""

from __future__ import annotations

import re
from typing import Any

from ...model.common import ENTITY_TYPES

TITLES = {
    "dr": "Dr.",
    "judge": "Judge",
    "cmdr": "Cmdr.",
    "lt": "Lt.",
    "capt": "Capt.",
    "captain": "Captain",
    "prof": "Prof.",
    "sgt": "Sgt.",
    "nurse": "Nurse",
}
ROLE_WORDS = frozenset(
    [
        "plaintiff",
        "defense",
        "defence",
        "counsel",
        "attorney",
        "witness",
        "general",
        "whistleblower",
        "sec",
        "cro",
        "cfo",
        "ceo",
        "cto",
        "coo",
        "regulator",
        "analyst",
        "eng",
        "engineer",
        "officer",
        "founder",
        "investor",
        "partner",
        "vp",
        "patient",
        "agent",
        "lead",
        "chief",
        "senior",
        "junior",
        "external",
        "internal",
        "program",
        "director",
        "compliance",
        "young",
        "investigator",
        "reviewer",
        "manager",
        "building",
    ]
)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = "t_" + slug
    return slug[:64]


def _type_of(key: str, declared: Any) -> str:
    if isinstance(declared, str) and declared in ENTITY_TYPES:
        return declared
    key = key.lower()
    for word, kind in (
        ("fox", "animal"),
        ("hound", "animal"),
        ("elk", "animal"),
        ("wolf", "animal"),
        ("heron", "animal"),
        ("okami", "kami"),
        ("kami", "kami"),
        ("spirit", "spirit"),
        ("shrine", "building"),
        ("building", "building"),
        ("ship", "vehicle"),
        ("moor", "environment"),
        ("planet", "environment"),
        ("biosphere", "environment"),
    ):
        if word in key:
            return kind
    return "human"


def name_from_id(entity_id: str, description: str) -> str:
    """A display name for an id such as ``witness_dr_patel``, preferring the fuller form the
    description uses ("Dr. Priya Patel")."""
    tokens = [t for t in entity_id.split("_") if t]
    titles = [TITLES[t] for t in tokens if t in TITLES]
    words = [t for t in tokens if t not in TITLES and t not in ROLE_WORDS]
    if not words:
        words = tokens[-1:]
    surname = words[-1].capitalize()
    for match in re.finditer(rf"((?:[A-Z][a-z]+\.? ){{1,2}}){surname}\b", description):
        lead = match.group(1).split()
        lead = [w for w in lead if w.rstrip(".").lower() not in {"the", "a", "an", "and", "with"}]
        if lead:
            return " ".join([*lead, surname])
    name = " ".join(w.capitalize() for w in words)
    return " ".join([*titles[:1], name]) if titles else name
