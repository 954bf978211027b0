"""Offline scenes (M10): the environment and the atmosphere of a moment, built from the
scenario's setting, the event, the time of day and the people present with their moods.

The numbers follow the moment: tension from the timeline's tension and how agitated and unhappy
the people are, valence from their moods, energy from their arousal and strength and the hour,
formality from the setting and the roles present. The words come from the scenario itself (its
location and atmosphere text, cut into fragments and sorted by sense) and from the phrase banks
in ``engine/data/offline/scene.json``.
"""

from __future__ import annotations

from random import Random

from ....model.responses import SceneResponse
from ....model.scene import Atmosphere, Environment
from ...contexts import SceneContext
from .. import text as tx
from .description import _description
from .environment import _crowding, _fragment, _lighting, _sound, _sound_source, _weather
from .measures import _level, _numbers
from .setting import _fits_hour, _fragments, _place, _senses, time_bucket


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
