"""The environment of a scene in words: its lighting, sound, weather and who is there, from the
event, the setting's own fragments and the phrase banks."""

from __future__ import annotations

import re
from random import Random

from ...contexts import CastMember, SceneContext
from .. import text as tx
from ..events import _pick
from .bank import Level, TimeBucket, scene_bank
from .setting import _short

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


def _has_any(text: str, cues: tuple[str, ...] | frozenset[str]) -> bool:
    return any(tx.contains_phrase(text, cue) for cue in cues)


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
