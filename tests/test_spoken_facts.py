"""A fact said in the speaker's own words: the voice's words for the file's, a second action
joined, a vessel named by its name, dates as people say them, no break inside a subject, and
a hunch that has had its airing not told again."""

from __future__ import annotations

import re
from random import Random

from test_offline import context

from engine.llm.contexts import KnowledgeRef
from engine.llm.offline import realise as rz
from engine.llm.offline import spoken as sp
from engine.llm.offline import text as tx
from engine.llm.offline.dialog import generate_turn
from engine.llm.offline.library import talk_bank
from engine.llm.offline.rephrase import _WORD, breathe


def _recites(said: str, written: str) -> bool:
    source = _WORD.findall(written.lower())
    words = _WORD.findall(said.lower())
    runs = {tuple(source[i : i + 8]) for i in range(len(source) - 7)}
    return any(tuple(words[i : i + 8]) in runs for i in range(len(words) - 7))


def test_a_formal_voice_says_a_long_fact_in_its_own_words() -> None:
    written = "The old pump at the north well needs a new seal before the first frost"
    said = breathe(
        written, written, Random(3), asides=(), take_ups=(), words=talk_bank().reword["formal"]
    )
    assert said == "The old pump at the north well requires a new seal before the first frost"
    assert not _recites(said, written)
    # a casual voice has its own: "was due to" -> "was supposed to"
    late = "The schooner from Kilbrack was due to round the reef that night"
    casual = {**talk_bank().spoken, **talk_bank().reword["spoken"]}
    said = breathe(late, late, Random(1), asides=(), take_ups=(), words=casual)
    assert "was supposed to" in said and not _recites(said, late), said


def test_a_second_action_is_joined_and_a_vessel_named_by_its_name() -> None:
    written = "The ballast was taken out of the ferry in August and sold to the foundry"
    said = breathe(written, written, Random(1), asides=(), take_ups=())
    assert said == "The ballast was taken out of the ferry in August, then sold to the foundry"
    keeps = "The old harbour master keeps the only key and opens the gate at dawn each day"
    said = breathe(keeps, keeps, Random(1), asides=(), take_ups=())
    assert "the only key and also opens the gate" in said, said
    aboard = "Nobody aboard the freighter Halvard saw the cranes come down the ramp"
    said = breathe(aboard, aboard, Random(1), asides=(), take_ups=())
    assert said == "Nobody aboard the Halvard saw the cranes come down the ramp"
    # a titled person, a possessive and a noun after the name are left alone
    for kept in (
        "the nurse on duty said the consultant Dr Hollins is snowed in at home tonight",
        "the manager of the cider house Tolbeck's stores will take it all at once",
    ):
        assert "the Hollins" not in breathe(kept, kept, Random(1), asides=(), take_ups=())
        assert breathe(kept, kept, Random(1), asides=(), take_ups=()).count("Tolbeck") <= 1


def test_a_break_never_goes_inside_a_subject_or_a_fixed_phrase() -> None:
    marks = "The scorch marks on the back wall of rack C were painted over on March 4"
    said = breathe(marks, marks, Random(1), asides=(), take_ups=("that's",))
    assert "marks — that's on" not in said, said
    tally = "Board inspectors read the lamp log and the oil tally side by side every quarter"
    for seed in range(8):
        rng = Random(seed)
        assert "side — " not in breathe(tally, tally, rng, asides=(), take_ups=("that's",))
        assert "side — " not in sp._break_long(tally, Random(seed))


def test_a_time_keeps_the_word_it_belongs_to() -> None:
    fact = "the cranes are lashed on the deck of the Halvard, due at Port Vasse next Friday"
    for seed in range(12):
        assert not sp._front_time(fact, Random(seed)).endswith(", due"), seed


def test_an_adverb_stays_with_its_verb_when_the_subject_is_taken_up() -> None:
    said = sp._dislocate("The consortium never sent the K-19 recall through official channels")
    assert said == "The consortium — it never sent the K-19 recall through official channels"


def test_a_topic_stops_at_an_irregular_past_or_a_verb_before_a_figure() -> None:
    assert tx.topic("The transfer pump fuse blew at 03:40 for the third time") == (
        "the transfer pump fuse"
    )
    assert "lists" not in tx.topic("the manifest for shuttle run 212 lists 480 oxygen candles")
    # a possessive before a figure is not a verb
    assert tx.topic("we look at Walter Ashby's 22:00 round together") == (
        "Walter Ashby's 22:00 round"
    )


def test_a_hunch_that_has_had_its_airing_is_not_told_again() -> None:
    hunch = KnowledgeRef(
        information="Before long, the harbour board will close the north quay for good.",
        kind="anticipated",
        timepoint_id="tp01",
    )
    news = KnowledgeRef(
        information="The pilots have stopped guiding ships in since noon.",
        kind="told",
        source="a harbour pilot",
        timepoint_id="tp03",
    )
    for knowledge, told in (((hunch,), True), ((news, hunch), False)):
        said = [
            generate_turn(context(knowledge=knowledge), Random(seed)).content for seed in range(40)
        ]
        recited = any("close the north quay for good" in s for s in said)
        assert recited is told, (knowledge, said[:5])


def test_a_figure_under_ten_thousand_is_said_in_hundreds() -> None:
    from engine.llm.offline import grammar as gm

    assert gm.spoken_figures("sold for 1,150 marks") == "sold for eleven hundred and fifty marks"
    assert gm.spoken_figures("2,400 tonnes") == "twenty-four hundred tonnes"
    # a round thousand, a year and an odd figure are not
    assert gm.spoken_figures("3,000 people in 1991 paid 1,234") == (
        "three thousand people in 1991 paid 1,234"
    )


def test_a_long_subject_is_said_first_and_taken_up() -> None:
    locker = "The lifebelt locker on the upper deck was padlocked that night"
    assert breathe(locker, locker, Random(1), asides=(), take_ups=()) == (
        "The lifebelt locker on the upper deck — it was padlocked that night"
    )
    haulers = "Three ice haulers on the Tycho run are scheduled to refuel at Halden Ring"
    assert "Tycho run — they are scheduled" in breathe(
        haulers, haulers, Random(1), asides=(), take_ups=()
    )
    # a clause or a list inside the subject: left as it is
    for kept in (
        "The men in the boat who rowed all night are tired and cold and wet",
        "The oil in the tank and the spare drums were gone before the storm broke",
    ):
        assert " — " not in breathe(kept, kept, Random(1), asides=(), take_ups=())


def test_the_last_thing_of_a_list_is_joined_in_the_voices_way() -> None:
    gift = "It leaves Teodor the cottage by the lower gate and the use of the north slope for life"
    said = breathe(gift, gift, Random(1), asides=(), take_ups=(), joins=("plus",))
    assert "the lower gate, plus the use of the north slope" in said, said
    # two clauses, a pair after "between" and things "side by side" are not a list
    for kept in (
        "The pump jammed at the lower gate and the log entry for that night is false again",
        "The boundary runs between the old lower gate and the north slope above the river",
        "Board inspectors read the lamp log and the oil tally side by side every quarter",
    ):
        assert "plus" not in breathe(kept, kept, Random(1), asides=(), take_ups=(), joins=("plus",))


def test_an_amount_is_hedged_in_the_voices_way_only_before_a_figure() -> None:
    casual = {**talk_bank().spoken, **talk_bank().reword["spoken"]}
    tank = "the generator day tank has about seven hours of diesel at full load"
    assert "around seven hours" in breathe(
        tank, tank, Random(1), asides=(), take_ups=(), words=casual
    )
    year = "the first real doubts about 1790 Compromise Dinner reach me after the talk"
    assert "about 1790" in breathe(year, year, Random(1), asides=(), take_ups=(), words=casual)
    talk = "we will talk about the tank and about the new pumps in the shed by the gate"
    assert "around" not in breathe(talk, talk, Random(1), asides=(), take_ups=(), words=casual)


def test_a_take_up_never_makes_a_second_clause_part_of_a_time() -> None:
    people = rz.People.of("Odile Marchetti", "Claude Aubusson", ())
    fact = (
        "The lapsed frost policy can be reinstated retroactively if the premium is paid "
        "before midnight on April 15 and an assessor inspects within 72 hours."
    )
    for seed in range(8):
        gist, _ = sp.say_fact(fact, people, Random(seed), own=False, casual=True)
        assert not re.search(r"— (?:and )?that's on April 15 and an assessor", gist), gist
        assert "ran out frost" not in gist, gist  # "the lapsed policy" stays an adjective
    degrees = "Wind machines raise the temperature in a vineyard by two to three degrees."
    for seed in range(8):
        gist, _ = sp.say_fact(degrees, people, Random(seed), own=False, casual=False)
        assert "two to three degrees" in gist, gist


def test_with_only_an_animal_to_hear_the_speaker_thinks_aloud() -> None:
    from engine.llm.contexts import EntityBrief, RelationBrief, TurnBrief

    heron = EntityBrief(entity_id="heron", name="Grey-Leg", role="Heron", entity_type="animal")
    watched = TurnBrief(
        turn_index=0,
        speaker_id="heron",
        speaker_name="Grey-Leg",
        content="Grey-Leg goes still and watches Mara.",
    )
    alone = context(
        listeners=(RelationBrief(entity=heron, trust=-0.4, alignment=-0.5),),
        previous_turns=(watched,),
    )
    turns = [generate_turn(alone, Random(seed)) for seed in range(30)]
    assert {t.act for t in turns} <= {"inform", "close"}, {t.act for t in turns}
    # and a fact someone told is attributed once, not hedged again inside ("I'm told two
    # cranes are, so they say, at sea")
    for t in turns:
        hedges = sum(t.content.count(h) for h in ("I'm told", "so they say", "or so I hear"))
        assert hedges <= 1, t.content
    # with a person there too, the same speaker argues and asks again
    owen = EntityBrief(entity_id="owen", name="Owen Bright", role="Terminal manager")
    company = context(
        listeners=(
            RelationBrief(entity=heron, trust=-0.4, alignment=-0.5),
            RelationBrief(entity=owen, trust=-0.4, alignment=-0.5),
        ),
    )
    acts = {generate_turn(company, Random(seed)).act for seed in range(30)}
    assert acts - {"inform", "close"}, acts


def test_a_memory_names_a_thing_not_a_cut_off_sentence() -> None:
    from engine.llm.offline.prospection.topics import _topic

    # "I made myself talk about You know why I asked you here, and I mea" was a memory
    assert _topic("You know why I asked you here, and I mean that.") == ""
    assert _topic("Sit down, please.") == ""
    assert _topic("The cranes arrive on Friday.") == "the cranes"


def test_what_someone_said_is_reported_with_its_verbs_agreeing() -> None:
    from engine.llm.offline.extraction import _third_person

    said = _third_person("I think you know more than you're saying.", "Claude Aubusson", "Raymond")
    assert said == "Claude thinks Raymond knows more than Raymond is saying"
    said = _third_person(
        "You were there and you did nothing, I am sure.", "Odile Marchetti", "Bastien"
    )
    assert said == "Bastien was there and Bastien did nothing, Odile is sure"
    # the speaker's aside is not part of the claim
    assert _third_person("The tank is, mind you, nearly empty.", "Odile", "Bastien") == (
        "The tank is nearly empty"
    )


def test_a_stock_line_is_not_recorded_as_a_claim() -> None:
    from engine.llm.offline.extraction import _stock

    assert _stock("The cooperative's current account hasn't changed.")  # a recap
    assert _stock("For me, it's tank 7.")  # an anchor line
    assert not _stock("The cranes are already paid for and lashed on the deck.")
    assert not _stock("We wait on the premium until the morning.")  # a proposal is a claim


def test_a_reported_opinion_names_its_stance_once() -> None:
    from test_offline import SCENARIO

    from engine.llm.contexts import EntityBrief, ExtractionContext, TurnBrief
    from engine.llm.offline.extraction import generate_extraction

    claude = EntityBrief(entity_id="claude", name="Claude Aubusson", role="Grower")
    raymond = EntityBrief(entity_id="raymond", name="Raymond Guerche", role="Grower")
    turn = TurnBrief(
        turn_index=1,
        speaker_id="claude",
        speaker_name="Claude Aubusson",
        content="I think you know more about the frost policy than you are saying.",
        addressed_to="raymond",
    )
    ctx = ExtractionContext(
        scenario=SCENARIO, timepoint_id="tp01", turn=turn, speaker=claude, listeners=(raymond,)
    )
    items = [i.content for i in generate_extraction(ctx, Random(1)).items]
    assert (
        "Claude Aubusson believes: Raymond knows more about the frost policy than Raymond is saying"
        in items
    ), items
    # the speaker's tics are how it talks, not part of what it claims
    tics = ("in my father's day", "you'll see")
    said = turn.model_copy(
        update={"content": "I think you know more about the frost policy, you'll see."}
    )
    ctx = ctx.model_copy(update={"turn": said, "speaker_tics": tics})
    items = [i.content for i in generate_extraction(ctx, Random(1)).items]
    assert items and not any("see" in i for i in items), items
    recall = said.model_copy(update={"content": "Same as in my father's day."})
    ctx = ctx.model_copy(update={"turn": recall})
    assert not generate_extraction(ctx, Random(1)).items
    # a tic is a whole word: "mm" is not taken out of "community"
    from engine.llm.offline.extraction import _without_tics

    assert _without_tics("The community fund is empty.", ("Mm.",)) == "The community fund is empty."
    assert _without_tics("Mm.", ("Mm.",)) == ""


def test_a_topic_is_the_subject_a_sentence_is_about() -> None:
    fact = "The Seeschwalbe capsized at 21:40 on 3 November, some 400 metres short of the landing."
    assert tx.topic(fact) == "the Seeschwalbe"  # not "the 400 metres"; a ferry keeps its "the"
    assert tx.topic("The cooperative's reserve fund holds 212,000 francs") == (
        "the cooperative's reserve fund"
    )
    # a person who does something is not what the sentence is about
    assert "Marguerite" not in tx.topic("Marguerite opens an emergency meeting in the co-op hall")


def test_a_thing_of_something_is_said_with_its_owner_first() -> None:
    from engine.llm.offline.possessive import swap_at

    def swapped(text: str) -> str:
        tokens = text.split()
        for p in range(len(tokens)):
            found = swap_at(tokens, p)
            if found is not None:
                span, phrase = found
                return " ".join([*tokens[:p], *phrase, *tokens[p + span :]])
        return text

    assert swapped("The scorch marks on the back wall of rack C were painted over") == (
        "The scorch marks on rack C's back wall were painted over"
    )
    assert swapped("a frost on the Chardonnay of the lower parcels — it would") == (
        "a frost on the lower parcels' Chardonnay — it would"
    )
    assert swapped("the reserve fund of the cooperative holds 212,000 francs") == (
        "the cooperative's reserve fund holds 212,000 francs"
    )
    for kept in (
        "it would cost a third of the 1994 white",  # a share
        "before the end of the rice harvest",  # a place along a thing
        "the manifest of shuttle run 212 records",  # the owner goes on
        "the minutes of it",
    ):
        assert swapped(kept) == kept


def test_a_verb_agrees_across_an_aside_and_a_month_is_not_a_subject() -> None:
    from engine.llm.offline import tense

    people = rz.People.of("Bastien Ferrol", "Marguerite Solane", ["Nadia Benhamou"], "")
    said = rz.point_of_view("Bastien, out with a thermos, admits the fund is empty.", people)
    assert said == "I, out with a thermos, admit the fund is empty."
    told = tense.past_tense("someone guarantees the March wages and the account holds little")
    assert "March wages" in told and "holds" not in told, told
