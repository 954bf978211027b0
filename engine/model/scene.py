"""Scene-level entity sets (M10): the place a moment happens in and the mood of the room.

A scene is read once per timepoint, after its event is written: the physical environment, and
an atmosphere (tension, formality, emotional colour, energy) that every dialog turn of the
moment is written knowing. What is said then moves the atmosphere; ``after`` keeps the room as
the dialog leaves it, and the next scene starts with some of that residue.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Atmosphere(BaseModel):
    """The emergent mood of a room: four numbers and a sentence or two a reader can feel."""

    model_config = ConfigDict(frozen=True)

    tension: float = Field(ge=0.0, le=1.0)
    formality: float = Field(ge=0.0, le=1.0)
    valence: float = Field(ge=-1.0, le=1.0)
    energy: float = Field(ge=0.0, le=1.0)
    description: str = Field(min_length=1)


class Environment(BaseModel):
    """The physical space of a scene: where it is, what it looks, sounds and feels like."""

    model_config = ConfigDict(frozen=True)

    location: str
    lighting: str = ""
    sound: str = ""
    weather: str = ""
    crowding: str = ""


class Scene(BaseModel):
    """The scene of one timepoint: its environment, the atmosphere as it opens and (once the
    dialog is over) the atmosphere it leaves behind."""

    model_config = ConfigDict(frozen=True)

    timepoint_id: str
    environment: Environment
    atmosphere: Atmosphere
    after: Atmosphere | None = None
