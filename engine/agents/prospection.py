"""Entity prospection: the inner life a character keeps after a dialog (M15).

Pure functions, no I/O and no model calls. The engine asks a provider for a
:class:`~engine.model.responses.ProspectionResponse` and assembles the new
:class:`~engine.model.inner.InnerLife` here: which private knowledge was held back, how recurring
concerns fade when the dialog addresses them and grow when it does not, and which expectations are
likely enough to become knowledge the character holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..knowledge.words import content_words
from ..model.inner import Concern, Expectation, InnerLife
from ..model.responses import ProspectionResponse


def addressed(topic: str, texts: Iterable[str]) -> bool:
    """Whether the texts take up a topic: at least half of its content words (and at least one)
    occur in them."""
    wanted = content_words(topic)
    if not wanted:
        return False
    said: set[str] = set()
    for text in texts:
        said |= content_words(text)
    return len(wanted & said) * 2 >= len(wanted)


def withheld(private: Sequence[str], referenced: Iterable[str], limit: int = 3) -> tuple[str, ...]:
    """What a character held privately and did not draw on in any of its turns, in the order it
    holds them, at most ``limit`` items.

    ``referenced`` is every knowledge item the character's own turns drew on; an item counts as
    said only when it was referenced verbatim.
    """
    said = set(referenced)
    out: list[str] = []
    for item in private:
        if item in said or item in out:
            continue
        out.append(item)
        if len(out) >= limit:
            break
    return tuple(out)


def update_concerns(
    previous: Sequence[Concern],
    new: Sequence[Concern],
    turn_texts: Sequence[str],
    *,
    relief: float = 0.15,
    growth: float = 0.1,
    floor: float = 0.05,
    limit: int = 5,
) -> tuple[Concern, ...]:
    """Rumination: the concerns a character carries out of a dialog.

    A concern it brought in fades by ``relief`` when the dialog took its topic up (see
    :func:`addressed`) and grows when nobody did, by ``growth`` times what is left below 1: a
    mild worry grows noticeably, one that already fills the mind hardly more, so intensities
    stay spread out instead of all piling up near 1. New concerns merge with
    these by topic, case-insensitively, keeping the higher intensity (and the newer wording).
    Concerns that fall below ``floor`` are let go; the rest are sorted by intensity, strongest
    first, then by topic, and the first ``limit`` kept.
    """
    merged: dict[str, Concern] = {}
    for concern in previous:
        if addressed(concern.topic, turn_texts):
            intensity = concern.intensity - relief
        else:
            intensity = concern.intensity + growth * (1.0 - concern.intensity)
        intensity = round(min(1.0, max(0.0, intensity)), 6)
        key = concern.topic.strip().lower()
        kept = merged.get(key)
        if kept is None or intensity > kept.intensity:
            merged[key] = Concern(topic=concern.topic, intensity=intensity)
    for concern in new:
        key = concern.topic.strip().lower()
        kept = merged.get(key)
        if kept is None or concern.intensity >= kept.intensity:
            merged[key] = concern
    alive = [c for c in merged.values() if c.intensity >= floor]
    alive.sort(key=lambda c: (-c.intensity, c.topic.lower()))
    return tuple(alive[:limit])


def anticipations(
    expectations: Sequence[Expectation], threshold: float = 0.6
) -> list[tuple[str, float]]:
    """Expectations likely enough to become knowledge the character holds: ``(information,
    confidence)`` for each one at or above ``threshold``, its confidence being its likelihood."""
    return [(e.about, e.likelihood) for e in expectations if e.likelihood >= threshold]


def inner_life(
    entity_id: str,
    timepoint_id: str,
    response: ProspectionResponse,
    previous: InnerLife | None,
    withheld_items: Sequence[str],
    turn_texts: Sequence[str],
) -> InnerLife:
    """The new inner life of a character after a dialog: the memory, expectations, held-back
    impulse and anxiety of the response; its concerns carried over from ``previous`` and updated
    by :func:`update_concerns`; and what it held back in this dialog."""
    before = previous.concerns if previous is not None else ()
    return InnerLife(
        entity_id=entity_id,
        timepoint_id=timepoint_id,
        memory=response.memory,
        expectations=response.expectations,
        concerns=update_concerns(before, response.new_concerns, turn_texts),
        withheld=tuple(withheld_items),
        suppressed=response.suppressed_impulse,
        anxiety=response.anxiety,
    )
