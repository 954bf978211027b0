"""The phrase banks and cue words of offline scenes (``engine/data/offline/scene.json``) and
the words they are keyed by: parts of the day, tension levels, senses, moods and shifts."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from ..library import _Data, _load

TimeBucket = Literal["night", "dawn", "morning", "day", "evening"]
Level = Literal["calm", "uneasy", "tense", "charged"]
Sense = Literal["lighting", "sound", "weather"]
MoodWord = Literal["exhausted", "in pain", "hostile", "distressed", "agitated", "hopeful"]
Shift = Literal["tenser", "calmer", "warmer", "colder"]


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
