"""Prospection (M15) through the prompt and the provider, and the anticipated knowledge it
produces: voiced as an expectation, learned as one, answered as a guess, marked so in prompts;
topics and first-person memory. The scenario helpers are those of :mod:`test_prospection`."""

from __future__ import annotations

import json
import re
from random import Random

from test_prospection import (
    EVENT,
    TURNS,
    _frames,
    all_text,
    brief,
    context,
    mood_of,
    scenario_brief,
    spec,
)

from engine.llm.contexts import (
    DialogTurnContext,
    EntityQueryContext,
    ExtractionContext,
    KnowledgeRef,
    RelationBrief,
    SpeakingStyle,
    TurnBrief,
)
from engine.llm.offline import OfflineProvider
from engine.llm.offline import text as tx
from engine.llm.offline.answers import generate_answer
from engine.llm.offline.dialog import generate_turn
from engine.llm.offline.extraction import generate_extraction
from engine.llm.offline.library import dialog_bank, talk_bank
from engine.llm.offline.prospection import generate_prospection
from engine.llm.prompts import render
from engine.llm.protocol import ActionType, LLMRequest
from engine.model import Concern, Expectation, PersonaParams
from engine.model.responses import ProspectionResponse

# --------------------------------------------------------------------------- prompt, provider


def test_the_prompt_renders_the_transcript_the_withheld_items_and_the_task() -> None:
    ctx = context(
        "bethan_rowe",
        concerns=(Concern(topic="bed 6", intensity=0.6),),
        expectations=(Expectation(about="Walter will be fine by morning.", likelihood=0.4),),
    )
    system, user = (m.content for m in render(ActionType.PROSPECTION, ctx, ProspectionResponse))
    assert "You are Bethan Rowe" in system and "anxious" in system
    assert "Never says: obviously; right then; stat." in system
    assert "BACK LAYER" in system
    for t in TURNS:
        assert f"{t.speaker_name}: {t.content}" in user
    for item in ctx.withheld:
        assert item in user
    assert "bed 6 (intensity 0.60)" in user and "Walter will be fine by morning." in user
    assert "the next 2 hours" in user
    assert '"new_concerns"' in user  # the response schema follows
    # Bethan was spoken to but never spoke; Maeve took part.
    assert "only listened" in user
    _, speaking = (m.content for m in render(ActionType.PROSPECTION, context("maeve_kilbride")))
    assert "You took part in it." in speaking and "only listened" not in speaking


async def test_the_offline_provider_answers_a_prospection_request() -> None:
    ctx = context("samir_qureshi")
    request = LLMRequest(
        action=ActionType.PROSPECTION,
        messages=render(ActionType.PROSPECTION, ctx, ProspectionResponse),
        context=ctx,
        response_model=ProspectionResponse,
    )
    response = await OfflineProvider(seed=4).complete(request)
    assert isinstance(response.parsed, ProspectionResponse)
    assert ProspectionResponse.model_validate(json.loads(response.text)) == response.parsed
    again = await OfflineProvider(seed=4).complete(request)
    assert again.parsed == response.parsed
    other = await OfflineProvider(seed=5).complete(request)
    assert other.parsed != response.parsed


# --------------------------------------------------------------------------- anticipated knowledge

PARAMS = PersonaParams(
    temperature=0.8, top_p=0.9, max_tokens=200, frequency_penalty=0.2, presence_penalty=0.2
)
HUNCH = "Someone is going to find out about Walter Ashby's furosemide within the next 2 hours."


def dialog_context(**changes) -> DialogTurnContext:
    base = dict(
        scenario=scenario_brief(),
        timepoint_id="tp03",
        timepoint_title="Bed 6",
        event_description=EVENT,
        time_of_day="just after midnight",
        tension=0.7,
        speaker=brief("bethan_rowe"),
        personality=tuple(spec("bethan_rowe").personality),
        voice=spec("bethan_rowe").voice,
        style=SpeakingStyle(
            verbosity="moderate",
            formality="casual",
            tone="warm",
            vocabulary="simple",
            pattern="questioning",
        ),
        mood=mood_of("bethan_rowe"),
        knowledge=(KnowledgeRef(information=HUNCH, kind="anticipated", confidence=0.7),),
        listeners=(RelationBrief(entity=brief("maeve_kilbride"), trust=0.4, alignment=0.6),),
        previous_turns=(TURNS[0],),
        addressed_to="maeve_kilbride",
        move="reveal",
        turn_index=1,
        planned_turns=6,
        persona=PARAMS,
    )
    base.update(changes)
    return DialogTurnContext(**base)


def test_offline_dialog_voices_an_anticipated_item_as_an_expectation_never_as_a_fact() -> None:
    markers = _frames(talk_bank().inform["anticipated"])
    facts = _frames(talk_bank().inform["own"])
    voiced = 0
    for seed in range(40):
        answer = generate_turn(dialog_context(), Random(seed))
        if HUNCH not in answer.knowledge_references:
            continue
        voiced += 1
        low = tx.expand(answer.content).lower()
        assert any(m in low for m in markers), answer.content
        assert not any(f in low for f in facts if len(f) >= 8), answer.content
    assert voiced >= 20


def test_listeners_learn_that_the_speaker_expects_it_not_that_it_is_so() -> None:
    seed = next(
        s
        for s in range(40)
        if HUNCH in generate_turn(dialog_context(), Random(s)).knowledge_references
    )
    answer = generate_turn(dialog_context(), Random(seed))
    spoken = TurnBrief(
        turn_index=1,
        speaker_id="bethan_rowe",
        speaker_name="Bethan Rowe",
        content=answer.content,
        knowledge_references=answer.knowledge_references,
        addressed_to="maeve_kilbride",
    )
    items = generate_extraction(
        ExtractionContext(
            scenario=scenario_brief(),
            timepoint_id="tp03",
            turn=spoken,
            speaker=brief("bethan_rowe"),
            listeners=(brief("maeve_kilbride"),),
        ),
        Random(0),
    ).items
    assert items and all(i.content != HUNCH for i in items)
    guess = next(i for i in items if "expects that" in i.content)
    assert guess.content.startswith("Bethan Rowe expects that someone is going to find out")
    assert guess.category == "opinion" and guess.confidence < 0.8


def test_asked_later_a_character_answers_an_anticipated_item_as_a_guess() -> None:
    ctx = EntityQueryContext(
        scenario=scenario_brief(),
        timepoint_id="tp03",
        moment="just after midnight",
        speaker=brief("bethan_rowe"),
        voice=spec("bethan_rowe").voice,
        style=dialog_context().style,
        mood=mood_of("bethan_rowe"),
        knowledge=(KnowledgeRef(information=HUNCH, kind="anticipated", confidence=0.7),),
        question="Did anyone find out about the furosemide?",
    )
    expected = _frames(dialog_bank().answer["expected"])
    known = _frames(dialog_bank().answer["known"])
    for seed in range(10):
        low = tx.expand(generate_answer(ctx, Random(seed)).answer).lower()
        assert any(f in low for f in expected) and not any(f in low for f in known), low


def test_prompts_mark_anticipated_knowledge_as_an_expectation() -> None:
    _, user = (m.content for m in render(ActionType.DIALOG_TURN, dialog_context()))
    assert f"- {HUNCH} (what you expect will happen, not a known fact)" in user


def test_topics_have_a_kind_and_stray_phrases_have_none() -> None:
    from engine.llm.offline.prospection.topics import topic_kind

    people = ("Walter Ashby", "Walter", "Tomas Vey", "Tomas")
    assert topic_kind("the harbour pilot", people) == "person"
    assert topic_kind("Walter", people) == "person"
    assert topic_kind("Walter's chest", people) == "condition"
    assert topic_kind("the mains power", people) == "condition"
    assert topic_kind("the 161 votes", people) == "quantity"
    assert topic_kind("the twelve months' severance", people) == "quantity"
    assert topic_kind("the container cranes", people) == "thing"
    assert topic_kind("Walter Ashby's furosemide", people) == "thing"
    for stray in (
        "Eleven's privately",
        "Minister",
        "the lamp room Tomas",
        "the first",
        "Wet's father",
    ):
        assert topic_kind(stray, people) == "", stray


def test_a_character_remembers_facts_about_itself_in_the_first_person() -> None:
    # Walter hears about his own furosemide and chest: they are "my furosemide", "my chest" to
    # him, never "Walter Ashby's" (others may still say his name in a quoted line).
    for seed in range(10):
        r = generate_prospection(context("walter_ashby"), Random(seed))
        for text in all_text(r):
            plain = re.sub(r'"[^"]*"', "", text)
            assert "Walter Ashby" not in plain and "Walter's" not in plain, text
    # Nobody "wouldn't let Walter's furosemide go" with Walter as the one not letting go.
    for who in ("bethan_rowe", "maeve_kilbride", "gareth_pengelly", "samir_qureshi"):
        for seed in range(10):
            r = generate_prospection(context(who), Random(seed))
            for sentence in tx.sentences(r.memory):
                assert not re.match(r"([A-Z]\w+)\b[^.,;:]*\b\1(?: [A-Z]\w+)?'s", sentence)
