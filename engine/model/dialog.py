"""Dialog (M11): turns spoken by characters with persona-derived sampling parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import StepStatus

Stance = Literal["supports", "challenges", "questions", "informs", "deflects"]
# What a turn does in the conversation (a dialog act); each act shows as one stance.
DialogAct = Literal[
    "open",
    "inform",
    "ask",
    "answer",
    "deflect",
    "reveal",
    "react",
    "propose",
    "agree",
    "refuse",
    "concede",
    "challenge",
    "accuse",
    "threaten",
    "joke",
    "change_subject",
    "close",
]
ACT_STANCE: dict[str, Stance] = {
    "open": "informs",
    "inform": "informs",
    "ask": "questions",
    "answer": "informs",
    "deflect": "deflects",
    "reveal": "informs",
    "react": "challenges",
    "propose": "informs",
    "agree": "supports",
    "refuse": "challenges",
    "concede": "supports",
    "challenge": "challenges",
    "accuse": "challenges",
    "threaten": "challenges",
    "joke": "supports",
    "change_subject": "deflects",
    "close": "informs",
}
# What a planned turn is meant to do in the conversation (steering).
Move = Literal["open", "respond", "reveal", "question", "propose", "close"]
# How an entity takes part: by speaking, by behaving, as the room, or as a group (M16).
SpeakingMode = Literal["speech", "behavior", "environment", "collective"]


class SpeakingStyle(BaseModel):
    """How a character talks, derived from its profile and behaviour tensor."""

    model_config = ConfigDict(frozen=True)

    verbosity: Literal["terse", "moderate", "verbose"]
    formality: Literal["casual", "neutral", "formal"]
    tone: Literal["warm", "neutral", "cold", "passionate"]
    vocabulary: Literal["simple", "technical", "philosophical", "business"]
    pattern: Literal["direct", "elaborate", "questioning", "commanding"]


class PersonaParams(BaseModel):
    """Sampling parameters derived from one character's state for one turn."""

    model_config = ConfigDict(frozen=True)

    temperature: float = Field(ge=0.0, le=2.0)
    top_p: float = Field(gt=0.0, le=1.0)
    max_tokens: int = Field(ge=16)
    frequency_penalty: float = Field(ge=-2.0, le=2.0)
    presence_penalty: float = Field(ge=-2.0, le=2.0)


class DialogTurn(BaseModel):
    model_config = ConfigDict(frozen=True)

    dialog_id: str
    turn_index: int
    speaker: str
    content: str
    emotional_tone: str = "neutral"
    knowledge_references: tuple[str, ...] = ()
    addressed_to: str | None = None
    stance: Stance = "informs"
    act: DialogAct | None = None
    physical_state_influence: str = ""
    persona: PersonaParams
    timestamp: datetime
    status: StepStatus = StepStatus.OK
    issues: tuple[str, ...] = ()
