"""Scene atmosphere: how a dialog moves the mood of a room, and what one scene leaves the next
(M10).

Pure functions, no I/O beyond reading bundled word lists once, and no model calls. The engine
asks a provider for a :class:`~engine.model.responses.SceneResponse` as a moment opens; after its
dialog, :func:`shift_after_dialog` gives the atmosphere the talk leaves behind, and
:func:`carry_over` lets the next scene open with some of that residue.

Each turn is scored on three axes: *heat* (a challenge, an interruption, a heated tone, a
shouted line), *warmth* (support, agreement, a warm tone) and *liveliness* (urgent words,
exclamations, against tired tones and calming words). The lexicon of
:mod:`engine.agents.emotion` supplies the word lists for valence and arousal; tone and register
words live in ``engine/data/atmosphere.json``.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from ..model.dialog import DialogTurn
from ..model.scene import Atmosphere
from ..resources import data_path
from .emotion import lexicon

# Per-unit effect of the scores on the atmosphere, and the most one dialog can move it.
TENSION_PER_HEAT = 0.07
TENSION_PER_WARMTH = 0.06
VALENCE_PER_HEAT = 0.06
VALENCE_PER_WARMTH = 0.06
VALENCE_PER_WORD = 0.015
ENERGY_PER_HEAT = 0.05
ENERGY_PER_LIVELINESS = 0.03
FORMALITY_DRIFT = 0.1  # how far formality moves toward the speakers' register
MAX_SHIFT = 0.35  # for tension and energy; valence (on a scale twice as wide) may move 1.5x
NOTABLE = 0.15  # a change at least this large earns a clause in the description

ClauseKind = Literal["tenser", "calmer", "warmer", "colder", "livelier", "quieter"]

_STANCE_HEAT = {"challenges": 1.0, "questions": 0.3, "deflects": 0.25}
_STANCE_WARMTH = {"supports": 1.0}
_INTERRUPTED = ("—", "–", "--", "-")
_CONTRACTION = re.compile(r"\w(?:n't|'re|'m|'ll|'ve)\b|\b(?:let's|that's|it's)\b")
_TOKEN = re.compile(r"[a-z][a-z'’\-]*")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AtmosphereWords(_Data):
    """Tone, register and clause lists for :func:`shift_after_dialog`."""

    version: Literal[1]
    about: str = Field("", alias="_about")
    tones: dict[Literal["heated", "warm", "subdued", "formal", "casual"], frozenset[str]]
    registers: dict[Literal["formal", "casual"], frozenset[str]]
    clauses: dict[ClauseKind, tuple[str, ...]]


@lru_cache(maxsize=1)
def atmosphere_words() -> AtmosphereWords:
    with open(data_path("atmosphere.json"), encoding="utf-8") as handle:
        return AtmosphereWords.model_validate(json.load(handle))


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _tokens(text: str) -> list[str]:
    return [t.replace("’", "'").strip("'-") for t in _TOKEN.findall(text.lower())]


class _TurnScore(NamedTuple):
    heat: float
    warmth: float
    liveliness: float
    words: float  # positive minus negative lexicon words
    register: float | None  # 0 casual .. 1 formal, None when the turn gives no sign


def _score(turn: DialogTurn) -> _TurnScore:
    """How much heat, warmth and liveliness one turn brings into the room."""
    data = atmosphere_words()
    lex = lexicon()
    tone = set(_tokens(turn.emotional_tone))
    words = _tokens(turn.content)
    content = turn.content.strip()

    heat = _STANCE_HEAT.get(turn.stance, 0.0)
    warmth = _STANCE_WARMTH.get(turn.stance, 0.0)
    liveliness = 0.0
    if tone & data.tones["heated"]:
        heat += 0.8
        liveliness += 0.5
    if tone & data.tones["warm"]:
        warmth += 0.6
    if tone & data.tones["subdued"]:
        liveliness -= 1.0
    if content.endswith(_INTERRUPTED):  # cut off, or cutting in
        heat += 0.5
        liveliness += 0.5
    shouts = content.count("!")
    heat += 0.2 * min(shouts, 2)
    liveliness += 0.4 * min(shouts, 2)
    liveliness += sum(w in lex.high_arousal for w in words) - sum(
        w in lex.low_arousal for w in words
    )
    positive = sum(w in lex.positive for w in words)
    negative = sum(w in lex.negative for w in words)

    formal = len(tone & data.tones["formal"]) + sum(w in data.registers["formal"] for w in words)
    casual = (
        len(tone & data.tones["casual"])
        + sum(w in data.registers["casual"] for w in words)
        + len(_CONTRACTION.findall(turn.content.lower().replace("’", "'")))
    )
    register = None if formal + casual == 0 else formal / (formal + casual)
    return _TurnScore(
        heat=heat,
        warmth=warmth,
        liveliness=liveliness,
        words=float(positive - negative),
        register=register,
    )


def _clause(kind: ClauseKind, turns: Sequence[DialogTurn]) -> str:
    """A clause of the given kind, chosen by the dialog's content (stable across runs)."""
    options = atmosphere_words().clauses[kind]
    key = "\n".join(t.content for t in turns).encode("utf-8")
    return options[zlib.crc32(key) % len(options)]


def shift_after_dialog(atmosphere: Atmosphere, turns: Sequence[DialogTurn]) -> Atmosphere:
    """The atmosphere a dialog leaves behind.

    Challenges, questions pressed hard, interruptions and heated tones raise tension and
    energy and cool the room's valence; support, agreement and warm tones lower tension and
    warm it. Urgent words and exclamations liven the room; tired tones and calming words let
    it run down. Formality drifts only a little toward the register the speakers used. Each
    number moves by a bounded amount and stays in its range. When the change is large the
    description gains one clause saying how the room changed; otherwise it is kept as is.
    With no turns the atmosphere is returned unchanged.
    """
    if not turns:
        return atmosphere
    scores = [_score(t) for t in turns]
    heat = sum(s.heat for s in scores)
    warmth = sum(s.warmth for s in scores)
    liveliness = sum(s.liveliness for s in scores)
    words = sum(s.words for s in scores)

    d_tension = _clamp(TENSION_PER_HEAT * heat - TENSION_PER_WARMTH * warmth, -MAX_SHIFT, MAX_SHIFT)
    d_valence = _clamp(
        VALENCE_PER_WARMTH * warmth - VALENCE_PER_HEAT * heat + VALENCE_PER_WORD * words,
        -1.5 * MAX_SHIFT,
        1.5 * MAX_SHIFT,
    )
    d_energy = _clamp(
        ENERGY_PER_HEAT * heat + ENERGY_PER_LIVELINESS * liveliness, -MAX_SHIFT, MAX_SHIFT
    )
    registers = [s.register for s in scores if s.register is not None]
    d_formality = 0.0
    if registers:
        spoken = sum(registers) / len(registers)
        d_formality = FORMALITY_DRIFT * (spoken - atmosphere.formality)

    tension = _clamp(atmosphere.tension + d_tension, 0.0, 1.0)
    valence = _clamp(atmosphere.valence + d_valence, -1.0, 1.0)
    energy = _clamp(atmosphere.energy + d_energy, 0.0, 1.0)
    formality = _clamp(atmosphere.formality + d_formality, 0.0, 1.0)

    description = atmosphere.description
    changes: list[tuple[float, ClauseKind]] = [
        (tension - atmosphere.tension, "tenser" if tension > atmosphere.tension else "calmer"),
        (
            (valence - atmosphere.valence) / 2,
            "warmer" if valence > atmosphere.valence else "colder",
        ),
        (energy - atmosphere.energy, "livelier" if energy > atmosphere.energy else "quieter"),
    ]
    size, kind = max(changes, key=lambda c: abs(c[0]))
    if abs(size) >= NOTABLE:
        clause = _clause(kind, turns)
        if clause not in description:
            description = f"{description.rstrip()} {clause}"
    return Atmosphere(
        tension=round(tension, 6),
        formality=round(formality, 6),
        valence=round(valence, 6),
        energy=round(energy, 6),
        description=description,
    )


def carry_over(
    previous_after: Atmosphere | None, fresh: Atmosphere, weight: float = 0.3
) -> Atmosphere:
    """The atmosphere a new scene opens with: the fresh reading, keeping ``weight`` of the
    previous scene's residue in each number. The description is the fresh one.

    With no previous scene (or a weight of zero) the fresh atmosphere is returned as is.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], not {weight}")
    if previous_after is None or weight == 0.0:
        return fresh

    def blend(old: float, new: float) -> float:
        return round(weight * old + (1.0 - weight) * new, 6)

    return Atmosphere(
        tension=blend(previous_after.tension, fresh.tension),
        formality=blend(previous_after.formality, fresh.formality),
        valence=blend(previous_after.valence, fresh.valence),
        energy=blend(previous_after.energy, fresh.energy),
        description=fresh.description,
    )
