"""Reading a scenario's setting for a scene: the part of the day, the atmosphere text cut into
fragments sorted by sense, and the place of the setting a moment happens in."""

from __future__ import annotations

import re
from random import Random

from ...contexts import SceneContext
from .. import text as tx
from .bank import Sense, TimeBucket, scene_bank

_FRAGMENT_SPLIT = re.compile(r",\s*(?:and\s+)?|;\s*|\.\s+")


def _clean(text: str) -> set[str]:
    """Lower-case words of ``text`` in a crude singular form, for overlap tests."""
    out = set()
    for word in tx.content_words(text):
        word = word.strip("'’")
        if word.endswith("'s") or word.endswith("’s"):
            word = word[:-2]
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.add(word)
    return out


def time_bucket(time_of_day: str) -> TimeBucket:
    """Which part of the day a time-of-day phrase ("in the small hours") names."""
    low = time_of_day.lower()
    best: tuple[int, TimeBucket] = (0, "day")
    for bucket, phrases in scene_bank().times.items():
        for phrase in phrases:
            if phrase in low and len(phrase) > best[0]:
                best = (len(phrase), bucket)
    return best[1]


def _fragments(atmosphere: str) -> list[str]:
    """The scenario's atmosphere text cut into sensory fragments."""
    parts = []
    for part in _FRAGMENT_SPLIT.split(atmosphere):
        pieces = [p.strip().rstrip(".") for p in part.split(" and ")]
        if all(len(p.split()) >= 3 for p in pieces):
            parts.extend(pieces)  # "rain on the windows and three hundred men waiting ..."
        else:
            parts.append(part.strip().rstrip("."))
    return [p for p in parts if len(p.split()) >= 3]


def _fits_hour(fragment: str, bucket: TimeBucket) -> bool:
    """Whether a setting fragment agrees with the hour: "a windless April night" is no part of
    a morning scene."""
    for other, phrases in scene_bank().times.items():
        if other != bucket and any(tx.contains_phrase(fragment, p) for p in phrases):
            return False
    return True


def _senses(fragments: list[str]) -> dict[Sense, list[str]]:
    """Each fragment under the sense it speaks to most (a fragment is used once)."""
    bank = scene_bank()
    scored = []
    for fragment in fragments:
        words = {w.lower().strip(".,") for w in tx.words(fragment)}
        hits = {sense: len(words & cues) for sense, cues in bank.senses.items()}
        scored.append((fragment, hits))
    out: dict[Sense, list[str]] = {"lighting": [], "sound": [], "weather": []}
    for fragment, hits in scored:
        best = max(hits.values())
        if best == 0:
            continue
        # ties go to the more distinctive sense: weather, then lighting, then sound
        for sense in ("weather", "lighting", "sound"):
            if hits[sense] == best:
                out[sense].append(fragment)
                break
    return out


def _places(location: str) -> list[str]:
    """The named places of a scenario's location ("Ward 3 and the boiler house of St Wenna's
    Community Hospital, a 22-bed hospital ..." -> ["Ward 3, St Wenna's Community Hospital",
    "the boiler house of St Wenna's Community Hospital"])."""
    segments = [s.strip() for s in re.split(r",\s*", location) if s.strip()]
    if not segments:
        return [location]
    head = [p.strip() for p in re.split(r":\s*|\s+and\s+", segments[0]) if p.strip()]
    tails = []
    for segment in segments[1:]:
        segment = re.sub(r"^and\s+", "", segment)
        segment = re.sub(r"^its\s+", "the ", segment)
        if segment[:1].isupper() or segment.startswith("the "):
            tails.append(segment)
    owner = next((p.split(" of ", 1)[1] for p in head if " of " in p), "")
    places = []
    for place in head:
        if owner and " of " not in place and len(place.split()) <= 3:
            place = f"{place}, {owner}"
        places.append(place)
    return places + tails


def _short(place: str) -> str:
    """A place as a sentence names it ("the boiler house of St Wenna's ..." -> "the boiler
    house"; "Ward 3, St Wenna's Community Hospital" -> "Ward 3")."""
    return place.split(",", 1)[0].split(" of ", 1)[0].strip()


def _place(ctx: SceneContext, rng: Random) -> str:
    """Where this moment happens: the place of the setting the event speaks of most."""
    places = _places(ctx.scenario.location)
    # the event's heading often repeats the whole location; only its own words count
    event = ctx.event_description.replace(tx.upper_first(tx.short_place(ctx.scenario.location)), "")
    said = _clean(
        f"{ctx.timepoint_title} {event.replace(tx.short_place(ctx.scenario.location), '')}"
    )
    words = [_clean(p) for p in places]
    scores = []
    for i, own in enumerate(words):
        others = set().union(*(w for j, w in enumerate(words) if j != i))
        scores.append(len((own - others) & said))
    best = max(scores)
    chosen = [p for p, s in zip(places, scores, strict=True) if s == best]
    return chosen[0] if best == 0 else rng.choice(chosen)
