"""Offline scenes (M10): the environment and the atmosphere of a moment, built from the
scenario's setting, the event, the time of day and the people present with their moods.

The numbers follow the moment: tension from the timeline's tension and how agitated and unhappy
the people are, valence from their moods, energy from their arousal and strength and the hour,
formality from the setting and the roles present. The words come from the scenario itself (its
location and atmosphere text, cut into fragments and sorted by sense) and from the phrase banks
in ``engine/data/offline/scene.json``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from random import Random
from typing import Literal

from pydantic import Field

from ...model.scene import Atmosphere, Environment
from ..contexts import CastMember, SceneContext
from ..responses import SceneResponse
from . import text as tx
from .events import _fill, _pick
from .library import _Data, _load

TimeBucket = Literal["night", "dawn", "morning", "day", "evening"]
Level = Literal["calm", "uneasy", "tense", "charged"]
Sense = Literal["lighting", "sound", "weather"]
MoodWord = Literal["exhausted", "in pain", "hostile", "distressed", "agitated", "hopeful"]
Shift = Literal["tenser", "calmer", "warmer", "colder"]

NUMBER_WORDS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


class _Cued(_Data):
    words: tuple[str, ...]
    phrases: tuple[str, ...]


class _Weather(_Data):
    words: tuple[str, ...]
    phrases: dict[TimeBucket, tuple[str, ...]]


class _Lighting(_Data):
    dark: _Cued
    fire: _Cued
    time: dict[TimeBucket, tuple[str, ...]]
    plain: dict[TimeBucket, tuple[str, ...]]


class _Sound(_Data):
    alarm: _Cued
    crowd: _Cued
    quiet: dict[Level, tuple[str, ...]]


class SceneBank(_Data):
    """Phrase banks and cue words for offline scenes. Slots are written ``{name}``."""

    version: Literal[1]
    slots: dict[str, str] = Field(alias="_slots")
    times: dict[TimeBucket, tuple[str, ...]]
    time_energy: dict[TimeBucket, float]
    senses: dict[Sense, frozenset[str]]
    weather: dict[str, _Weather]
    lighting: _Lighting
    sound: _Sound
    arrangement: dict[Level, tuple[str, ...]]
    crowding: dict[Literal["0", "1", "2", "few", "many"], tuple[str, ...]]
    formality: dict[Literal["formal", "casual"], frozenset[str]]
    description: dict[Level, tuple[str, ...]]
    moods: dict[MoodWord, tuple[str, ...]]
    residue: dict[Shift, tuple[str, ...]]


@lru_cache(maxsize=1)
def scene_bank() -> SceneBank:
    return _load(SceneBank, "offline", "scene.json")  # type: ignore[return-value]


# ------------------------------------------------------------------ reading the setting
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


def _has_any(text: str, cues: tuple[str, ...] | frozenset[str]) -> bool:
    return any(tx.contains_phrase(text, cue) for cue in cues)


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


# ------------------------------------------------------------------ the numbers
def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _level(tension: float) -> Level:
    if tension < 0.35:
        return "calm"
    if tension < 0.55:
        return "uneasy"
    if tension < 0.75:
        return "tense"
    return "charged"


def _numbers(ctx: SceneContext, bucket: TimeBucket, rng: Random) -> tuple[float, ...]:
    bank = scene_bank()
    moods = [m.mood for m in ctx.present]
    arousal = _mean([m.arousal for m in moods], 0.3)
    peak = max((m.arousal for m in moods), default=0.3)
    valence = _mean([m.valence for m in moods], 0.0)
    strength = _mean([m.energy / 100.0 for m in moods], 0.6)
    fatigue = _mean([m.fatigue for m in moods], 0.2)
    pain = _mean([m.pain for m in moods], 0.0)

    tension = (
        0.55 * ctx.tension
        + 0.25 * arousal
        + 0.1 * peak
        + 0.1 * max(0.0, -valence)
        + rng.uniform(-0.03, 0.03)
    )
    mood_valence = 0.6 * valence - 0.3 * (ctx.tension - 0.4) - 0.15 * pain
    energy = (
        0.45 * arousal
        + 0.25 * strength
        + 0.2 * ctx.tension
        - 0.1 * fatigue
        + bank.time_energy[bucket]
        + rng.uniform(-0.03, 0.03)
    )
    setting = " ".join(
        (
            ctx.scenario.location,
            ctx.scenario.description,
            " ".join(ctx.scenario.tags),
            ctx.event_description,
            " ".join(m.entity.role for m in ctx.present),
        )
    ).lower()
    words = {w.strip(".,:;'’") for w in re.split(r"[\s/]+", setting)}
    cues = len(words & bank.formality["formal"]) - len(words & bank.formality["casual"])
    # (distinct cue words: a setting that says "nurse" ten times is no more casual for it)
    formality = (
        0.45
        + _clamp(0.03 * cues, -0.2, 0.2)
        - 0.15 * (ctx.tension - 0.5)
        - (0.05 if bucket == "night" else 0.0)
        + rng.uniform(-0.02, 0.02)
    )
    return (
        round(_clamp(tension, 0.0, 1.0), 3),
        round(_clamp(formality, 0.05, 0.95), 3),
        round(_clamp(mood_valence + rng.uniform(-0.03, 0.03), -1.0, 1.0), 3),
        round(_clamp(energy, 0.0, 1.0), 3),
    )


# ------------------------------------------------------------------ the words
def _names(people: list[CastMember]) -> str:
    names = [tx.first_name(m.entity.name) for m in people]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _fragment(text: str, setting: str = "") -> str:
    """A phrase as an environment field wants it: a lower-case fragment without a full stop,
    fit to be joined to the others with "; ". A first word the setting itself capitalises in
    mid-sentence ("Skerrow Rock ...") is a name and keeps its capital."""
    text = tx.strip_end(text.strip())
    first = text.split(" ", 1)[0]
    if not first or first[1:2].isupper() or not first[:1].isupper():
        return text
    if setting and re.search(rf"[a-z,;:] {re.escape(first)}\b", setting):
        return text
    return text[0].lower() + text[1:]


def _fits_hour(fragment: str, bucket: TimeBucket) -> bool:
    """Whether a setting fragment agrees with the hour: "a windless April night" is no part of
    a morning scene."""
    for other, phrases in scene_bank().times.items():
        if other != bucket and any(tx.contains_phrase(fragment, p) for p in phrases):
            return False
    return True


def _lighting(
    ctx: SceneContext, fragments: list[str], bucket: TimeBucket, outside: bool, rng: Random
) -> str:
    """The event's darkness or fire, else the setting's own light (with the hour's light
    outside, when the place has an outside with weather), else the hour's lamps."""
    bank = scene_bank().lighting
    said = f"{ctx.timepoint_title} {ctx.event_description}"
    if _has_any(said, bank.dark.words):
        return _fragment(rng.choice(bank.dark.phrases))
    if _has_any(said, bank.fire.words):
        return _fragment(rng.choice(bank.fire.phrases))
    if fragments:
        light = _fragment(rng.choice(fragments), ctx.scenario.atmosphere)
        return f"{light}; {_fragment(rng.choice(bank.time[bucket]))}" if outside else light
    return _fragment(rng.choice(bank.plain[bucket]))


def _sound_source(ctx: SceneContext, fragments: list[str], rng: Random) -> str:
    """The one sound of the moment: the event's alarm or crowd, else one of the setting's."""
    bank = scene_bank().sound
    said = f"{ctx.timepoint_title} {ctx.event_description}"
    if _has_any(said, bank.alarm.words):
        return _fragment(rng.choice(bank.alarm.phrases))
    if _has_any(said, bank.crowd.words):
        return _fragment(rng.choice(bank.crowd.phrases))
    if fragments:
        return _fragment(rng.choice(fragments), ctx.scenario.atmosphere)
    return ""


def _sound(source: str, level: Level, rng: Random) -> str:
    """A sound of the setting (when there is one), then how the people sound, after a
    semicolon."""
    voices = _fragment(rng.choice(scene_bank().sound.quiet[level]))
    return f"{source}; {voices}" if source else voices


def _weather(ctx: SceneContext, fragments: list[str], bucket: TimeBucket, rng: Random) -> str:
    """The event's own weather, else the setting's words for it, else what the setting implies;
    nothing for a place without weather."""
    kinds = scene_bank().weather.values()
    said = f"{ctx.timepoint_title} {ctx.event_description}"
    for kind in kinds:
        if _has_any(said, kind.words):
            return _fragment(rng.choice(kind.phrases[bucket]))
    if fragments:
        return _fragment(rng.choice(fragments), ctx.scenario.atmosphere)
    setting = f"{ctx.scenario.location} {ctx.scenario.atmosphere} {ctx.scenario.description}"
    for kind in kinds:
        if _has_any(setting, kind.words):
            return _fragment(rng.choice(kind.phrases[bucket]))
    return ""


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


def _crowding(ctx: SceneContext, place: str, level: Level, rng: Random) -> str:
    bank = scene_bank()
    people = [m for m in ctx.present if m.entity.entity_type == "human"]
    others = [m for m in ctx.present if m.entity.entity_type != "human"]
    n = len(people)
    key = "0" if n == 0 else "1" if n == 1 else "2" if n == 2 else "few" if n <= 6 else "many"
    count = NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)
    slots = {
        "place": tx.lower_first(_short(place)),
        "names": _names(people),
        "count": count,
        "Count": tx.upper_first(count),
        "arrangement": rng.choice(bank.arrangement[level]),
        "others": f", with {_names(others)}" if others else "",
    }
    if not others:
        slots["others"] = " "  # a filled slot; trimmed below
    text = _pick(bank.crowding[key], slots, rng) or f"{tx.upper_first(count)} present"
    if not people and others:
        text = f"{tx.upper_first(_names(others))} alone here"
    return text.strip()


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


def generate_scene(ctx: SceneContext, rng: Random) -> SceneResponse:
    """The scene of one moment: deterministic for a seed and a context."""
    bucket = time_bucket(ctx.time_of_day)
    fragments = [f for f in _fragments(ctx.scenario.atmosphere) if _fits_hour(f, bucket)]
    senses = _senses(fragments)
    place = _place(ctx, rng)
    numbers = _numbers(ctx, bucket, rng)
    level = _level(numbers[0])
    source = _sound_source(ctx, senses["sound"], rng)
    weather = _weather(ctx, senses["weather"], bucket, rng)
    lighting = _lighting(ctx, senses["lighting"], bucket, bool(weather), rng)
    crowding = _crowding(ctx, place, level, rng)
    description = _description(ctx, place, source, level, numbers, rng, [lighting, weather])
    if source and tx.contains_phrase(description, source.split(",")[0]):
        # The description already names this sound: the sound field takes another, or none.
        rest = [f for f in senses["sound"] if _fragment(f, ctx.scenario.atmosphere) != source]
        source = _fragment(rng.choice(rest), ctx.scenario.atmosphere) if rest else ""
    sound = _sound(source, level, rng)
    environment = Environment(
        location=tx.upper_first(place),
        lighting=lighting,
        sound=sound,
        weather=weather,
        crowding=crowding,
    )
    tension, formality, valence, energy = numbers
    atmosphere = Atmosphere(
        tension=tension,
        formality=formality,
        valence=valence,
        energy=energy,
        description=description,
    )
    return SceneResponse(environment=environment, atmosphere=atmosphere)
