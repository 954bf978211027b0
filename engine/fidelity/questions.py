"""The level a question needs of the entity asked (M5): facts need it to hold a graph of what
it knows (GRAPH), intentions and actions need it to speak for itself (DIALOG), a long
conversation needs its full context (TRAINED). Cues and lengths are data
(``question_levels`` in ``engine/data/fidelity.json``)."""

from __future__ import annotations

import re

from ..model.common import ResolutionLevel as Level
from .templates import fidelity_data


def _has(text: str, cue: str) -> bool:
    return re.search(rf"(?<![a-z]){re.escape(cue)}(?![a-z])", text) is not None


def needed_level(question: str, asked_before: int = 0) -> tuple[Level, str]:
    """The level ``question`` needs, and why; ``asked_before`` counts the questions already
    put to the same entity in this run."""
    data = fidelity_data().question_levels
    text = question.lower()
    if asked_before + 1 >= data.long_conversation:
        return Level.TRAINED, f"a long conversation ({asked_before + 1} questions)"
    for cue in data.trained_cues:
        if _has(text, cue):
            return Level.TRAINED, f"asks for everything ({cue!r})"
    for cue in data.dialog_cues:
        if _has(text, cue):
            return Level.DIALOG, f"asks about intentions or actions ({cue!r})"
    return Level.GRAPH, "asks about facts"
