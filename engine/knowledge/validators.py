"""Constraint enforcement (M4): validators are pure functions returning what they found."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..model.knowledge import ExposureEvent, KnowledgeItem


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
