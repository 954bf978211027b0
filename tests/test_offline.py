"""The offline provider: scenario-specific, in character, deterministic for a seed."""

from __future__ import annotations

import re
from datetime import datetime
from random import Random

import pytest
from conftest import run_scenario

from engine.llm.contexts import (
    DialogTurnContext,
    EntityBrief,
    ExtractionContext,
    KnowledgeRef,
    MoodBrief,
    PopulationContext,
    RelationBrief,
    ScenarioBrief,
    SpeakingStyle,
    TimepointEventContext,
    TurnBrief,
)
from engine.llm.gateway import Gateway
from engine.llm.offline import OfflineProvider
from engine.llm.offline import text as tx
from engine.llm.offline.dialog import generate_turn
from engine.llm.offline.events import generate_event
from engine.llm.offline.extraction import generate_extraction
from engine.llm.offline.population import generate_population, names_in
from engine.llm.protocol import ActionType
from engine.model import PersonaParams, VoiceGuide
from engine.model import events as ev
from engine.model.responses import DialogTurnResponse
from engine.scenario import load_scenario

SCENARIO = ScenarioBrief(
    name="quay",
    title="The Quay",
    description=(
        "Dockers at Port Vasse strike over new container cranes while a conciliator races a deadline."
    ),
    location="Port Vasse, the north quay",
    atmosphere="tense and cold",
)
MARA = EntityBrief(entity_id="mara", name="Mara Quell", role="Union steward")
OWEN = EntityBrief(entity_id="owen", name="Owen Bright", role="Terminal manager")
VOICE = VoiceGuide(
    verbal_tics=("Look,", "right?"),
    sentence_length="short",
    formality="casual",
    never_says=("synergy", "with respect"),
    specificity_anchors=("berth 4",),
    speech_examples=("Nobody works berth 4 till the vote is counted.",),
)
KNOWLEDGE = (
    KnowledgeRef(information="The strike vote passed by only eleven votes.", kind="initial"),
    KnowledgeRef(
        information="Two cranes are already at sea on the Hedda Line.",
        kind="told",
        source="Owen Bright",
    ),
)
PARAMS = PersonaParams(
    temperature=0.8, top_p=0.9, max_tokens=140, frequency_penalty=0.2, presence_penalty=0.2
)


def mood(
    arousal: float = 0.3,
    energy: float = 70,
    valence: float = 0.0,
    fatigue: float = 0.2,
    pain: float = 0.0,
) -> MoodBrief:
    return MoodBrief(
        valence=valence, arousal=arousal, energy=energy, fatigue=fatigue, pain=pain, label="x"
    )


def context(**changes) -> DialogTurnContext:
    base = dict(
        scenario=SCENARIO,
        timepoint_id="tp01",
        timepoint_title="Day nine",
        event_description="Morning on the north quay: the conciliator arrives with a ministry offer "
        "and the pickets close ranks.",
        time_of_day="early morning",
        tension=0.6,
        speaker=MARA,
        personality=("blunt",),
        voice=VOICE,
        style=SpeakingStyle(
            verbosity="terse",
            formality="casual",
            tone="passionate",
            vocabulary="simple",
            pattern="direct",
        ),
        mood=mood(),
        knowledge=KNOWLEDGE,
        listeners=(RelationBrief(entity=OWEN, trust=-0.4, alignment=-0.5),),
        previous_turns=(
            TurnBrief(
                turn_index=0,
                speaker_id="owen",
                speaker_name="Owen Bright",
                content="The cranes are the future of this port.",
                knowledge_references=("The cranes are the future of this port.",),
            ),
        ),
        addressed_to="owen",
        move="respond",
        turn_index=1,
        planned_turns=6,
        persona=PARAMS,
    )
    base.update(changes)
    return DialogTurnContext(**base)


def turns(n: int = 60, **changes) -> list[DialogTurnResponse]:
    return [generate_turn(context(**changes), Random(i)) for i in range(n)]


def test_turns_use_the_voice_guide() -> None:
    answers = turns()
    texts = [a.content for a in answers]
    assert sum("Look," in t or "right?" in t for t in texts) >= 12
    for text in texts:
        for banned in VOICE.never_says:
            assert banned.lower() not in text.lower()
    assert sum("'" in t for t in texts) >= len(texts) // 2, "casual speakers use contractions"
    formal = turns(voice=VOICE.model_copy(update={"formality": "formal", "verbal_tics": ()}))
    assert not any(re.search(r"\b(don't|can't|it's|I'm|won't)\b", a.content) for a in formal)


def test_turns_draw_only_on_the_speakers_knowledge_and_answer_the_previous_speaker() -> None:
    known = {k.information for k in KNOWLEDGE}
    answers = turns()
    assert all(set(a.knowledge_references) <= known for a in answers)
    assert sum(bool(a.knowledge_references) for a in answers) >= 30
    replies = [a.content for a in answers]
    assert sum("Owen" in r or "cranes" in r.lower() for r in replies) >= 30
    assert all(a.addressed_to == "owen" for a in answers)


def test_low_trust_makes_challenges_likely_and_high_trust_support() -> None:
    hostile = [a.stance for a in turns()]
    friendly = [
        a.stance for a in turns(listeners=(RelationBrief(entity=OWEN, trust=0.9, alignment=0.9),))
    ]
    assert hostile.count("challenges") > friendly.count("challenges")
    assert friendly.count("supports") > hostile.count("supports")


def test_arousal_and_fatigue_change_how_people_sound() -> None:
    calm = turns(mood=mood(arousal=0.2, energy=90))
    agitated = turns(mood=mood(arousal=0.9, energy=90))
    tired = turns(mood=mood(arousal=0.2, energy=15, fatigue=0.9))
    assert sum(a.content.endswith("!") for a in agitated) > sum(
        a.content.endswith("!") for a in calm
    )
    # agitation clips what the voice adds at a clause boundary within ten words; a fact it
    # carries is whole. A long voice with a long thing on its mind says sentences to clip.
    anchor = "the Ministry offer, the one nobody on the quay has read"
    long = VOICE.model_copy(
        update={"sentence_length": "long", "specificity_anchors": (anchor,), "verbal_tics": ()}
    )

    def longest(answers) -> int:
        return max(
            len(s.split())
            for a in answers
            if not a.knowledge_references
            for s in tx.sentences(a.content)
        )

    assert longest(turns(voice=long, mood=mood(arousal=0.2, energy=90))) > 10
    assert longest(turns(voice=long, mood=mood(arousal=0.9, energy=90))) <= 10
    assert sum("..." in a.content for a in tired) >= 10
    assert all(a.emotional_tone for a in tired)
    assert any(
        "fatigue" in a.physical_state_influence or "slower" in a.physical_state_influence
        for a in tired
    )


def test_animals_and_places_do_not_speak_like_people() -> None:
    answer = generate_turn(
        context(
            speaker=EntityBrief(
                entity_id="h", name="the grey heron", role="Heron", entity_type="animal"
            ),
            speaking_mode="behavior",
        ),
        Random(3),
    )
    assert answer.content.startswith("The grey heron") or "heron" in answer.content.lower()
    assert "I " not in answer.content


def _moment(cast: tuple) -> dict:
    """The fields of a timepoint event's context on the quay, for ``cast``."""
    return dict(
        scenario=SCENARIO,
        index=1,
        count=4,
        phase="complication",
        timestamp=datetime(1968, 9, 16, 9),
        time_of_day="mid-morning",
        cast=cast,
        previous_events=("The conciliator arrives on the north quay.",),
    )


def test_events_are_scenario_specific_and_follow_the_beat() -> None:
    from engine.llm.contexts import CastMember

    cast = (
        CastMember(
            entity=MARA,
            mood=mood(arousal=0.8),
            knowledge=("The strike vote passed by only eleven votes.",),
        ),
        CastMember(entity=OWEN, mood=mood(energy=20)),
    )
    base = _moment(cast)
    free = [generate_event(TimepointEventContext(**base), Random(i)) for i in range(10)]
    for answer in free:
        text = answer.event_description
        assert "continue to unfold" not in text.lower()
        assert any(w in text for w in ("Mara", "Owen", "Port Vasse", "strike vote"))
    hinted = generate_event(
        TimepointEventContext(**base, beat_hint="The ministry offer is leaked to the pickets"),
        Random(1),
    )
    assert "ministry offer is leaked to the pickets" in hinted.event_description


def test_an_event_never_sets_a_person_against_their_namesake() -> None:
    from engine.llm.contexts import CastMember

    claires = [
        EntityBrief(entity_id=f"c{i}", name=f"Claire {last}", role="grower")
        for i, last in enumerate(("Faure", "Vidal"))
    ]
    cast = tuple(CastMember(entity=e, mood=mood()) for e in (*claires, MARA))
    for i in range(40):
        text = generate_event(TimepointEventContext(**_moment(cast)), Random(i)).event_description
        assert (
            "Claire and Claire" not in text and "between Claire Faure and Claire Faure" not in text
        )
        assert "Mara and Mara" not in text and "Claire to Claire" not in text


def test_population_uses_names_from_the_description_then_archetypes() -> None:
    assert names_in(
        "Simulate the 1790 Compromise Dinner between Jefferson, Hamilton, and Madison", set()
    ) == ["Jefferson", "Hamilton", "Madison"]
    ctx = PopulationContext(
        scenario=ScenarioBrief(
            name="b",
            title="Board",
            location="the boardroom",
            description="Simulate a tech startup board meeting where the CEO proposes an acquisition",
        ),
        count=4,
    )
    drafts = generate_population(ctx, Random(0)).entities
    assert len(drafts) == 4 and len({d.name for d in drafts}) == 4
    roles = " ".join(d.role.lower() for d in drafts)
    assert "chief executive" in roles or "ceo" in roles
    assert all(d.knowledge and d.voice for d in drafts)


def test_extraction_yields_semantic_units_for_unaware_listeners() -> None:
    turn = TurnBrief(
        turn_index=2,
        speaker_id="mara",
        speaker_name="Mara Quell",
        content="Look, the strike vote passed by only eleven votes. We'll hold the "
        "gate until the pilots come back. Thanks.",
        knowledge_references=("The strike vote passed by only eleven votes.",),
    )
    ctx = ExtractionContext(
        scenario=SCENARIO,
        timepoint_id="tp01",
        turn=turn,
        speaker=MARA,
        listeners=(OWEN, EntityBrief(entity_id="ines", name="Ines", role="C")),
        known_by_listeners={"ines": ("The strike vote passed by only eleven votes.",)},
    )
    items = generate_extraction(ctx, Random(0)).items
    fact = next(i for i in items if i.content == "The strike vote passed by only eleven votes.")
    assert fact.listeners == ("owen",)
    plan = next(i for i in items if i.category == "plan")
    assert "Mara" in plan.content and "gate" in plan.content
    assert all(len(i.content.split()) >= 3 for i in items), "no single-word garbage"


async def test_provider_is_deterministic_for_a_seed_and_streams_the_content() -> None:
    gateway = Gateway(OfflineProvider(seed=9))
    a, _ = await gateway.call(ActionType.DIALOG_TURN, context(), DialogTurnResponse)
    chunks: list[str] = []
    b, records = await gateway.call(
        ActionType.DIALOG_TURN, context(), DialogTurnResponse, on_chunk=chunks.append
    )
    assert a == b and "".join(chunks) == b.content
    assert records[0].prompt_tokens > 0 and records[0].completion_tokens > 0
    other, _ = await Gateway(OfflineProvider(seed=10)).call(
        ActionType.DIALOG_TURN, context(), DialogTurnResponse
    )
    assert other != a


async def test_whole_runs_stay_in_character(store) -> None:
    loaded = load_scenario("vintners_council")
    voices = {e.id: e.voice for e in loaded.scenario.entities}
    _, events = await run_scenario("vintners_council", store, seed=5)
    said: dict[str, list[str]] = {}
    for e in events:
        if isinstance(e, ev.DialogTurnFinished):
            said.setdefault(e.turn.speaker, []).append(e.turn.content)
    assert len(said) >= 5
    for speaker, lines in said.items():
        voice = voices[speaker]
        for line in lines:
            for banned in voice.never_says:
                assert not tx.contains_phrase(line, banned), (speaker, banned, line)
        joined = " ".join(lines).lower()
        used_own = (
            any(t.lower().strip(",.?!") in joined for t in voice.verbal_tics)
            or any(a.lower() in joined for a in voice.specificity_anchors)
            or any(x.lower() in joined for x in voice.speech_examples)
        )
        assert used_own, f"{speaker} never sounds like themselves"
    validations = [e for e in events if isinstance(e, ev.ValidationReported)]
    assert validations and all(v.valid for v in validations)


@pytest.mark.parametrize(
    "name",
    [
        "lighthouse_night",
        "harbor_strike",
        "orbital_audit",
        "river_spirit",
        "snowbound_ward",
        "vintners_council",
    ],
)
async def test_every_bundled_scenario_runs_to_completion(store, name: str) -> None:
    summary, events = await run_scenario(name, store, seed=1)
    assert summary.status.value == "completed", summary.status_reason
    assert summary.counts.timepoints == load_scenario(name).scenario.timeline.count
    assert summary.counts.dialog_turns > 0 and summary.counts.exposure_events > 0
    told = [e for e in events if isinstance(e, ev.ExposureRecorded) and e.exposure.kind == "told"]
    assert told and all(x.exposure.dialog_id and x.exposure.source for x in told)


def test_a_speakers_own_words_reach_the_listeners_said_about_the_speaker() -> None:
    """An item the speaker holds in its own words (an expectation of its inner life) is
    learned as said about the speaker, so that a listener never tells it as their own."""
    own = "It will all come out about the strike fund before long, whatever I do."
    turn = TurnBrief(
        turn_index=1,
        speaker_id="mara",
        speaker_name="Mara Quell",
        content="Owen, it will all come out about the strike fund before long, whatever I do.",
        knowledge_references=(own,),
    )
    ctx = ExtractionContext(
        scenario=SCENARIO, timepoint_id="tp02", turn=turn, speaker=MARA, listeners=(OWEN,)
    )
    contents = [i.content for i in generate_extraction(ctx, Random(0)).items]
    reported = "It will all come out about the strike fund before long, whatever Mara does."
    assert reported in contents and own not in contents
    plain = turn.model_copy(update={"knowledge_references": ("The strike fund is empty.",)})
    said = generate_extraction(ctx.model_copy(update={"turn": plain}), Random(0)).items
    assert "The strike fund is empty." in [i.content for i in said], "a plain fact stays"
