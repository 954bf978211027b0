"""The two sentences on how a scene feels: its tension in the place, then what the previous
scene left in the room or whose mood stands out, never repeating a phrase of another field."""

from __future__ import annotations

from random import Random

from ...contexts import SceneContext
from .. import text as tx
from ..events import _fill, _pick
from .bank import Level, MoodWord, scene_bank
from .setting import _short

_SHINGLE = 5


def _shingles(text: str, n: int = _SHINGLE) -> set[tuple[str, ...]]:
    words = [w.strip(".,;:!?\"'’").lower() for w in text.split()]
    words = [w for w in words if w]
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def repeated_phrase(fields: list[str], n: int = _SHINGLE) -> tuple[str, ...] | None:
    """A run of ``n`` words that two of the fields share, or None."""
    seen: set[tuple[str, ...]] = set()
    for text in fields:
        own = _shingles(text, n)
        common = own & seen
        if common:
            return min(common)
        seen |= own
    return None


def _mood_line(ctx: SceneContext, named: set[str], rng: Random) -> str | None:
    """A sentence about the person whose mood stands out most (the bank's order is the order
    of precedence), among those the description has not named yet."""
    bank = scene_bank()
    found: list[tuple[int, str, MoodWord]] = []
    for member in ctx.present:
        who = tx.first_name(member.entity.name)
        for rank, word in enumerate(bank.moods):
            if word in member.mood.label and who not in named:
                found.append((rank, who, word))
    if not found:
        return None
    best = min(r for r, _, _ in found)
    who, word = rng.choice([(w, m) for r, w, m in found if r == best])
    return rng.choice(bank.moods[word]).format(who=who)


def _residue(ctx: SceneContext, tension: float, valence: float, rng: Random) -> str | None:
    """A sentence about what the previous scene left in the room, when it left something."""
    previous = ctx.previous
    if previous is None:
        return None
    bank = scene_bank().residue
    if previous.tension - tension >= 0.2:
        return rng.choice(bank["calmer"])
    if previous.tension >= 0.6:
        return rng.choice(bank["tenser"])
    if previous.valence <= -0.3:
        return rng.choice(bank["colder"])
    if previous.valence >= 0.3:
        return rng.choice(bank["warmer"])
    return None


def _description(
    ctx: SceneContext,
    place: str,
    sound: str,
    level: Level,
    numbers: tuple[float, ...],
    rng: Random,
    taken: list[str],
) -> str:
    """Two sentences on how the moment feels; ``sound`` is the setting's sound it may name,
    and nothing in it repeats a phrase of the ``taken`` fields."""
    bank = scene_bank()
    people = list(ctx.present)
    agitated = max(people, key=lambda m: (m.mood.arousal, m.entity.entity_id), default=None)
    steady = min(people, key=lambda m: (m.mood.arousal, m.entity.entity_id), default=None)
    short = _short(place)
    slots = {
        "place": tx.lower_first(short),
        "Place": tx.upper_first(short),
        "sound": sound.split(",")[0],
        "agitated": tx.first_name(agitated.entity.name) if agitated else "",
        "steady": tx.first_name(steady.entity.name) if steady else "",
    }
    if agitated is steady:
        slots["steady"] = ""
    options = tuple(
        o for o in bank.description[level] if not repeated_phrase([*taken, _fill(o, slots) or ""])
    )
    first = _pick(options, slots, rng)
    if first is None:
        first = f"{tx.upper_first(short)} {ctx.time_of_day}, and nobody is at ease."
    tension, _, valence, _ = numbers
    named = {slots["agitated"], slots["steady"]}
    second = _residue(ctx, tension, valence, rng) or _mood_line(ctx, named, rng)
    return tx.capitalize_sentences(f"{first} {second}" if second else first)
