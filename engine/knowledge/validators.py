"""Constraint enforcement (M4): validators are pure functions returning what they found."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..model.knowledge import ExposureEvent, KnowledgeItem
from .words import content_words, mentions


@dataclass(frozen=True, slots=True)
class ValidationResult:
    validator: str
    valid: bool
    violations: tuple[str, ...] = ()


def information_conservation(references: Iterable[str], known: Iterable[str]) -> ValidationResult:
    """An entity may only draw on knowledge it has an exposure event for."""
    held = set(known)
    violations = tuple(r for r in references if r not in held)
    return ValidationResult("information_conservation", not violations, violations)


def extraction_provenance(
    item: KnowledgeItem, *, speaker_known: set[str], turn_references: set[str], present: set[str]
) -> ValidationResult:
    """An extracted item must come from the speaker and reach only people who were there.

    An item that restates a knowledge item must be one the speaker held; listeners must have
    been present and may not include the speaker.
    """
    problems: list[str] = []
    if item.content in turn_references and item.content not in speaker_known:
        problems.append(f"speaker did not hold: {item.content}")
    absent = [lid for lid in item.listeners if lid not in present]
    if absent:
        problems.append(f"listeners not present: {', '.join(absent)}")
    return ValidationResult("extraction_provenance", not problems, tuple(problems))


def branch_isolation(held: Iterable[ExposureEvent], lineage: frozenset[str]) -> ValidationResult:
    """Branches do not leak (M12): everything an entity holds at a moment entered the world on
    that moment's causal lineage (or was known from the start). Anything learned on a sibling
    branch, or after the moment, is a violation."""
    violations = tuple(
        x.information for x in held if x.timepoint_id and x.timepoint_id not in lineage
    )
    return ValidationResult("branch_isolation", not violations, violations)


_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without)\b|n't\b")


def _negated(text: str) -> bool:
    return _NEGATION.search(text.lower()) is not None


def contradiction(item: str, known: Iterable[str]) -> str | None:
    """The held item that ``item`` contradicts, if any: one about the same thing (most of
    their content words shared) where one is negated and the other is not."""
    words = content_words(item)
    if not words:
        return None
    for other in known:
        theirs = content_words(other)
        shared = len(words & theirs)
        if shared >= max(2, 0.6 * min(len(words), len(theirs))) and (
            _negated(item) != _negated(other)
        ):
            return other
    return None


def elaboration_consistency(
    items: Iterable[str], known: Iterable[str], unreachable: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Which new items an elevation may add (M4, M7): not already held, contradicting nothing
    held, and about nothing that is only established outside the moment's causal lineage (a
    later timepoint or another branch). Returns (accepted, reasons for the rejected)."""
    held = list(known)
    beyond = list(unreachable)
    accepted: list[str] = []
    rejected: list[str] = []
    for item in items:
        if item in held:
            continue
        clash = contradiction(item, held)
        if clash is not None:
            rejected.append(f"contradicts what is held ({clash[:80]}): {item[:80]}")
            continue
        ahead = next((x for x in beyond if mentions(item, x) or mentions(x, item)), None)
        if ahead is not None:
            rejected.append(f"not known yet at this moment ({ahead[:80]}): {item[:80]}")
            continue
        accepted.append(item)
        held.append(item)
    return accepted, rejected
