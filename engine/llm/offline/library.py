"""The offline generator's data: phrase banks, archetypes, names and cue words.

All of it is JSON under ``engine/data`` so that writers can extend it without touching code.
Each file is validated once when first used.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ...resources import data_path

Stance = Literal["supports", "challenges", "questions", "informs", "deflects"]
# What a topic of an inner life names: someone, an amount, a state of affairs, or a thing/plan.
TOPIC_KINDS = ("person", "quantity", "condition", "thing")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DialogBank(_Data):
    """Sentence templates for dialog turns. Slots are written ``{name}``; see the data file."""

    version: Literal[1]
    slots: dict[str, str] = Field(alias="_slots")
    lead: dict[Stance, tuple[str, ...]]
    open: tuple[str, ...]
    share: dict[str, tuple[str, ...]]
    question: tuple[str, ...]
    propose: tuple[str, ...]
    close: tuple[str, ...]
    anchor: tuple[str, ...]
    mood: dict[str, tuple[str, ...]]
    tones: dict[str, dict[str, str]]
    physical: dict[str, tuple[str, ...]]
    behavior: tuple[str, ...]
    environment: tuple[str, ...]
    collective: tuple[str, ...]
    answer: dict[
        Literal["known", "also", "unknown", "source", "expected", "guarded", "confess"],
        tuple[str, ...],
    ]


Lens = Literal["threat", "people", "decision", "pride", "plain"]
SalientKind = Literal["challenge", "question", "secret", "news", "support", "other"]


class InnerMemoryBank(_Data):
    spoke: tuple[str, ...]
    spoke_plain: tuple[str, ...]
    listened: tuple[str, ...]
    alone: tuple[str, ...]
    salient: dict[SalientKind, tuple[str, ...]]
    lens: dict[Lens, tuple[str, ...]]
    own: tuple[str, ...]
    held_back: tuple[str, ...]
    confirmed: tuple[str, ...]
    close: dict[Lens, tuple[str, ...]]
    anchor: tuple[str, ...]


class InnerBank(_Data):
    """Phrase banks for a character's inner life after a dialog (M15): memory, expectations and
    held-back impulses, and the personality words that decide what it dwells on."""

    version: Literal[1]
    slots: dict[str, str] = Field(alias="_slots")
    lenses: dict[Literal["threat", "people", "decision", "pride"], tuple[str, ...]]
    fallback_topic: str
    proposal_cues: tuple[str, ...]
    calm: tuple[str, ...]
    nervy: tuple[str, ...]
    memory: InnerMemoryBank
    expect: dict[
        Literal[
            "secret_out",
            "pressed",
            "open_question",
            "proposal_good",
            "proposal_bad",
            "worse",
            "better",
            "person_worry",
            "person_turn",
            "concern",
        ],
        dict[str, tuple[str, ...]],
    ]
    topic_kinds: str = Field(alias="_topic_kinds")
    person_words: frozenset[str]
    condition_words: frozenset[str]
    suppressed: dict[
        Literal["nearly_told", "snap", "speak_up", "comfort", "leave"], tuple[str, ...]
    ]

    @field_validator("expect")
    @classmethod
    def _known_kinds(cls, expect: dict[str, dict[str, tuple[str, ...]]]) -> dict:
        for group, by_kind in expect.items():
            for key in by_kind:
                unknown = set(key.split()) - set(TOPIC_KINDS) - {"any"}
                if unknown:
                    raise ValueError(f"expect.{group}: unknown topic kinds {sorted(unknown)}")
        return expect

    def expect_templates(self, group: str, kind: str) -> tuple[str, ...]:
        """The templates of an expectation group that take a topic of this kind (none for a
        topic of no kind)."""
        if kind not in TOPIC_KINDS:
            return ()
        by_kind = self.expect[group]  # type: ignore[index]
        out: list[str] = []
        for key, templates in by_kind.items():
            if "any" in key.split() or kind in key.split():
                out.extend(t for t in templates if t not in out)
        return tuple(out)


class EventBank(_Data):
    version: Literal[1]
    slots: dict[str, str] = Field(alias="_slots")
    phases: dict[str, tuple[str, ...]]
    with_hint: tuple[str, ...]
    color: dict[str, tuple[str, ...]]
    titles: dict[str, tuple[str, ...]]


class ExtractionRule(_Data):
    category: Literal["fact", "decision", "opinion", "plan", "revelation", "question", "agreement"]
    cues: tuple[str, ...]
    template: str


class ExtractionCues(_Data):
    version: Literal[1]
    slots: dict[str, str] = Field(alias="_slots")
    rules: tuple[ExtractionRule, ...]


class InterventionCue(_Data):
    kind: Literal["withhold", "remove", "tell"]
    cues: tuple[str, ...]


class InterventionCues(_Data):
    version: Literal[1]
    about: str = Field(alias="_about")
    kinds: tuple[InterventionCue, ...]
    openings: tuple[str, ...]


class AlternativeCues(_Data):
    version: Literal[1]
    about: str = Field(alias="_about")
    cues: tuple[str, ...]
    decides: tuple[str, ...]
    led: tuple[str, ...]
    names: tuple[str, ...]


class CauseKind(_Data):
    kind: str
    description: str
    events: tuple[str, ...] = Field(min_length=1)
    link: str


class PortalKinds(_Data):
    version: Literal[1]
    about: str = Field(alias="_about")
    kinds: tuple[CauseKind, ...] = Field(min_length=2)


Templates = tuple[str, ...]


class TicRules(_Data):
    """How a verbal tic is fitted to a sentence (``talk.json`` ``tics``)."""

    about: str = Field("", alias="_about")
    recall: Templates  # "Same as {tic}." for a tic that recalls a time
    after_figures: Templates  # "give or take": only after an amount
    reporting: Templates  # last words of a tic that may follow a statement ("you'll see")
    before_questions: Templates  # last words of a tic that only leads a question ("I must ask")
    openers: Templates  # first words of a tic that leads with a colon ("Here's the thing:")
    assents: Templates  # a tic said on its own ("Quite so.")
    sayings: Templates  # last words of a tic that introduces a saying ("… always said:")
    imperatives: Templates  # first words of a tic that is an order, said on its own


class TalkBank(_Data):
    """Sentence templates per dialog act (``engine/data/offline/talk.json``), the asides a
    long clause can take, plainer words for casual voices, and a tone per act."""

    version: Literal[1]
    slots: dict[str, str] = Field(alias="_slots")
    doc: str = Field("", alias="_doc")
    open: Templates
    inform: dict[Literal["own", "told", "learned", "witnessed", "anticipated", "topic"], Templates]
    ask: dict[Literal["about", "source", "check"], Templates]
    answer: dict[
        Literal["yes", "again", "known", "source", "own_source", "seen_source", "unknown", "more"],
        Templates,
    ]
    deflect: Templates
    reveal: dict[Literal["lead", "after"], Templates]
    react: Templates
    propose: Templates
    agree: Templates
    concur: Templates  # agreeing with a point made, not with a proposal
    refuse: Templates
    concede: Templates
    challenge: Templates
    accuse: Templates
    threaten: Templates
    joke: Templates
    change_subject: Templates
    close: Templates
    backchannel: dict[Stance, Templates]
    link: dict[Stance, Templates]
    recap: Templates
    asides: dict[str, Templates]
    take_ups: Templates  # words that take up a long clause after a breath ("— that's at …")
    plain: dict[str, Templates]
    spoken: dict[
        str, Templates
    ]  # how a fact's written words are said aloud, in any voice but a formal one
    # the file's words a voice says its own way when a fact would otherwise be recited
    reword: dict[Literal["formal", "spoken"], dict[str, Templates]]
    about_reword: str = Field("", alias="_about_reword")
    list_join: dict[Literal["formal", "spoken"], Templates]  # "…, plus the use of the slope"
    about_list_join: str = Field("", alias="_about_list_join")
    tones: dict[str, str]
    secret_cues: Templates
    tics: TicRules


class NamePools(_Data):
    version: Literal[1]
    given: tuple[str, ...]
    family: tuple[str, ...]
    nonhuman: dict[str, tuple[str, ...]]


def _load(model: type[BaseModel], *parts: str) -> BaseModel:
    with open(data_path(*parts), encoding="utf-8") as handle:
        return model.model_validate(json.load(handle))


@lru_cache(maxsize=1)
def dialog_bank() -> DialogBank:
    return _load(DialogBank, "offline", "dialog.json")  # type: ignore[return-value]


@lru_cache(maxsize=1)
def inner_bank() -> InnerBank:
    return _load(InnerBank, "offline", "inner.json")  # type: ignore[return-value]


@lru_cache(maxsize=1)
def event_bank() -> EventBank:
    return _load(EventBank, "offline", "events.json")  # type: ignore[return-value]


@lru_cache(maxsize=1)
def extraction_cues() -> ExtractionCues:
    return _load(ExtractionCues, "offline", "extraction.json")  # type: ignore[return-value]


@lru_cache(maxsize=1)
def names() -> NamePools:
    return _load(NamePools, "names.json")  # type: ignore[return-value]


@lru_cache(maxsize=1)
def intervention_cues() -> InterventionCues:
    return _load(InterventionCues, "offline", "interventions.json")  # type: ignore[return-value]


@lru_cache(maxsize=1)
def alternative_cues() -> AlternativeCues:
    return _load(AlternativeCues, "offline", "alternatives.json")  # type: ignore[return-value]


@lru_cache(maxsize=1)
def portal_kinds() -> PortalKinds:
    return _load(PortalKinds, "offline", "portal.json")  # type: ignore[return-value]


@lru_cache(maxsize=1)
def verb_table() -> dict:
    """``engine/data/offline/verbs.json``: the common verbs, their irregular forms, their
    pasts and the participles unlike the past; read once."""
    with open(data_path("offline", "verbs.json"), encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=1)
def talk_bank() -> TalkBank:
    return _load(TalkBank, "offline", "talk.json")  # type: ignore[return-value]


def plain_words() -> dict[str, tuple[str, ...]]:
    return talk_bank().plain


def spoken_words() -> dict[str, tuple[str, ...]]:
    return talk_bank().spoken
