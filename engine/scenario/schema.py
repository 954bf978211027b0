"""The timeloom scenario format: a strict pydantic schema with a published JSON Schema.

Every field is either acted on by the engine or rejected at load time (``extra="forbid"``);
nothing is silently ignored. Cross-references (ids named in relationships and beats) are checked
by :func:`engine.scenario.loader.check_references`, which names the offending field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..fidelity.templates import DEFAULT_TEMPLATE, template_names
from ..model.common import ENTITY_TYPES, ExposureType, ResolutionLevel, TemporalMode
from ..model.dims import BEHAVIOR_DIMS
from ..model.voice import VoiceGuide
from ..safety import limits

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Signed = Annotated[float, Field(ge=-1.0, le=1.0)]

_STEP = re.compile(rf"^\s*(\d{{1,{limits.MAX_STEP_DIGITS}}})\s*(m|min|h|d|w)\s*$")
_STEP_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DEFAULT_START = datetime(2030, 1, 7, 9, 0)


def parse_step(text: str) -> timedelta:
    """Parse a time step such as ``"90m"``, ``"2h"``, ``"1d"`` or ``"1w"``."""
    match = _STEP.match(text) if len(text) <= 40 else None
    if not match or int(match.group(1)) == 0:
        raise ValueError("expected a positive duration such as '30m', '2h', '1d' or '1w'")
    amount, unit = int(match.group(1)), _STEP_UNITS[match.group(2)]
    days = amount * {"minutes": 1 / 1440, "hours": 1 / 24, "days": 1, "weeks": 7}[unit]
    if days > limits.MAX_STEP.days:
        raise ValueError(f"is over the limit of {limits.MAX_STEP.days} days, got {text.strip()!r}")
    return timedelta(**{unit: amount})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntityStateSpec(_Strict):
    """Initial state of an entity; anything left out is derived from its traits."""

    valence: Signed | None = Field(None, description="Mood from -1 (distressed) to 1 (elated).")
    arousal: Unit | None = Field(None, description="Agitation from 0 (calm) to 1 (keyed up).")
    energy: Annotated[float, Field(ge=0, le=100)] | None = Field(
        None, description="Energy from 0 (spent) to 100 (fresh)."
    )
    confidence: Unit | None = None
    patience: Unit | None = None
    risk: Unit | None = Field(None, description="Appetite for risk.")
    social: Unit | None = Field(None, description="Appetite for company.")
    vitality: Unit | None = Field(None, description="Physical health.")
    pain: Unit | None = None
    fatigue: Unit | None = None
    age: Annotated[int, Field(ge=0, le=150)] | None = None


class EntitySpec(_Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=80)
    type: str = Field("human", description="One of the known entity types (human, animal, ...).")
    role: str = Field(min_length=1, description="What this entity is in the scenario.")
    description: str = ""
    archetype: Slug | None = Field(None, description="An archetype id from the archetype library.")
    personality: list[str] = Field(default_factory=list, description="Adjectives such as 'blunt'.")
    traits: dict[str, Unit] = Field(
        default_factory=dict, description=f"Behaviour dimensions: {', '.join(BEHAVIOR_DIMS)}."
    )
    knowledge: list[Annotated[str, Field(min_length=3)]] = Field(
        default_factory=list, description="What this entity knows when the scenario opens."
    )
    voice: VoiceGuide | None = None
    state: EntityStateSpec | None = None
    resolution: ResolutionLevel | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in ENTITY_TYPES:
            raise ValueError(
                f"expected one of {', '.join(ENTITY_TYPES)}, got {limits.shown_value(value)}"
            )
        return value

    @field_validator("traits")
    @classmethod
    def _known_traits(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(BEHAVIOR_DIMS))
        if unknown:
            raise ValueError(
                f"unknown trait {limits.shown_value(unknown[0])}; expected one of "
                f"{', '.join(BEHAVIOR_DIMS)}"
            )
        return value


class RelationshipSpec(_Strict):
    between: tuple[Slug, Slug]
    trust: Signed = 0.0
    alignment: Signed = 0.0
    note: str = Field("", description="How the two see each other; given to both in dialog.")


class RevealSpec(_Strict):
    """Information an entity comes to hold at a beat, outside dialog."""

    entity: Slug
    information: str = Field(min_length=3)
    source: str | None = None
    kind: Literal[ExposureType.LEARNED, ExposureType.WITNESSED, ExposureType.EXPERIENCED] = (
        ExposureType.LEARNED
    )
    confidence: Unit = 1.0


class BeatSpec(_Strict):
    """A scripted anchor for one timepoint: the event is generated around it."""

    title: str | None = None
    hint: str | None = Field(None, min_length=3, description="What happens at this timepoint.")
    at: datetime | None = Field(None, description="Explicit simulated time of this timepoint.")
    present: list[Slug] | None = Field(None, description="Who is there; omit to infer it.")
    reveals: list[RevealSpec] = Field(default_factory=list)
    importance: Unit | None = None


class TimelineSpec(_Strict):
    count: Annotated[int, Field(ge=1, le=limits.MAX_TIMEPOINTS)]
    start: datetime = DEFAULT_START
    step: str = Field("1h", description="Time between timepoints: '30m', '2h', '1d', '1w'.")
    beats: list[BeatSpec] = Field(default_factory=list)

    @field_validator("step")
    @classmethod
    def _valid_step(cls, value: str) -> str:
        parse_step(value)
        return value

    @model_validator(mode="after")
    def _fits_the_calendar(self) -> TimelineSpec:
        limits.check_timeline(self.start, parse_step(self.step), self.count)
        for beat in self.beats:
            if beat.at is not None:
                limits.check_timeline(beat.at, parse_step(self.step), self.count)
        return self

    @property
    def step_delta(self) -> timedelta:
        return parse_step(self.step)


class DialogSpec(_Strict):
    turns: Annotated[int, Field(ge=2, le=60)] = 6
    max_speakers: Annotated[int, Field(ge=2, le=12)] = 4
    parallel: Annotated[int, Field(ge=1, le=8)] = Field(
        2, description="How many characters may answer the same turn at once."
    )


class MechanismsSpec(_Strict):
    """Optional mechanisms, each a few more calls per timepoint."""

    inner_life: bool = Field(
        True,
        description="After each dialog, everyone present updates a memory of it, their "
        "concerns and their expectations (one call per person).",
    )
    atmosphere: bool = Field(
        True,
        description="Read the room once per timepoint (one call, alongside the opening turn); "
        "later turns know it, and what is said shifts it.",
    )


class SettingSpec(_Strict):
    location: str = Field(min_length=1)
    atmosphere: str = ""


class BudgetSpec(_Strict):
    """What a run of this scenario may spend. A hard budget stops the run (resumably) before a
    call could go past a cap; a soft one only warns."""

    tokens: Annotated[int, Field(ge=1)] | None = Field(None, description="Token cap for a run.")
    usd: Annotated[float, Field(gt=0)] | None = Field(None, description="Cost cap, US dollars.")
    mode: Literal["hard", "soft"] = "hard"


class AlternativeSpec(_Strict):
    """One course a BRANCHING run can take at its decision point (M12)."""

    name: str = Field(min_length=1, max_length=80, description="A short name: 'Fortify & Wait'.")
    description: str = Field(
        min_length=3, max_length=600, description="What is decided and done on this course."
    )
    decided_by: Slug | None = Field(None, description="Who makes the decision, if anyone.")


class ScoreWeights(_Strict):
    """How much each outcome signal counts in a branch's score (normalised over the signals
    a branch has)."""

    mood: Annotated[float, Field(ge=0)] = 1.0
    trust: Annotated[float, Field(ge=0)] = 1.0
    calm: Annotated[float, Field(ge=0)] = 0.5
    criteria: Annotated[float, Field(ge=0)] = 2.0


class BranchingSpec(_Strict):
    """BRANCHING mode (M12, M17): one timeline up to a decision point, then one branch per
    alternative, run side by side and scored from what happened in each."""

    decision_at: Annotated[int, Field(ge=1, le=499)] = Field(
        description="The timepoint (counting from 1) after which the timeline splits."
    )
    decision: str | None = Field(
        None, min_length=3, max_length=300, description="The question the decision settles."
    )
    alternatives: list[AlternativeSpec] = Field(
        default_factory=list,
        max_length=8,
        description="The named courses; when fewer than count, the provider proposes the rest.",
    )
    count: Annotated[int, Field(ge=2, le=8)] | None = Field(
        None, description="How many branches (default: the named alternatives, or 3)."
    )
    horizon: Annotated[int, Field(ge=1, le=499)] | None = Field(
        None, description="Timepoints each branch runs (default: to the end of the timeline)."
    )
    success: list[Annotated[str, Field(min_length=3, max_length=300)]] = Field(
        default_factory=list,
        max_length=12,
        description="What a good outcome looks like, one phrase each; a branch meets one when "
        "what is said or learned on it after the decision covers the phrase.",
    )
    weights: ScoreWeights = ScoreWeights()

    @property
    def branches(self) -> int:
        return self.count or max(len(self.alternatives), 3 if not self.alternatives else 2)


class FidelitySpec(_Strict):
    """Who gets how much detail (M1): a template from ``engine/data/fidelity.json``."""

    template: str = Field(
        DEFAULT_TEMPLATE, description="minimal, balanced, high_quality, maximum, dramatic, ..."
    )
    initial: ResolutionLevel | None = Field(
        None, description="The level entities start at, before the template decides."
    )

    @field_validator("template")
    @classmethod
    def _known_template(cls, value: str) -> str:
        if value not in template_names():
            raise ValueError(f"expected one of {', '.join(template_names())}, got {value!r}")
        return value


class PortalWeights(_Strict):
    """How much each part of a candidate antecedent's evaluation counts (normalised over the
    parts that could be computed)."""

    plausibility: Annotated[float, Field(ge=0)] = 0.3
    historical_precedent: Annotated[float, Field(ge=0)] = 0.2
    causal_necessity: Annotated[float, Field(ge=0)] = 0.3
    entity_capability: Annotated[float, Field(ge=0)] = 0.2


class PortalSpec(_Strict):
    """PORTAL mode (M17): a known endpoint, searched backwards to an origin in steps, every
    path kept."""

    endpoint: str = Field(min_length=10, max_length=1500, description="What is known to happen.")
    endpoint_at: datetime = Field(description="When the endpoint happens.")
    origin_at: datetime = Field(description="Where the backward search stops.")
    backward_steps: Annotated[int, Field(ge=1, le=60)] = Field(
        description="States between the endpoint and the origin."
    )
    candidates_per_step: Annotated[int, Field(ge=1, le=8)] = Field(
        3, description="Distinct antecedents proposed for each state on the frontier."
    )
    path_count: Annotated[int, Field(ge=1, le=20)] = Field(3, description="Paths kept.")
    beam: Annotated[int, Field(ge=1, le=64)] | None = Field(
        None, description="States kept on the frontier at each step (default: path_count)."
    )
    strategy: Literal["reverse_chronological", "oscillating", "adaptive"] = Field(
        "reverse_chronological", description="The order the steps are worked through."
    )
    coherence_threshold: Unit = Field(0.6, description="Forward coherence a path must reach.")
    max_backtrack_depth: Annotated[int, Field(ge=0, le=10)] = 2
    weights: PortalWeights = PortalWeights()
    simulation_judging: bool = Field(
        False, description="Judge candidates by a short forward run from each."
    )

    @field_validator("endpoint_at", "origin_at")
    @classmethod
    def _plain_time(cls, value: datetime) -> datetime:
        """A time with a zone is read as that moment in UTC, so that one with and one without
        a zone can be compared (simulated time carries no zone)."""
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        if not datetime(2, 1, 1) <= value < limits.LAST_MOMENT:
            raise ValueError(f"expected a date from the year 2 to {limits.LAST_MOMENT.year - 1}")
        return value

    @model_validator(mode="after")
    def _fits(self) -> PortalSpec:
        if self.origin_at >= self.endpoint_at:
            raise ValueError(
                f"portal.origin_at ({self.origin_at.date()}) must come before portal.endpoint_at "
                f"({self.endpoint_at.date()})"
            )
        if self.beam is not None and self.path_count > self.beam:
            raise ValueError(
                f"portal.path_count is {self.path_count} but the beam keeps {self.beam} states a "
                "step; raise portal.beam or lower portal.path_count"
            )
        most = self.candidates_per_step**self.backward_steps
        if self.path_count > most:
            raise ValueError(
                f"portal.path_count is {self.path_count} but {self.candidates_per_step} candidate(s) a "
                f"step over {self.backward_steps} step(s) can give at most {most} path(s); "
                "raise portal.candidates_per_step or lower portal.path_count"
            )
        if not any(self.weights.model_dump().values()):
            raise ValueError("portal.weights are all 0; at least one part must count")
        return self

    @property
    def width(self) -> int:
        return self.beam or self.path_count


class Scenario(_Strict):
    """A timeloom scenario file."""

    schema_version: Literal[1]
    name: Slug
    title: str = Field(min_length=1)
    description: str = Field(min_length=20)
    mode: TemporalMode = TemporalMode.FORWARD
    seed: Annotated[int, Field(ge=0, le=limits.MAX_SEED)] = 0
    tension: Unit = Field(0.5, description="Baseline dramatic tension, 0 (calm) to 1 (fraught).")
    tags: list[str] = Field(default_factory=list)
    setting: SettingSpec
    entities: list[EntitySpec] = Field(default_factory=list, max_length=limits.MAX_ENTITIES)
    entity_count: Annotated[int, Field(ge=1, le=limits.MAX_GENERATED_ENTITIES)] | None = Field(
        None, description="Total entities; any beyond the roster are generated."
    )
    generated_types: list[str] = Field(
        default_factory=lambda: ["human"], description="Types of generated entities."
    )
    default_resolution: ResolutionLevel | None = Field(
        None,
        description="Pins every entity without a resolution of its own to this level (queries "
        "still raise it); unset, the fidelity template decides each timepoint.",
    )
    fidelity: FidelitySpec = FidelitySpec()
    animism_level: Annotated[int, Field(ge=0, le=6)] = 0
    relationships: list[RelationshipSpec] = Field(default_factory=list)
    timeline: TimelineSpec
    dialog: DialogSpec = DialogSpec()
    mechanisms: MechanismsSpec = MechanismsSpec()
    budget: BudgetSpec | None = Field(
        None, description="What a run may spend; --budget-tokens and --budget-usd override it."
    )
    branching: BranchingSpec | None = Field(
        None, description="The decision point and its alternatives (BRANCHING mode only)."
    )
    portal: PortalSpec | None = Field(
        None, description="The endpoint, the origin and the backward search (PORTAL mode only)."
    )

    @model_validator(mode="after")
    def _portal_fits(self) -> Scenario:
        if self.mode is TemporalMode.PORTAL and self.portal is None:
            raise ValueError("a portal scenario needs a portal section (its endpoint and origin)")
        if self.portal is not None and self.mode is not TemporalMode.PORTAL:
            raise ValueError(f"a portal section belongs to portal mode, not {self.mode.value}")
        return self

    @model_validator(mode="after")
    def _branching_fits(self) -> Scenario:
        b = self.branching
        if self.mode is TemporalMode.BRANCHING and b is None:
            raise ValueError("a branching scenario needs a branching section (its decision point)")
        if b is None:
            return self
        if self.mode is not TemporalMode.BRANCHING:
            raise ValueError(
                f"a branching section belongs to branching mode, not {self.mode.value}"
            )
        if b.decision_at >= self.timeline.count:
            raise ValueError(
                f"branching.decision_at is {b.decision_at}, but the timeline has "
                f"{self.timeline.count} timepoints; the branches need at least one after it"
            )
        if b.horizon is not None and b.decision_at + b.horizon > self.timeline.count:
            raise ValueError(
                f"branching.horizon {b.horizon} runs past the timeline's {self.timeline.count} "
                "timepoints"
            )
        if b.count is not None and b.count < len(b.alternatives):
            raise ValueError(
                f"branching.count is {b.count} but {len(b.alternatives)} alternatives are named"
            )
        return self

    @field_validator("generated_types")
    @classmethod
    def _known_generated_types(cls, value: list[str]) -> list[str]:
        for item in value:
            if item not in ENTITY_TYPES:
                raise ValueError(
                    f"expected one of {', '.join(ENTITY_TYPES)}, got {limits.shown_value(item)}"
                )
        if not value:
            raise ValueError("expected at least one entity type")
        return value

    @property
    def total_entities(self) -> int:
        return max(self.entity_count or 0, len(self.entities))


def json_schema() -> dict:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "timeloom scenario"
    return schema
