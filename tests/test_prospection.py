"""Entity prospection (M15): the pure inner-life functions, the offline generator, the prompt
and the anticipated knowledge they produce."""

from __future__ import annotations

import itertools
from datetime import datetime
from functools import lru_cache
from random import Random

import pytest

from engine.agents.prospection import (
    addressed,
    anticipations,
    inner_life,
    update_concerns,
    withheld,
)
from engine.llm.contexts import (
    EntityBrief,
    MoodBrief,
    ProspectionContext,
    ScenarioBrief,
    TurnBrief,
)
from engine.llm.offline import text as tx
from engine.llm.offline.library import inner_bank
from engine.llm.offline.prospection import generate_prospection
from engine.llm.offline.prospection.reading import lens
from engine.llm.offline.voice import skeleton as _skeleton
from engine.llm.protocol import ActionType
from engine.llm.responses import RESPONSE_MODELS
from engine.model import Concern, Expectation, ExposureEvent, ExposureType, InnerLife
from engine.model.responses import ProspectionResponse
from engine.scenario import load_scenario

# --------------------------------------------------------------------------- a real scenario


@lru_cache(maxsize=1)
def ward():
    return load_scenario("snowbound_ward").scenario


def spec(entity_id: str):
    return next(e for e in ward().entities if e.id == entity_id)


def brief(entity_id: str) -> EntityBrief:
    e = spec(entity_id)
    return EntityBrief(entity_id=e.id, name=e.name, role=e.role, entity_type=e.type)


def scenario_brief() -> ScenarioBrief:
    s = ward()
    return ScenarioBrief(
        name=s.name,
        title=s.title,
        description=s.description,
        location=s.setting.location,
        atmosphere=s.setting.atmosphere,
    )


def mood_of(entity_id: str) -> MoodBrief:
    st = spec(entity_id).state
    return MoodBrief(
        valence=st.valence or 0.0,
        arousal=st.arousal if st.arousal is not None else 0.3,
        energy=st.energy if st.energy is not None else 60.0,
        fatigue=st.fatigue or 0.2,
        pain=st.pain or 0.0,
        label="steady",
    )


def knowledge(entity_id: str, i: int) -> str:
    return spec(entity_id).knowledge[i]


def turn(i: int, speaker: str, to: str | None, content: str, stance: str = "informs", **kw):
    return TurnBrief(
        turn_index=i,
        speaker_id=speaker,
        speaker_name=spec(speaker).name,
        content=content,
        addressed_to=to,
        stance=stance,
        **kw,
    )


# The "Lights out" beat: Gareth brings the fuel news, Dr Qureshi turns on Bethan about Walter's
# furosemide (which she gave late and signed as on time), Bethan says nothing.
TURNS = (
    turn(
        0,
        "gareth_pengelly",
        "maeve_kilbride",
        "Put it this way. Mains went at 23:50. The backup generator's day tank holds enough "
        "diesel for about seven hours at full hospital load.",
        knowledge_references=(knowledge("gareth_pengelly", 0),),
        emotional_tone="measured",
    ),
    turn(
        1,
        "maeve_kilbride",
        "gareth_pengelly",
        "Seven hours, love? What happens to bays A and B when it runs dry?",
        stance="questions",
        emotional_tone="probing",
    ),
    turn(
        2,
        "samir_qureshi",
        "bethan_rowe",
        "Bethan, was Walter Ashby's furosemide given on time? The chart says 22:00 and his "
        "chest sounds wet. Who signed it?",
        stance="challenges",
        emotional_tone="heated",
    ),
    turn(
        3,
        "gareth_pengelly",
        "samir_qureshi",
        "Switching off the outpatient wing and the kitchen would stretch the generator to "
        "about eleven hours. We deal with the kitchen first, see.",
        stance="informs",
        knowledge_references=(knowledge("gareth_pengelly", 3),),
        emotional_tone="measured",
    ),
    turn(
        4,
        "maeve_kilbride",
        "gareth_pengelly",
        "Right then, we do what Gareth says. One thing at a time.",
        stance="supports",
        emotional_tone="agreeable",
    ),
)

EVENT = (
    "The mains power fails at 23:50 and Ward 3 drops to emergency lighting until the generator "
    "catches; Gareth comes up to tell Maeve and Dr Qureshi that the day tank gives them seven "
    "hours and there was no January fuel delivery."
)

CAST = ("maeve_kilbride", "samir_qureshi", "bethan_rowe", "walter_ashby", "gareth_pengelly")


def private(entity_id: str) -> tuple[str, ...]:
    """What the character holds and did not draw on, the engine's ``withheld``."""
    said = [r for t in TURNS if t.speaker_id == entity_id for r in t.knowledge_references]
    return withheld(spec(entity_id).knowledge, said, limit=2)


def context(entity_id: str, **changes) -> ProspectionContext:
    e = spec(entity_id)
    base = dict(
        scenario=scenario_brief(),
        timepoint_id="tp02",
        timepoint_title="Lights out",
        event_description=EVENT,
        entity=brief(entity_id),
        personality=tuple(e.personality),
        voice=e.voice,
        mood=mood_of(entity_id),
        spoke=any(t.speaker_id == entity_id for t in TURNS),
        turns=TURNS,
        withheld=private(entity_id),
        horizon="the next 2 hours",
    )
    base.update(changes)
    return ProspectionContext(**base)


def all_text(r: ProspectionResponse) -> list[str]:
    return [
        r.memory,
        r.suppressed_impulse,
        *(e.about for e in r.expectations),
        *(c.topic for c in r.new_concerns),
    ]


# --------------------------------------------------------------------------- pure functions


def test_withheld_keeps_the_holders_order_skips_what_was_said_and_stops_at_the_limit() -> None:
    held = ["fuel", "pump fuse", "January letter", "eleven hours", "the kitchen"]
    assert withheld(held, ["pump fuse"]) == ("fuel", "January letter", "eleven hours")
    assert withheld(held, ["pump fuse"], limit=2) == ("fuel", "January letter")
    assert withheld(held, iter(["fuel", "the kitchen"]), limit=5) == (
        "pump fuse",
        "January letter",
        "eleven hours",
    )
    assert withheld(held, held) == ()
    assert withheld(["a", "a", "b"], []) == ("a", "b")


def test_concerns_fade_when_addressed_and_grow_when_not() -> None:
    before = [
        Concern(topic="the generator's day tank", intensity=0.5),
        Concern(topic="Irene", intensity=0.5),
    ]
    said = ["The day tank on the generator gives us seven hours."]
    after = {c.topic: c.intensity for c in update_concerns(before, [], said)}
    assert after["the generator's day tank"] == pytest.approx(0.35)
    assert after["Irene"] == pytest.approx(0.55)
    # Growth slows as a concern fills the mind, and never passes 1.
    grown = update_concerns([Concern(topic="Irene", intensity=0.95)], [], said)
    assert grown[0].intensity == pytest.approx(0.955)
    # Custom relief and growth.
    custom = {
        c.topic: c.intensity for c in update_concerns(before, [], said, relief=0.4, growth=0.3)
    }
    assert custom == {"the generator's day tank": pytest.approx(0.1), "Irene": pytest.approx(0.65)}
    assert addressed("the transfer pump", ["The pumps are fine, the transfer is not."])
    assert not addressed("the transfer pump", ["Nothing about it."])


def test_unaddressed_concerns_grow_ever_more_slowly_and_stay_spread() -> None:
    # The old rule (+0.1 a dialog) put all three at 0.8 to 1.0 after five dialogs.
    concerns = [
        Concern(topic="the fuel", intensity=0.3),
        Concern(topic="the road", intensity=0.5),
        Concern(topic="the chart", intensity=0.7),
    ]
    steps = []
    for _ in range(5):
        before = {c.topic: c.intensity for c in concerns}
        concerns = list(update_concerns(concerns, [], ["Nothing about any of it."]))
        steps.append({c.topic: c.intensity - before[c.topic] for c in concerns})
    after = {c.topic: c.intensity for c in concerns}
    assert after["the chart"] < 0.85 and after["the road"] < 0.75 and after["the fuel"] < 0.65
    assert after["the chart"] - after["the fuel"] > 0.2  # still spread out
    assert all(later[t] < earlier[t] for earlier, later in itertools.pairwise(steps) for t in later)
    assert steps[0]["the fuel"] > steps[0]["the chart"]  # a mild worry grows faster


def test_new_concerns_merge_by_topic_keeping_the_higher_intensity() -> None:
    before = [Concern(topic="Walter's chest", intensity=0.5)]
    weaker = update_concerns(before, [Concern(topic="WALTER'S CHEST", intensity=0.4)], [])
    assert len(weaker) == 1 and weaker[0].intensity == pytest.approx(0.55)  # grew, and kept
    stronger = update_concerns(before, [Concern(topic="walter's chest", intensity=0.9)], [])
    assert [(c.topic, c.intensity) for c in stronger] == [("walter's chest", 0.9)]


def test_concerns_below_the_floor_are_dropped_and_the_rest_sorted_and_limited() -> None:
    faded = update_concerns([Concern(topic="the kitchen", intensity=0.15)], [], ["the kitchen"])
    assert faded == ()
    kept = update_concerns(
        [Concern(topic="the kitchen", intensity=0.15)], [], ["the kitchen"], floor=0.0
    )
    assert kept and kept[0].intensity == pytest.approx(0.0)
    many = [Concern(topic=t, intensity=0.5) for t in ("b", "a", "d", "c", "f", "e")]
    many.append(Concern(topic="z", intensity=0.9))
    out = update_concerns([], many, [])
    assert [c.topic for c in out] == ["z", "a", "b", "c", "d"]
    assert [c.topic for c in update_concerns([], many, [], limit=2)] == ["z", "a"]


def test_anticipations_are_the_likely_expectations_with_their_likelihood() -> None:
    exp = [
        Expectation(about="The generator will run dry.", likelihood=0.6, hope=-0.8),
        Expectation(about="The road will open.", likelihood=0.59, hope=0.7),
        Expectation(about="Walter will be moved.", likelihood=0.9),
    ]
    assert anticipations(exp) == [
        ("The generator will run dry.", 0.6),
        ("Walter will be moved.", 0.9),
    ]
    assert anticipations(exp, threshold=0.95) == []
    assert len(anticipations(exp, threshold=0.0)) == 3


def test_inner_life_assembles_the_new_state_from_the_response_and_the_previous_one() -> None:
    previous = InnerLife(
        entity_id="bethan_rowe",
        timepoint_id="tp01",
        memory="Handover.",
        concerns=(
            Concern(topic="the furosemide", intensity=0.5),
            Concern(topic="bed 6", intensity=0.3),
        ),
        expectations=(Expectation(about="Nothing happens.", likelihood=0.2),),
    )
    response = ProspectionResponse(
        memory="Dr Qureshi asked me about the chart and I said nothing.",
        expectations=(
            Expectation(about="Someone will check the chart.", likelihood=0.7, hope=-0.6),
        ),
        new_concerns=(Concern(topic="the chart", intensity=0.7),),
        suppressed_impulse="I nearly told them.",
        anxiety=0.8,
    )
    texts = [t.content for t in TURNS]
    life = inner_life("bethan_rowe", "tp02", response, previous, ("the late dose",), texts)
    assert life.entity_id == "bethan_rowe" and life.timepoint_id == "tp02"
    assert life.memory == response.memory and life.expectations == response.expectations
    assert life.withheld == ("the late dose",) and life.suppressed == "I nearly told them."
    assert life.anxiety == 0.8
    concerns = {c.topic: c.intensity for c in life.concerns}
    # "furosemide" was raised by Dr Qureshi, "bed 6" was not.
    assert concerns == {
        "the chart": pytest.approx(0.7),
        "the furosemide": pytest.approx(0.35),
        "bed 6": pytest.approx(0.37),
    }
    first = inner_life("bethan_rowe", "tp01", response, None, [], texts)
    assert [c.topic for c in first.concerns] == ["the chart"] and first.withheld == ()


def test_inner_life_models_validate_their_ranges() -> None:
    with pytest.raises(ValueError):
        Expectation(about="x", likelihood=1.2)
    with pytest.raises(ValueError):
        Expectation(about="x", likelihood=0.5, hope=-1.5)
    with pytest.raises(ValueError):
        Concern(topic="", intensity=0.5)
    with pytest.raises(ValueError):
        InnerLife(entity_id="a", timepoint_id="t", memory="")
    with pytest.raises(ValueError):
        ProspectionResponse(memory="m", anxiety=2.0)
    with pytest.raises(ValueError):
        ProspectionResponse(
            memory="m", expectations=tuple(Expectation(about="x", likelihood=0.5) for _ in range(4))
        )
    assert RESPONSE_MODELS[ActionType.PROSPECTION] is ProspectionResponse


def test_anticipated_is_an_exposure_kind() -> None:
    assert ExposureType("anticipated") is ExposureType.ANTICIPATED
    x = ExposureEvent(
        exposure_id="x1",
        entity_id="bethan_rowe",
        kind="anticipated",
        information="Someone will check the chart.",
        timestamp=datetime(2024, 1, 19, 23, 0),
        confidence=0.7,
    )
    assert x.kind is ExposureType.ANTICIPATED


# --------------------------------------------------------------------------- offline generator


def test_offline_prospection_is_deterministic_for_a_seed() -> None:
    ctx = context("bethan_rowe")
    assert generate_prospection(ctx, Random(3)) == generate_prospection(ctx, Random(3))
    answers = {generate_prospection(ctx, Random(s)).model_dump_json() for s in range(6)}
    assert len(answers) >= 4
    assert generate_prospection(ctx, Random(1)) != generate_prospection(ctx, Random(2))


@pytest.mark.parametrize("seed", range(8))
def test_offline_prospection_validates_and_stays_in_voice(seed: int) -> None:
    for entity_id in CAST:
        ctx = context(entity_id)
        r = generate_prospection(ctx, Random(seed))
        assert ProspectionResponse.model_validate(r.model_dump()) == r
        assert 1 <= len(r.expectations) <= 3 and len(r.new_concerns) <= 3
        assert 0.0 <= r.anxiety <= 1.0
        for e in r.expectations:
            assert e.about[:1].isupper() and e.about.endswith((".", "!", "?")), e.about
            assert "{" not in e.about
        assert "{" not in r.memory and "{" not in r.suppressed_impulse
        for text in all_text(r):
            for banned in ctx.voice.never_says:
                assert not tx.contains_phrase(text, banned), (entity_id, banned, text)
        assert len({c.topic.lower() for c in r.new_concerns}) == len(r.new_concerns)


def test_the_memory_is_about_this_dialog_and_the_turn_that_mattered_to_the_character() -> None:
    # Bethan was challenged by Dr Qureshi about the furosemide she gave late: that is what she
    # remembers, whatever the seed.
    for seed in range(10):
        r = generate_prospection(context("bethan_rowe"), Random(seed))
        assert "Dr Qureshi" in r.memory, r.memory
        assert "furosemide" in " ".join(all_text(r)).lower()
    # Maeve remembers Gareth's fuel news or the people in it; the generator or Gareth is there.
    for seed in range(10):
        r = generate_prospection(context("maeve_kilbride"), Random(seed))
        assert any(w in r.memory for w in ("Gareth", "Dr Qureshi", "generator", "day tank")), (
            r.memory
        )


def test_withheld_knowledge_touched_by_the_dialog_feeds_the_held_back_impulse() -> None:
    ctx = context("bethan_rowe")
    assert any("furosemide" in w for w in ctx.withheld)
    impulses = [generate_prospection(ctx, Random(s)).suppressed_impulse for s in range(10)]
    assert all(impulses)
    assert sum("furosemide" in i for i in impulses) >= 5
    dread = [
        e
        for s in range(10)
        for e in generate_prospection(ctx, Random(s)).expectations
        if "furosemide" in e.about
    ]
    assert dread and all(e.hope < 0 for e in dread)


def test_personality_and_mood_decide_what_a_character_dwells_on() -> None:
    bank = inner_bank()
    assert lens(context("bethan_rowe"), bank) == "threat"  # anxious and unhappy
    assert lens(context("maeve_kilbride"), bank) == "people"  # maternal
    assert lens(context("gareth_pengelly"), bank) == "decision"  # practical, dependable
    cheerful = mood_of("bethan_rowe").model_copy(update={"valence": 0.6, "arousal": 0.2})
    assert lens(context("bethan_rowe", mood=cheerful, personality=("kind",)), bank) == "people"

    # The anxious, unhappy nurse is more anxious than the unflappable charge nurse.
    def mean_anxiety(entity_id: str) -> float:
        values = [generate_prospection(context(entity_id), Random(s)).anxiety for s in range(8)]
        return sum(values) / len(values)

    assert mean_anxiety("bethan_rowe") > mean_anxiety("maeve_kilbride") + 0.2
    # Low spirits expect things to go wrong; high spirits hope.
    low = [
        e.hope
        for s in range(6)
        for e in generate_prospection(context("gareth_pengelly"), Random(s)).expectations
    ]
    happy = mood_of("gareth_pengelly").model_copy(update={"valence": 0.8, "arousal": 0.2})
    high = [
        e.hope
        for s in range(6)
        for e in generate_prospection(
            context("gareth_pengelly", mood=happy, withheld=()), Random(s)
        ).expectations
    ]
    assert sum(high) / len(high) > 0.2 > sum(low) / len(low)


def _frames(options: tuple[str, ...]) -> list[str]:
    return [_skeleton(tx.expand(o)) for o in options]


def test_a_listener_remembers_as_a_witness_and_a_speaker_as_a_participant() -> None:
    memory = inner_bank().memory
    listened, spoke = _frames(memory.listened), _frames(memory.spoke + memory.spoke_plain)
    for seed in range(8):
        # Walter was in the room and said nothing.
        witness = generate_prospection(context("walter_ashby", spoke=False), Random(seed)).memory
        low = tx.expand(witness).lower()
        assert any(f in low for f in listened), witness
        assert not any(f in low for f in spoke), witness
        speaker = generate_prospection(context("maeve_kilbride"), Random(seed)).memory
        low = tx.expand(speaker).lower()
        assert any(f in low for f in spoke), speaker
        assert not any(f in low for f in listened), speaker


def test_a_hunch_voiced_in_the_dialog_is_not_remembered_as_news() -> None:
    hunch = "Dr Qureshi will ask me about Walter's chart again."
    said = turn(
        5,
        "bethan_rowe",
        "samir_qureshi",
        f"Um, sorry. Mark my words, {tx.lower_first(hunch)}",
        knowledge_references=(hunch,),
        emotional_tone="urgent",
    )
    ctx = context("samir_qureshi", turns=(*TURNS, said))
    news = inner_bank().memory.salient["news"]
    for seed in range(10):
        memory = generate_prospection(ctx, Random(seed)).memory
        assert "ask me" not in memory and "I will ask" not in memory, memory
        assert not any(_skeleton(t) in memory.lower() and "chart" in memory for t in news), memory
    # Nor does the one who voiced it remember having stated it as a fact.
    own = context("bethan_rowe", turns=(*TURNS, said), spoke=True)
    for seed in range(10):
        memory = generate_prospection(own, Random(seed)).memory
        assert "will ask me about" not in memory, memory


def test_a_character_with_no_one_else_speaking_still_has_an_inner_life() -> None:
    alone = context("walter_ashby", turns=(), spoke=False)
    r = generate_prospection(alone, Random(0))
    assert r.memory and r.expectations
