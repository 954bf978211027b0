"""Response models: what every provider, offline or real, must return for each action.

They are the shared vocabulary of the engine and its providers: the steps read them, the
providers fill them, and the LLM layer maps each action to one of them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .dialog import DialogAct, Stance
from .entity import VoiceGuide
from .inner import Concern, Expectation
from .knowledge import KnowledgeItem
from .scene import Atmosphere, Environment


class _Resp(BaseModel):
    model_config = ConfigDict(frozen=True)


class EntityDraft(_Resp):
    name: str = Field(min_length=1, max_length=80)
    entity_type: str = "human"
    role: str = Field(min_length=1)
    description: str = ""
    archetype: str | None = None
    personality: tuple[str, ...] = ()
    traits: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(default_factory=dict)
    knowledge: tuple[str, ...] = ()
    voice: VoiceGuide = VoiceGuide()


class PopulationResponse(_Resp):
    entities: tuple[EntityDraft, ...] = Field(min_length=1)


class TimepointEventResponse(_Resp):
    title: str = Field(min_length=1, max_length=120)
    event_description: str = Field(min_length=20)
    importance: float = Field(0.5, ge=0.0, le=1.0)
    tension: float = Field(0.5, ge=0.0, le=1.0)
    key_events: tuple[str, ...] = ()


class PresenceResponse(_Resp):
    entities_present: tuple[str, ...]


class DialogTurnResponse(_Resp):
    content: str = Field(min_length=1)
    emotional_tone: str = "neutral"
    knowledge_references: tuple[str, ...] = ()
    stance: Stance = "informs"
    # what the turn does: answers a question, asks one, proposes, refuses, reveals a secret...
    act: DialogAct | None = None
    addressed_to: str | None = None
    physical_state_influence: str = ""


class ExtractionResponse(_Resp):
    items: tuple[KnowledgeItem, ...] = ()


class TurnKnowledgeItem(KnowledgeItem):
    """A knowledge item of a whole dialog's extraction, with the turn that conveyed it."""

    turn: int = Field(ge=1, le=64)  # the turn's number in the prompt, from 1
    speaker: str = ""  # the turn's speaker; the engine takes it from the turn


class DialogExtractionResponse(_Resp):
    items: tuple[TurnKnowledgeItem, ...] = ()


class QueryResponse(_Resp):
    answer: str = Field(min_length=1)
    knowledge_references: tuple[str, ...] = ()
    emotional_tone: str = "neutral"
    confidence: float = Field(0.5, ge=0.0, le=1.0)


class ElaboratedItem(_Resp):
    information: str = Field(min_length=3, max_length=400)
    confidence: float = Field(0.8, ge=0.0, le=1.0)


class ElaborationResponse(_Resp):
    """What an elevated entity also knows (M5), and a line of memory in its own words."""

    knowledge: tuple[ElaboratedItem, ...] = Field(default=(), max_length=8)
    memory: str = Field("", max_length=600)


class ProspectionResponse(_Resp):
    """A character's inner life after a dialog: its memory of it, what it expects next, new
    concerns, an impulse it held back and how anxious it is (M15)."""

    memory: str = Field(min_length=1)
    expectations: tuple[Expectation, ...] = Field(default=(), max_length=3)
    new_concerns: tuple[Concern, ...] = Field(default=(), max_length=3)
    suppressed_impulse: str = ""
    anxiety: float = Field(0.3, ge=0.0, le=1.0)


class SceneResponse(_Resp):
    """The scene of a moment (M10): its physical environment and the atmosphere as it opens."""

    environment: Environment
    atmosphere: Atmosphere


class InterventionResponse(BaseModel):
    """A free-text what-if read as one structured intervention (M12)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["inject", "remove", "withhold", "tell"]
    entity_id: str | None = Field(None, max_length=80)
    information: str | None = Field(None, max_length=600)
    event: str | None = Field(None, max_length=600)


class AlternativeItem(BaseModel):
    """One course a timeline can take at a decision point."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=3, max_length=600)
    decided_by: str | None = Field(None, max_length=80)


class AlternativesResponse(BaseModel):
    """The courses proposed at a BRANCHING run's decision point, distinct from each other and
    from those already named."""

    model_config = ConfigDict(frozen=True)

    alternatives: list[AlternativeItem] = Field(min_length=1, max_length=8)


class AntecedentDraft(_Resp):
    """A state that could have led to the next one on a PORTAL path."""

    description: str = Field(min_length=20, max_length=700)
    key_events: tuple[Annotated[str, Field(max_length=200)], ...] = Field(default=(), max_length=5)
    entity_changes: dict[str, Annotated[float, Field(ge=-1.0, le=1.0)]] = Field(
        default_factory=dict
    )
    world_context: str = Field("", max_length=400)
    causal_link: str = Field(min_length=10, max_length=400)
    entities_present: tuple[str, ...] = Field(default=(), max_length=12)


class AntecedentsResponse(_Resp):
    candidates: tuple[AntecedentDraft, ...] = Field(min_length=1, max_length=8)


class AntecedentScore(_Resp):
    """How a candidate antecedent holds up; a part that cannot be judged is null, never a
    guess."""

    plausibility: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    historical_precedent: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    causal_necessity: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    entity_capability: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    reason: str = Field("", max_length=400)


class PathCoherence(_Resp):
    """How well each step of a path follows from the one before, origin first (null where it
    cannot be judged)."""

    links: tuple[Annotated[float, Field(ge=0.0, le=1.0)] | None, ...] = Field(max_length=61)
    reason: str = Field("", max_length=400)
