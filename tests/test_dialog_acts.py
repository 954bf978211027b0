"""Offline dialog in dialog acts: the realiser's grammar, questions answered or evaded,
proposals taken up, secrets kept until something brings them out, and whole runs with no
pasted ids and nobody naming themself."""

from __future__ import annotations

import re
from random import Random

import pytest
from conftest import FIXTURES, needs_fixtures, run_scenario
from test_offline import KNOWLEDGE, MARA, OWEN, context

from engine.llm.contexts import EntityBrief, KnowledgeRef, RelationBrief, TurnBrief
from engine.llm.offline import grammar as gm
from engine.llm.offline import realise as rz
from engine.llm.offline import spoken as sp
from engine.llm.offline import tense
from engine.llm.offline import text as tx
from engine.llm.offline import voice as vc
from engine.llm.offline.acts import is_secret
from engine.llm.offline.dialog import choose_knowledge, generate_turn
from engine.model import events as ev

BASTIEN = rz.People.of("Bastien Roux", "Marguerite Solane", ("Odile Vey",))


# ----------------------------------------------------------------------------- the realiser


@pytest.mark.parametrize(
    ("fact", "own", "said"),
    [
        (
            "Bastien Roux used the premium to repay his debt; he told nobody.",
            True,
            "I used the premium to repay my debt; I told nobody.",
        ),
        ("Bastien's cellar is full.", False, "My cellar is full."),
        ("Bastien has lied about the vote.", False, "I have lied about the vote."),
        ("Marguerite is wrong and Marguerite knows it.", False, "You are wrong and you know it."),
        ("Odile thinks Bastien is lying to her.", False, "Odile thinks I am lying to her."),
        ("Marguerite told Bastien the truth.", False, "You told me the truth."),
        (
            "Eleven men have told her privately they would go.",
            True,
            "Eleven men have told me privately they would go.",
        ),
        ("Odile saw the letter at 22:00.", False, "Odile saw the letter at 22:00."),
    ],
)
def test_facts_are_said_from_the_speakers_point_of_view(fact: str, own: bool, said: str) -> None:
    assert rz.point_of_view(fact, BASTIEN, own=own) == said


def test_a_fact_someone_told_is_theirs_when_it_names_nobody() -> None:
    people = rz.People.of("Harold Brisk", "Ines Carvalho", ("Ruth Okonedo",))
    fact = "She has not told the branch about the vote."
    assert rz.point_of_view(fact, people, owner="Ruth Okonedo").startswith("Ruth has not told")
    to_her = rz.point_of_view(fact, people, owner="Ines Carvalho")
    assert to_her.startswith("You have not told"), to_her


def test_a_second_verb_of_the_same_subject_agrees() -> None:
    fact = "Walter has had a tight chest and has told only the nurse."
    people = rz.People.of("Walter Ashby", None, ())
    assert (
        rz.point_of_view(fact, people) == "I have had a tight chest and have told only the nurse."
    )


def test_the_gist_comes_first_and_the_rest_is_kept_for_later() -> None:
    fact = (
        "The board has authorised him to offer eighteen months' wages, though he has offered "
        "only twelve."
    )
    people = rz.People.of("Harold Brisk", None, ())
    gist, rest = sp.say_fact(fact, people, Random(0), own=True, casual=False)
    assert gist.startswith("The board has") and "me to offer" in gist and "twelve" not in gist
    assert rest == "I have offered only twelve"


def test_times_figures_and_articles() -> None:
    assert (
        tx.topic("we look at Walter Ashby's 22:00 round together") == "Walter Ashby's 22:00 round"
    )
    assert "22:00" in tx.words("the 22:00 furosemide")
    assert tx.topic("the forecast behind the tech startup board assumes a growth rate") == (
        "the tech startup board"
    )
    assert [gm.article(w) for w in ("apple", "pear", "hour", "unit", "18-franc", "8")] == [
        "an",
        "a",
        "an",
        "a",
        "an",
        "an",
    ]
    assert gm.number(18400) == "18,400" and gm.number(3.5) == "3.5"
    assert gm.clock_time(9, 5) == "09:05"
    assert gm.sentence("  the vote was close ,") == "The vote was close."
    assert tx.expand("Don't you dare. I don't know.") == "Don't you dare. I do not know."
    # figures said as words, the day of a date as an ordinal; times and years as written
    assert (
        gm.spoken_figures("31,000 francs before March 31")
        == "thirty-one thousand francs before March thirty-first"
    )
    assert gm.spoken_figures("minus 5.2 degrees on 12 August at 22:00") == (
        "minus five point two degrees on the twelfth of August at 22:00"
    )
    assert gm.spoken_figures("on 1 May 2034 and March 2035") == (
        "on the first of May 2034 and March 2035"
    )
    assert [gm.ordinal(n) for n in (2, 3, 11, 12, 20, 22, 30)] == [
        "second", "third", "eleventh", "twelfth", "twentieth", "twenty-second", "thirtieth"
    ]  # fmt: skip
    assert gm.spoken_figures("3.5% of 18,400 in 1991, version 2.1.3") == (
        "3.5% of 18,400 in 1991, version 2.1.3"
    )
    assert tx.topic("Madison and Hamilton each come away sure the other has it wrong.") != (
        "the away sure"
    )


# ----------------------------------------------------------------------------- acts

SECRET = KnowledgeRef(
    information="Mara Quell sold the strike fund's ledger to the Hedda Line and told nobody.",
    kind="initial",
    private=True,
)


def _asked(content: str, **changes) -> list:
    question = TurnBrief(
        turn_index=1,
        speaker_id="owen",
        speaker_name="Owen Bright",
        content=content,
        act="ask",
        addressed_to="mara",
    )
    return [
        generate_turn(context(previous_turns=(question,), **changes), Random(seed))
        for seed in range(40)
    ]


def test_a_question_gets_an_answer_or_a_visible_evasion() -> None:
    replies = _asked("Mara, how many votes did the strike vote pass by?")
    assert {r.act for r in replies} <= {"answer", "deflect", "reveal"}
    answered = [r for r in replies if r.act == "answer"]
    assert len(answered) >= 30
    assert all("eleven votes" in r.content for r in answered if r.knowledge_references)
    assert all(r.addressed_to == "owen" for r in replies)
    unknown = _asked("Mara, what happened to the harbour master's boat?")
    assert all(r.act in ("answer", "deflect") and not r.knowledge_references for r in unknown)
    assert sum("harbour master" in r.content for r in unknown) >= 20


def test_a_proposal_is_accepted_or_refused() -> None:
    proposal = TurnBrief(
        turn_index=1,
        speaker_id="owen",
        speaker_name="Owen Bright",
        content="I say we put the cranes to a vote tonight.",
        act="propose",
    )
    for trust, expected in ((0.9, "agree"), (-0.9, "refuse")):
        relation = RelationBrief(entity=OWEN, trust=trust, alignment=trust)
        acts = [
            generate_turn(
                context(previous_turns=(proposal,), listeners=(relation,)), Random(seed)
            ).act
            for seed in range(30)
        ]
        assert set(acts) <= {"agree", "refuse"}
        assert acts.count(expected) >= 22, acts


def test_a_secret_is_kept_until_something_brings_it_out() -> None:
    knowledge = (*KNOWLEDGE, SECRET)
    assert is_secret(SECRET, MARA.name) and not is_secret(KNOWLEDGE[0], MARA.name)
    calm = [generate_turn(context(knowledge=knowledge), Random(s)) for s in range(60)]
    assert not any(SECRET.information in t.knowledge_references for t in calm)
    assert not any("ledger" in t.content for t in calm)
    # asked straight out by someone Mara trusts, she tells it, in the first person
    trusted = (RelationBrief(entity=OWEN, trust=0.8, alignment=0.5),)
    replies = _asked(
        "Owen here: what happened to the strike fund's ledger, Mara?",
        knowledge=knowledge,
        listeners=trusted,
    )
    told = [r for r in replies if r.act == "reveal"]
    assert len(told) >= 15 and all(SECRET.information in r.knowledge_references for r in told)
    assert all("I sold the strike fund's ledger" in r.content for r in told), told[0].content
    kept = [r for r in replies if r.act == "deflect"]
    assert all(not r.knowledge_references for r in kept)
    # the others react to it
    reveal = TurnBrief(
        turn_index=2,
        speaker_id="mara",
        speaker_name="Mara Quell",
        content=told[0].content,
        act="reveal",
        knowledge_references=(SECRET.information,),
    )
    reactions = [
        generate_turn(
            context(
                speaker=OWEN,
                knowledge=(),
                listeners=(RelationBrief(entity=MARA, trust=0.0, alignment=0.0),),
                previous_turns=(reveal,),
                addressed_to="mara",
            ),
            Random(s),
        ).act
        for s in range(30)
    ]
    assert reactions.count("react") >= 20


def test_written_words_are_said_aloud_except_in_a_formal_voice() -> None:
    people = rz.People.of("Ines Carvalho", "Harold Brisk", ())
    fact = "The January fuel delivery was cancelled and the day tank holds seven hours of diesel."
    spoken = [
        " ".join(sp.say_fact(fact, people, Random(s), own=False, casual=False, contracted=True))
        for s in range(10)
    ]
    assert any("called off" in s for s in spoken) and any(" has seven hours" in s for s in spoken)
    formal = {sp.say_fact(fact, people, Random(s), own=False, casual=False)[0] for s in range(10)}
    assert all("cancelled" in s and "called off" not in s for s in formal)


def test_a_subject_already_named_is_named_short() -> None:
    people = rz.People.of("Ines Carvalho", "Harold Brisk", ())
    fact = "The two container cranes are already paid for."
    fresh = {sp.say_fact(fact, people, Random(s), own=False, casual=False)[0] for s in range(8)}
    assert fresh == {"The two container cranes are already paid for"}
    again = {
        sp.say_fact(fact, people, Random(s), own=False, casual=False, said="the cranes cut")[0]
        for s in range(8)
    }
    assert again == {"the cranes are already paid for", "they are already paid for"}


@pytest.mark.parametrize(
    ("scene", "told"),
    [
        (
            "Madison watches the others and says little.",
            "Madison watched the others and said little.",
        ),
        (
            "Madison and Hamilton each come away sure the other has it wrong.",
            "Madison and Hamilton each came away sure the other had it wrong.",
        ),
        (
            "The rumour reaches Ines, who goes looking; the orders arrive late.",
            "The rumour reached Ines, who went looking; the orders arrived late.",
        ),
        # nouns, infinitives and words after a modal keep their shape
        ("The guards plan to stop the boats.", "The guards planned to stop the boats."),
        ("He says the ferry will sail at dawn.", "He said the ferry will sail at dawn."),
    ],
)
def test_a_scene_someone_saw_is_told_in_the_past(scene: str, told: str) -> None:
    assert tense.past_tense(scene) == told


def test_a_person_is_addressed_by_name_once_a_turn() -> None:
    assert (
        gm.one_vocative("Ruth, wait. What would you do about the panel, Ruth?", "Ruth")
        == "Ruth, wait. What would you do about the panel?"
    )
    assert (
        gm.one_vocative("Jefferson, wait. Jefferson, what do you know?", "Jefferson")
        == "Jefferson, wait. What do you know?"
    )
    assert gm.one_vocative("Is it true, Ana? The key, Ana, is gone.", "Ana") == (
        "Is it true, Ana? The key is gone."
    )
    # someone else's name, or the name not used as a vocative, stays
    assert gm.one_vocative("I told Ruth, and Ruth, you know it.", "Owen") == (
        "I told Ruth, and Ruth, you know it."
    )


def test_a_scene_the_listener_was_in_is_not_told_to_them() -> None:
    scene = KnowledgeRef(
        information="Owen Bright slams the ledger shut and walks out.",
        kind="witnessed",
        timepoint_id="tp01",
    )
    # something everyone here knows already still comes before it; alone it is not told
    known = KnowledgeRef(information="The crane order was signed on Monday.", kind="initial")
    ctx = context(knowledge=(scene, known))
    picks = {choose_knowledge(ctx, Random(seed)).information for seed in range(30)}
    assert picks == {known.information}
    assert choose_knowledge(context(knowledge=(scene,)), Random(1)) is None
    # told to someone who was not there, it is told in the past tense
    ines = EntityBrief(entity_id="ines", name="Ines Moura", role="Pilot")
    away = context(
        knowledge=(scene,), listeners=(RelationBrief(entity=ines, trust=0, alignment=0),)
    )
    said = [generate_turn(away, Random(seed)) for seed in range(40)]
    told = [t.content for t in said if scene.information in t.knowledge_references]
    assert told
    assert all(" slams " not in t and "walks out" not in t for t in told), told
    assert any(" slammed " in t or "walked out" in t for t in told), told


def test_what_was_talked_over_before_is_named_not_told_again() -> None:
    heard = KnowledgeRef(
        information="The harbour pilots will stop guiding ships in at midnight on Sunday.",
        kind="told",
        source="a harbour pilot",
        timepoint_id="tp00",
    )
    said = [generate_turn(context(knowledge=(heard,)), Random(seed)) for seed in range(40)]
    mentioned = [t.content for t in said if heard.information in t.knowledge_references]
    assert mentioned
    assert not any("guiding ships in at midnight" in t for t in mentioned), mentioned


def test_a_question_with_no_subject_is_about_what_was_just_said() -> None:
    claim = TurnBrief(
        turn_index=0,
        speaker_id="owen",
        speaker_name="Owen Bright",
        content="Two cranes are already at sea on the Hedda Line.",
        knowledge_references=(KNOWLEDGE[1].information,),
    )
    question = TurnBrief(
        turn_index=1,
        speaker_id="owen",
        speaker_name="Owen Bright",
        content="How long have you known?",
        act="ask",
        addressed_to="mara",
    )
    said = [
        generate_turn(context(previous_turns=(claim, question)), Random(seed)) for seed in range(20)
    ]
    answered = [t for t in said if t.act == "answer"]
    assert answered
    assert all(KNOWLEDGE[1].information in t.knowledge_references for t in answered)
    assert not any("don't know" in t.content or "Nobody told me" in t.content for t in answered)


# ----------------------------------------------------------------------------- whole runs

_ID = re.compile(r"\b[a-z]+_[a-z_]+\b")


def _turns(events) -> list[ev.DialogTurnFinished]:
    return [e for e in events if isinstance(e, ev.DialogTurnFinished)]


@pytest.mark.parametrize("name", ["harbor_strike", "vintners_council", "snowbound_ward"])
async def test_bundled_runs_talk_like_people(store, name: str) -> None:
    from engine.scenario import load_scenario

    loaded = load_scenario(name)
    people = {e.id: e for e in loaded.scenario.entities}
    _, events = await run_scenario(name, store, seed=1)
    turns = _turns(events)
    assert len(turns) >= 10
    asked = 0
    for i, e in enumerate(turns):
        t = e.turn
        person = people[t.speaker]
        assert not _ID.search(t.content), t.content
        names = {person.name, tx.first_name(person.name)}
        assert not gm.says_own_name(t.content, tuple(names)), (person.name, t.content)
        secrets = [k for k in person.knowledge if k in t.knowledge_references]
        for k in secrets:
            ref = KnowledgeRef(information=k, kind="initial", private=True)
            if is_secret(ref, person.name):
                assert t.act in ("reveal", "answer", "open", "inform"), (t.act, t.content)
        if t.act == "ask" and t.addressed_to:
            reply = next(
                (
                    x.turn
                    for x in turns[i + 1 :]
                    if x.turn.dialog_id == t.dialog_id and x.turn.speaker == t.addressed_to
                ),
                None,
            )
            if reply is not None:
                asked += 1
                assert reply.act in ("answer", "deflect", "reveal"), (t.content, reply.content)
    assert asked >= 1


async def test_runs_are_deterministic_per_seed(store) -> None:
    _, first = await run_scenario("harbor_strike", store, seed=4)
    _, again = await run_scenario("harbor_strike", store, seed=4)
    _, other = await run_scenario("harbor_strike", store, seed=5)
    said = [e.turn.content for e in _turns(first)]
    assert said == [e.turn.content for e in _turns(again)]
    assert said != [e.turn.content for e in _turns(other)]


@needs_fixtures
async def test_reference_templates_say_no_raw_knowledge_keys(store) -> None:
    templates = sorted((FIXTURES / "templates").glob("**/board_meeting.json"))
    templates += sorted((FIXTURES / "templates").glob("**/jefferson_dinner.json"))
    assert templates, "the reference templates are where the fixtures say"
    for path in templates:
        _, events = await run_scenario(str(path), store, seed=2)
        for e in _turns(events):
            assert not _ID.search(e.turn.content), e.turn.content


# ----------------------------------------------------------------------------- said, not recited


def test_a_condition_or_a_time_clause_is_said_first_when_both_halves_are_clauses() -> None:
    from engine.llm.offline.rephrase import front_condition

    assert front_condition(
        "they will move to Kessington if the port is not working by the end of the month"
    ) == ("if the port is not working by the end of the month, they will move to Kessington")
    assert front_condition("the rotation weight jams when the cable jumps the second pulley") == (
        "when the cable jumps the second pulley, the rotation weight jams"
    )
    for unchanged in (
        "I asked if the port is open today",  # the content of a question, not a condition
        "even if the port opens we lose",
        "the crew will sail when ready",  # no clause follows
    ):
        assert front_condition(unchanged) == unchanged


def test_a_casual_voice_says_the_perfect_as_the_plain_past_where_it_may() -> None:
    from engine.llm.offline.rephrase import perfect_to_past

    assert perfect_to_past("Helioterra has offered 1,240,000 euros") == (
        "Helioterra offered 1,240,000 euros"
    )
    assert perfect_to_past("Agnes has written a new will") == "Agnes wrote a new will"
    assert perfect_to_past("the nurse has been told twice") == "the nurse was told twice"
    assert perfect_to_past("we have already signed") == "we already signed"
    for unchanged in ("it has rained since Monday", "they have not paid", "the tank has water"):
        assert perfect_to_past(unchanged) == unchanged


def test_a_long_fact_is_never_eight_written_words_in_a_row_where_a_breath_fits() -> None:
    from engine.llm.offline.rephrase import _WORD, breathe

    written = "The old pump failed twice last winter at the north well by the gate."
    said = breathe(
        "the old pump failed twice last winter at the north well by the gate",
        written,
        Random(1),
        asides=("mind you",),
        take_ups=("that's",),
    )
    assert said == "the old pump failed twice last winter — that's at the north well by the gate"
    source = _WORD.findall(written.lower())
    words = _WORD.findall(said.lower())
    runs = {tuple(source[i : i + 8]) for i in range(len(source) - 7)}
    assert not any(tuple(words[i : i + 8]) in runs for i in range(len(words) - 7))
    # an infinitive or a time inside a time is not broken
    for kept in (
        "there was never enough money to pay the crew's wages for March",
        "the premium must be paid before midnight on April 15 to the insurer",
    ):
        assert breathe(kept, kept, Random(1), asides=(), take_ups=("that's",)) == kept


def test_clock_times_and_millions_are_said_as_people_say_them() -> None:
    assert gm.said_time(19, 10) == "ten past seven"
    assert gm.said_time(22, 30) == "half past ten"
    assert gm.said_time(6, 45) == "quarter to seven"
    assert gm.said_time(9, 7) == "nine oh seven"
    assert gm.said_time(0, 0) == "midnight" and gm.said_time(12, 0) == "noon"
    assert gm.spoken_millions("1,240,000 euros") == "1.24 million euros"
    assert gm.spoken_millions("3,000,000 francs", casual=True) == "three million francs"
    casual = gm.spoken_figures("dark from 19:10 to 22:30, 18,400 euros a year", casual=True)
    assert (
        casual
        == "dark from ten past seven to half past ten, eighteen thousand four hundred euros a year"
    )
    # a formal voice keeps the clock and the exact figure
    assert gm.spoken_figures("dark from 19:10, 18,400 euros") == "dark from 19:10, 18,400 euros"


def test_a_lead_tic_goes_after_a_short_lead_in_of_the_turn() -> None:
    out = vc.apply_tic(
        ["Leave that. What about the bottling line loan?"],
        ("Let's be realistic,",),
        Random(1),
        "",
        {"Henri"},
        force=True,
    )
    assert out == ["Leave that.", "Let's be realistic, what about the bottling line loan?"]
