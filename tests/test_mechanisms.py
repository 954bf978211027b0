"""The mechanisms are pure functions; each is tested on its own."""

from __future__ import annotations

from datetime import datetime
from random import Random

import pytest

from engine.agents import emotion, persona, relationships, steering
from engine.agents.cast import initial_entity, profile_from_spec
from engine.knowledge import validators
from engine.knowledge.causal import CausalGraph
from engine.knowledge.exposure import (
    KNOWLEDGE_LIMITS,
    KNOWLEDGE_WORDS,
    KnowledgeLedger,
    told_exposures,
)
from engine.model import (
    BEHAVIOR_DIMS,
    CognitiveState,
    DialogTurn,
    EntityProfile,
    ExposureEvent,
    KnowledgeItem,
    PersonaParams,
    Relationship,
    ResolutionLevel,
    TTMTensor,
)
from engine.modes import forward
from engine.scenario.schema import EntitySpec

NOW = datetime(2030, 1, 1, 9)
PARAMS = PersonaParams(
    temperature=0.7, top_p=0.9, max_tokens=100, frequency_penalty=0.1, presence_penalty=0.1
)


def entity(eid: str = "a", **traits: float):
    spec = EntitySpec(
        id=eid,
        name=eid.upper(),
        role="Clerk",
        traits={
            "assertiveness": 0.5,
            "warmth": 0.5,
            "deliberation": 0.5,
            "openness": 0.5,
            "volatility": 0.5,
            "vocabulary_richness": 0.5,
            "novelty_seeking": 0.5,
            "formality": 0.5,
            **traits,
        },
    )
    return initial_entity(profile_from_spec(spec), None, ResolutionLevel.SCENE)


def turn(
    speaker: str,
    to: str | None,
    stance: str = "informs",
    content: str = "Fine.",
    i: int = 0,
    refs: tuple[str, ...] = (),
) -> DialogTurn:
    return DialogTurn(
        dialog_id="d",
        turn_index=i,
        speaker=speaker,
        content=content,
        addressed_to=to,
        stance=stance,
        knowledge_references=refs,
        persona=PARAMS,
        timestamp=NOW,
    )


# --- M6: tensor sync ---------------------------------------------------------------------
def test_ttm_and_cognitive_sync_round_trip() -> None:
    t = TTMTensor(
        context=[0.3, 0.8, 0.6, 0.4, 0.5, 0.6, 0.7, 0.2],
        biology=[0.9, 0.1, 0.2, 0.4],
        behavior=[0.5] * 8,
    )
    cog = emotion.ttm_to_cognitive(t)
    assert cog.valence == pytest.approx(0.6)  # 0.8 * 2 - 1
    assert cog.energy == pytest.approx(40.0)  # 0.4 * 100
    assert cog.arousal == pytest.approx(0.6)
    back = emotion.cognitive_to_ttm(t, cog)
    assert back.context.tolist() == pytest.approx(t.context.tolist())


def test_dialog_impact_decays_arousal_and_clamps_changes() -> None:
    calm = CognitiveState(arousal=0.9, valence=0.0, energy=80)
    after = emotion.dialog_impact("a", calm, [], trust={}, new_knowledge=0, vitality=0.8)
    assert after.arousal < 0.9  # decays toward the baseline with no stimulus
    barrage = [
        turn("b", "a", "challenges", "No! Never! Wrong, stop, you lied, damage now!", i)
        for i in range(20)
    ]
    hit = emotion.dialog_impact(
        "a", calm, barrage, trust={"b": -1.0}, new_knowledge=0, vitality=0.8
    )
    assert calm.valence - hit.valence <= emotion.MAX_DELTA + 1e-9
    assert hit.valence < calm.valence and hit.energy < calm.energy


def test_speaking_costs_energy_and_support_lifts_mood() -> None:
    start = CognitiveState(energy=60, valence=0.0)
    spoke = emotion.dialog_impact(
        "a", start, [turn("a", "b"), turn("a", "b", i=1)], trust={}, new_knowledge=0, vitality=0.5
    )
    listened = emotion.dialog_impact(
        "a", start, [turn("b", "a", "supports")], trust={}, new_knowledge=2, vitality=0.5
    )
    assert spoke.energy < listened.energy < start.energy
    assert listened.valence > start.valence and listened.knowledge > start.knowledge


def test_rest_restores_energy() -> None:
    t = TTMTensor(
        context=[0.3, 0.5, 0.9, 0.2, 0.5, 0.5, 0.5, 0.5],
        biology=[0.9, 0, 0.8, 0.4],
        behavior=[0.5] * 8,
    )
    rested = emotion.rest(t, hours=6)
    assert rested.ctx("energy") > t.ctx("energy") and rested.bio("fatigue") < t.bio("fatigue")
    assert rested.ctx("arousal") < t.ctx("arousal")


# --- M11: persona --------------------------------------------------------------------------
def test_persona_params_follow_arousal_energy_and_lateness() -> None:
    e = entity()
    style = persona.speaking_style(e.profile, e.tensor)
    calm = persona.persona_params(CognitiveState(arousal=0.1, energy=90), e.tensor, style, 0, 6)
    keyed = persona.persona_params(CognitiveState(arousal=0.9, energy=90), e.tensor, style, 0, 6)
    tired = persona.persona_params(CognitiveState(arousal=0.9, energy=10), e.tensor, style, 5, 6)
    assert keyed.temperature > calm.temperature
    assert keyed.top_p < calm.top_p
    assert tired.max_tokens < keyed.max_tokens


def test_speaking_style_differs_with_traits() -> None:
    bold = entity("b", assertiveness=0.95, warmth=0.8)
    shy = entity("s", assertiveness=0.2, openness=0.9, warmth=0.1)
    a = persona.speaking_style(bold.profile, bold.tensor)
    b = persona.speaking_style(shy.profile, shy.tensor)
    assert a.pattern == "commanding" and b.pattern == "questioning"
    assert a.tone == "warm" and b.tone == "cold"


# --- M13: relationships ------------------------------------------------------------------
def test_relationships_move_with_stance_and_share_knowledge() -> None:
    rels = {("a", "b"): Relationship(a="a", b="b", trust=0.0)}
    turns = [
        turn("a", "b", "supports"),
        turn("b", "a", "supports", i=1),
        turn("a", "c", "challenges", i=2),
    ]
    updated = {
        (r.a, r.b): r
        for r in relationships.update_after_dialog(
            rels, turns, {"a": ["x", "y"], "b": ["y"], "c": []}
        )
    }
    assert updated[("a", "b")].trust > 0 and updated[("a", "b")].interaction_count == 2
    assert updated[("a", "b")].shared_knowledge == ("y",)
    assert updated[("a", "c")].trust < 0


# --- M3 / M4: knowledge -------------------------------------------------------------------
def exposure(eid: str, info: str, kind: str = "initial", tp: str | None = None) -> ExposureEvent:
    return ExposureEvent(
        exposure_id=f"{eid}-{info}",
        entity_id=eid,
        kind=kind,
        information=info,
        timestamp=NOW,
        timepoint_id=tp,
    )


def test_information_conservation() -> None:
    ok = validators.information_conservation(["x"], ["x", "y"])
    bad = validators.information_conservation(["x", "z"], ["x"])
    assert ok.valid and not ok.violations
    assert not bad.valid and bad.violations == ("z",)


def test_extraction_provenance_rejects_absent_listeners_and_unheld_facts() -> None:
    item = KnowledgeItem(content="the vault code", speaker="a", listeners=("b", "ghost"))
    result = validators.extraction_provenance(
        item, speaker_known=set(), turn_references={"the vault code"}, present={"a", "b"}
    )
    assert not result.valid and len(result.violations) == 2


def test_ledger_keeps_first_exposure_and_limits_recall_by_resolution() -> None:
    ledger = KnowledgeLedger()
    assert ledger.record(exposure("a", "fact 0"))
    assert not ledger.record(exposure("a", "fact 0", "told"))
    for i in range(1, 30):
        ledger.record(exposure("a", f"fact {i}", "told", "tp01"))
    assert ledger.count() == 30
    for level, limit in KNOWLEDGE_LIMITS.items():
        assert len(ledger.recall("a", level)) == min(limit, 30)
    assert ledger.recall("a", ResolutionLevel.TENSOR_ONLY)[0].information == "fact 29"


def test_a_dialog_speaker_brings_what_bears_on_the_moment_within_its_words() -> None:
    ledger = KnowledgeLedger()
    long = "At dawn " + " ".join(f"word{i}" for i in range(60)) + "."
    items = [
        "The press was sold to the Fabre family for a song.",
        long,
        "The cellar roof leaks over the third row of barrels.",
        "Rose keeps the tally of the terraces.",
        "The frost insurance lapsed in March.",
        "The bank may call in the bottling line loan.",
        "Nadia wants the March wages guaranteed.",
    ]
    for info in items:
        ledger.record(exposure("a", info, "told", "tp01"))
    about = "Who will pay for the leaking cellar roof before the barrels spoil?"
    chosen = ledger.recall("a", ResolutionLevel.DIALOG, about=about)
    words = sum(len(x.information.split()) for x in chosen)
    assert words <= KNOWLEDGE_WORDS[ResolutionLevel.DIALOG] < sum(len(i.split()) for i in items)
    assert "The cellar roof leaks over the third row of barrels." in [x.information for x in chosen]
    assert long not in [x.information for x in chosen], "a long item gives way to shorter ones"
    order = [x.information for x in ledger.recall("a", ResolutionLevel.DIALOG)]
    assert [x.information for x in chosen] == [
        i for i in order if i in {x.information for x in chosen}
    ]
    # without the moment, or at TRAINED, nothing is bounded in words
    assert len(ledger.recall("a", ResolutionLevel.DIALOG)) == len(items)
    assert len(ledger.recall("a", ResolutionLevel.TRAINED, about=about)) == len(items)
    # the one item that bears on the moment comes even when it alone passes the words
    ranked_first = ledger.recall("a", ResolutionLevel.DIALOG, about="word3 word7 word11 dawn")
    assert long in [x.information for x in ranked_first]


def test_a_dialog_speaker_tells_what_it_holds_before_what_everyone_saw() -> None:
    """Within its words, what it was told or knew comes before an event it witnessed (which
    the others present saw too), however much that event bears on the moment."""
    ledger = KnowledgeLedger()
    told = [
        f"Fact {i} about the cellar roof and the barrels in row {i} stays open." for i in range(5)
    ]
    for info in told:
        ledger.record(exposure("a", info, "told", "tp01"))
    seen = "The cellar roof fell in on the barrels at dawn while the whole council stood and watched it go."
    ledger.record(exposure("a", seen, "witnessed", "tp02"))
    chosen = {
        x.information
        for x in ledger.recall("a", ResolutionLevel.DIALOG, about="the cellar roof fell in at dawn")
    }
    assert chosen == set(told), chosen


def test_told_exposures_reach_only_present_listeners_who_did_not_know() -> None:
    ledger = KnowledgeLedger()
    ledger.record(exposure("c", "news"))
    item = KnowledgeItem(content="news", speaker="a", listeners=("a", "b", "c", "d"))
    made = told_exposures(
        item,
        ledger=ledger,
        present={"a", "b", "c"},
        timepoint_id="tp01",
        at=NOW,
        dialog_id="d",
        turn_index=2,
    )
    assert [x.entity_id for x in made] == ["b"]
    assert made[0].exposure_id == "", "ids are given by the World, to what its ledger accepts"
    assert made[0].kind.value == "told" and made[0].source == "a" and made[0].turn_index == 2


# --- M7 / M17: time ----------------------------------------------------------------------
def test_forward_phases_and_tension_arc() -> None:
    phases = [forward.phase(i, 6) for i in range(6)]
    assert phases[0] == "setup" and phases[-1] == "aftermath" and "crisis" in phases
    tensions = [forward.tension(i, 6, 0.5) for i in range(6)]
    assert max(tensions) == tensions[phases.index("crisis")]


def test_causal_graph_links_and_reachability() -> None:
    graph = CausalGraph()
    for i, parent in enumerate([None, "t1", "t2"], start=1):
        graph.add(f"t{i}", parent)
    assert graph.can_know("t1", "t3") and not graph.can_know("t3", "t1")
    assert graph.can_know(None, "t1") and graph.can_know("", None)
    assert not graph.can_know("t1", None)
    with pytest.raises(ValueError):
        graph.add("t9", "nope")


def test_visibility_follows_ancestry_across_two_branches() -> None:
    """main: t1 -> t2 -> t3; a branch forks after t2: t2 -> b.t3 -> b.t4. What entered on one
    branch after the fork is invisible on the other, whatever the indexes say."""
    graph = CausalGraph()
    graph.add("t1")
    graph.add("t2", "t1")
    graph.add("t3", "t2")
    graph.add("b.t3", "t2")
    graph.add("b.t4", "b.t3")
    assert graph.can_know("t2", "b.t4") and graph.can_know("t1", "b.t3")
    assert not graph.can_know("t3", "b.t4"), "main's t3 is a sibling of the branch, not a cause"
    assert not graph.can_know("b.t3", "t3")
    assert graph.lineage("b.t4") == {"t1", "t2", "b.t3", "b.t4"}
    assert graph.lineage("t3") == {"t1", "t2", "t3"}
    assert graph.parents("b.t3") == ("t2",)


# --- M11 steering / M16 animism ---------------------------------------------------------------
def test_steering_plans_rounds_within_limits_and_closes() -> None:
    speakers = [entity("a", assertiveness=0.9), entity("b"), entity("c")]
    rng = Random(1)
    spoken: dict[str, int] = {}
    plans = steering.plan_round(speakers, spoken, None, 0, 8, 3, rng)
    assert len(plans) == 1 and plans[0].move == "open" and plans[0].speaker == "a"
    index, last, rounds = 1, "a", []
    while True:
        plans = steering.plan_round(speakers, spoken, last, index, 8, 3, rng)
        if not plans:
            break
        rounds.append(plans)
        assert len(plans) <= 3
        assert all(p.speaker != last for p in plans)
        for p in plans:
            spoken[p.speaker] = spoken.get(p.speaker, 0) + 1
        index = plans[-1].turn_index + 1
        last = plans[-1].speaker
    assert index == 8 and rounds[-1][-1].move == "close"
    assert any(len(r) > 1 for r in rounds), "some turns answer the same turn concurrently"


def play_rounds(speakers, turns: int, parallel: int, seed: int = 2) -> list[list]:
    rng, spoken, rounds = Random(seed), {}, []
    index, last = 0, None
    while plans := steering.plan_round(speakers, spoken, last, index, turns, parallel, rng):
        rounds.append(plans)
        for p in plans:
            spoken[p.speaker] = spoken.get(p.speaker, 0) + 1
        index, last = plans[-1].turn_index + 1, plans[-1].speaker
    return rounds


def test_the_closing_turn_joins_the_last_round_when_it_has_room() -> None:
    speakers = [entity("a", assertiveness=0.9), entity("b"), entity("c"), entity("d")]
    wide = play_rounds(speakers, 6, 3)
    assert [len(r) for r in wide] == [1, 3, 2]
    last = wide[-1]
    assert last[-1].move == "close" and last[-1].turn_index == 5
    assert len({p.speaker for p in last}) == len(last), "nobody speaks twice in one round"
    assert all(p.addressed_to == wide[1][-1].speaker for p in last)
    # Without room in the round the closer keeps its own round; one at a time stays one at a time.
    assert [len(r) for r in play_rounds(speakers, 6, 2)] == [1, 2, 2, 1]
    assert [len(r) for r in play_rounds(speakers, 6, 1)] == [1] * 6
    for rounds in (wide, play_rounds(speakers, 6, 2), play_rounds(speakers, 9, 4)):
        indices = [p.turn_index for r in rounds for p in r]
        assert indices == list(range(len(indices))) and rounds[-1][-1].move == "close"


def test_animism_level_decides_who_speaks() -> None:
    def typed(kind: str):
        return initial_entity(
            EntityProfile(
                entity_id=kind,
                name=kind,
                entity_type=kind,
                traits=dict.fromkeys(BEHAVIOR_DIMS, 0.5),
            ),
            None,
            ResolutionLevel.SCENE,
        )

    cast = [typed("human"), typed("animal"), typed("building"), typed("kami")]
    assert [e.entity_id for e in steering.choose_speakers(cast, "", 0, 9)] == ["human"]
    assert len(steering.choose_speakers(cast, "", 2, 9)) == 3
    assert len(steering.choose_speakers(cast, "", 5, 9)) == 4
    assert steering.speaking_mode("animal") == "behavior"
    assert steering.speaking_mode("human") == "speech"
