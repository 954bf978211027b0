"""Structured contexts: what the engine knows when it makes a call.

Prompts are rendered from these (:mod:`engine.llm.prompts`), and the offline provider builds its
answers from them directly. They carry plain data only.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..model.dialog import DialogAct, Move, PersonaParams, SpeakingMode, SpeakingStyle, Stance
from ..model.entity import VoiceGuide
from ..model.inner import Concern, Expectation
from ..model.scene import Atmosphere
from ..model.timepoint import Phase

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_ABBREVIATIONS = ("Dr.", "Mr.", "Mrs.", "Ms.", "St.", "Mt.", "No.", "Prof.", "Capt.", "Lt.")


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (a title such as "Dr." does not end one)."""
    text = text.strip()
    for match in _SENTENCE_END.finditer(text):
        if not text[: match.start()].endswith(_ABBREVIATIONS):
            return text[: match.start()]
    return text


class _Ctx(BaseModel):
    model_config = ConfigDict(frozen=True)


class ScenarioBrief(_Ctx):
    name: str
    title: str
    description: str
    location: str
    atmosphere: str = ""
    tags: tuple[str, ...] = ()

    def gist(self) -> ScenarioBrief:
        """The brief a call below the TRAINED level gets (M1): the premise's first sentence and
        the setting, without the atmosphere (the room's own reading comes with the scene)."""
        return self.model_copy(
            update={"description": first_sentence(self.description), "atmosphere": ""}
        )


class EntityBrief(_Ctx):
    entity_id: str
    name: str
    role: str
    entity_type: str = "human"


class MoodBrief(_Ctx):
    valence: float
    arousal: float
    energy: float
    fatigue: float
    pain: float
    label: str


class CastMember(_Ctx):
    entity: EntityBrief
    mood: MoodBrief
    knowledge: tuple[str, ...] = ()
    # at the scene level: sees what happens, neither thinks nor speaks. Only how the prompt is
    # written follows it (a crowd of witnesses is summed up), so it is left out of the
    # context's JSON, which seeds the offline answer and keys a recorded one
    witness_only: bool = Field(default=False, exclude=True)


CANDID = 0.55  # the candour from which an entity tells its secrets to someone who asks


class KnowledgeRef(_Ctx):
    information: str
    kind: str
    category: str = "fact"
    source: str | None = None
    timepoint_id: str | None = None
    confidence: float = 1.0
    private: bool = False  # nobody else holds it then: a secret of the one who does


class TurnBrief(_Ctx):
    turn_index: int
    speaker_id: str
    speaker_name: str
    content: str
    knowledge_references: tuple[str, ...] = ()
    stance: Stance = "informs"
    act: DialogAct | None = None
    emotional_tone: str = "neutral"
    addressed_to: str | None = None


class RelationBrief(_Ctx):
    entity: EntityBrief
    trust: float
    alignment: float
    note: str = ""


class PopulationContext(_Ctx):
    scenario: ScenarioBrief
    count: int = Field(ge=1)
    existing: tuple[EntityBrief, ...] = ()
    types: tuple[str, ...] = ("human",)
    # On demand (M9): the role each new entity has (from how a query named it) and the moment
    # it must fit, with who was there.
    roles: tuple[str, ...] = ()
    moment: str = ""


class TimepointEventContext(_Ctx):
    scenario: ScenarioBrief
    index: int
    count: int
    phase: Phase
    timestamp: datetime
    time_of_day: str
    beat_title: str | None = None
    beat_hint: str | None = None
    previous_events: tuple[str, ...] = ()
    cast: tuple[CastMember, ...] = ()
    tension: float = 0.5


class PresenceContext(_Ctx):
    scenario: ScenarioBrief
    timepoint_id: str
    event_description: str
    candidates: tuple[EntityBrief, ...]
    min_present: int
    max_present: int


class DialogTurnContext(_Ctx):
    scenario: ScenarioBrief
    timepoint_id: str
    timepoint_title: str
    event_description: str
    time_of_day: str
    tension: float
    speaker: EntityBrief
    speaker_description: str = ""
    personality: tuple[str, ...] = ()
    voice: VoiceGuide
    style: SpeakingStyle
    mood: MoodBrief
    speaking_mode: SpeakingMode = "speech"
    knowledge: tuple[KnowledgeRef, ...] = ()
    listeners: tuple[RelationBrief, ...] = ()
    bystanders: int = 0  # others in the room, carried below the graph level (M1)
    absent: tuple[RelationBrief, ...] = ()  # at the trained level: everyone else it knows
    previous_turns: tuple[TurnBrief, ...] = ()
    addressed_to: str | None = None
    move: Move
    turn_index: int
    planned_turns: int
    speaker_turn_number: int = 0
    prior_beats: tuple[str, ...] = ()
    persona: PersonaParams
    # The room as the dialog's first turn left it (M10), and what the speaker carries from its
    # last conversation (M15): its memory of it and the concerns it keeps returning to.
    atmosphere: Atmosphere | None = None
    memory: str = ""
    concerns: tuple[str, ...] = ()


class ExtractionContext(_Ctx):
    scenario: ScenarioBrief
    timepoint_id: str
    turn: TurnBrief
    speaker: EntityBrief
    listeners: tuple[EntityBrief, ...]
    known_by_listeners: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    speaker_tics: tuple[str, ...] = ()  # the speaker's verbal habits: how it talks, not what


class DialogExtractionContext(_Ctx):
    """A whole dialog read once it is over for what it told its listeners: one call instead
    of one per turn, when nobody present who learns from it is TRAINED (M1). Each turn is
    numbered (from 1) in the prompt, and each item names the turn that conveyed it."""

    scenario: ScenarioBrief
    timepoint_id: str
    turns: tuple[TurnBrief, ...]
    listeners: tuple[EntityBrief, ...]  # everyone present who learns from what is said
    known_by_listeners: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    speaker_tics: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class EntityQueryContext(_Ctx):
    """A question put to one entity about one moment; it answers from what it knew then."""

    scenario: ScenarioBrief
    timepoint_id: str | None
    moment: str
    event_description: str = ""
    speaker: EntityBrief
    speaker_description: str = ""
    personality: tuple[str, ...] = ()
    voice: VoiceGuide
    style: SpeakingStyle
    mood: MoodBrief
    speaking_mode: SpeakingMode = "speech"
    knowledge: tuple[KnowledgeRef, ...] = ()
    question: str = Field(min_length=1)
    candour: float = Field(0.5, ge=0.0, le=1.0)  # how readily it tells a secret to who asks


class ElaborationContext(_Ctx):
    """An entity raised to a richer level at one moment because someone asked about it (M5):
    what else it would know, consistent with everything established. ``known`` is what it
    holds there; ``attended`` what happened in front of it on the moment's lineage."""

    scenario: ScenarioBrief
    timepoint_id: str | None
    moment: str
    speaker: EntityBrief
    speaker_description: str = ""
    personality: tuple[str, ...] = ()
    level: str
    known: tuple[KnowledgeRef, ...] = ()
    attended: tuple[str, ...] = ()
    question: str = ""
    wanted: int = Field(3, ge=1, le=8)


class ProspectionContext(_Ctx):
    """One character looking back on a dialog it was part of and ahead to what comes next (M15).

    ``withheld`` is what it knew privately and did not bring up; ``concerns`` and
    ``expectations`` are its inner state from before this dialog; ``horizon`` names how far ahead
    it looks (such as "the next 2 hours").
    """

    scenario: ScenarioBrief
    timepoint_id: str
    timepoint_title: str
    event_description: str
    entity: EntityBrief
    personality: tuple[str, ...] = ()
    voice: VoiceGuide
    mood: MoodBrief
    spoke: bool
    turns: tuple[TurnBrief, ...]
    withheld: tuple[str, ...] = ()
    concerns: tuple[Concern, ...] = ()
    expectations: tuple[Expectation, ...] = ()
    horizon: str


class SceneContext(_Ctx):
    """The moment whose scene is read (M10): the event, who is present with their moods, the
    timeline's tension, and the atmosphere the previous scene's dialog left behind."""

    scenario: ScenarioBrief
    timepoint_id: str
    timepoint_title: str
    event_description: str
    time_of_day: str
    tension: float
    present: tuple[CastMember, ...]
    bystanders: int = 0  # others present, carried below the graph level (M1)
    previous: Atmosphere | None = None


class InterventionContext(_Ctx):
    """A what-if typed as free text, with the cast as it stands at the fork point."""

    scenario: ScenarioBrief
    text: str
    fork_timepoint_id: str
    event_description: str
    cast: tuple[CastMember, ...]


class AlternativesContext(_Ctx):
    """A BRANCHING run's decision point: the premise it must keep to, what has happened so far
    (the trunk's events, oldest first), who is there, the courses already named and how many
    more are wanted."""

    scenario: ScenarioBrief
    decision: str | None
    timepoint_id: str
    history: tuple[str, ...]
    cast: tuple[CastMember, ...]
    named: tuple[str, ...] = ()
    wanted: int = Field(ge=1, le=8)


class PortalStateBrief(_Ctx):
    """One state of a PORTAL path: what is the case at ``when``."""

    description: str
    key_events: tuple[str, ...] = ()
    when: datetime


class AntecedentContext(_Ctx):
    """PORTAL (M17): propose states that could have led to ``consequent``, one step further
    back from the endpoint. ``later`` are the states already fixed between it and the endpoint;
    ``avoid`` the antecedents already proposed for it, which the new ones must differ from."""

    scenario: ScenarioBrief
    endpoint: str
    origin_at: datetime
    consequent: PortalStateBrief
    when: datetime
    step: int = Field(ge=1)
    steps: int = Field(ge=1)
    cast: tuple[EntityBrief, ...] = ()
    later: tuple[str, ...] = ()
    earlier: PortalStateBrief | None = None  # a state already fixed further back, to follow from
    avoid: tuple[str, ...] = ()
    wanted: int = Field(3, ge=1, le=8)


class AntecedentScoringContext(_Ctx):
    """PORTAL: judge one proposed antecedent of ``consequent``."""

    scenario: ScenarioBrief
    endpoint: str
    consequent: PortalStateBrief
    candidate: PortalStateBrief
    causal_link: str
    cast: tuple[EntityBrief, ...] = ()
    present: tuple[str, ...] = ()


class PathCoherenceContext(_Ctx):
    """PORTAL: read a path found backwards the way time runs, origin first, and judge each
    step: does the later state follow from the earlier one?"""

    scenario: ScenarioBrief
    endpoint: str
    states: tuple[PortalStateBrief, ...] = Field(min_length=2)
    links: tuple[str, ...] = ()  # how each state was said to lead to the next, origin first
