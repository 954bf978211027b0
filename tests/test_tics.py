"""Verbal tics where they fit the sentence: a tic that recalls a time is said in a sentence of
its own, a tic that is a sentence is said as one, an amount's hedge only after an amount, a
question's lead only before a question, and none glued to a fragment."""

from __future__ import annotations

from random import Random

import pytest
from conftest import TEMPLATES, run_scenario

from engine.llm.offline import voice as vc
from engine.llm.offline.library import talk_bank
from engine.llm.offline.rephrase import breathe
from engine.model import events as ev

FACT = "The cooperative's frost insurance ran out on March second."


def _tic(sentences: list[str], tic: str, seed: int = 1) -> list[str]:
    return vc.apply_tic(sentences, (tic,), Random(seed), "", {"Claude"}, force=True)


@pytest.mark.parametrize("tic", ["in '56", "in my father's day", "in the old days"])
def test_a_tic_that_recalls_a_time_is_never_glued_to_a_fact(tic) -> None:
    for seed in range(8):
        out = _tic([FACT], tic, seed)
        assert out[0] == FACT, out  # the fact is not dated by the tic
        recalls = {
            line.replace("{Tic}", tic[:1].upper() + tic[1:]).replace("{tic}", tic)
            for line in talk_bank().tics.recall
        }
        assert out[1] in recalls and len(out) == 2, out


def test_a_tic_that_is_a_sentence_is_said_as_one() -> None:
    assert _tic([FACT], "I did telephone") == [FACT, "I did telephone."]
    assert _tic([FACT], "we've been here before") == [FACT, "We've been here before."]
    assert _tic([FACT], "the lake doesn't ask") == [FACT, "The lake doesn't ask."]
    # a short order is said first: it answers what came before
    assert _tic([FACT], "copy that") == [f"Copy that. {FACT}"]
    # a tic that reports or comments may still follow the statement
    assert _tic([FACT], "you'll see") == [FACT.removesuffix(".") + ", you'll see."]


def test_an_amounts_hedge_follows_only_an_amount() -> None:
    assert _tic(["Marguerite told me about the insurance."], "give or take") == [
        "Marguerite told me about the insurance."
    ]
    assert _tic(["The account holds 31,000 francs."], "give or take") == [
        "The account holds 31,000 francs, give or take."
    ]


def test_a_leading_tic_goes_only_where_its_kind_fits() -> None:
    question = "When did you hear of the loan?"
    assert _tic([question], "I must ask") == [f"I must ask, w{question[1:]}"]
    assert _tic([FACT], "I must ask") == [FACT]
    assert _tic(["I say we vote tonight."], "as your mayor") == [
        "As your mayor, I say we vote tonight."
    ]
    assert _tic([FACT], "as your mayor") == [FACT]
    assert _tic([FACT], "here's the thing") == [
        "Here's the thing: the cooperative's frost insurance ran out on March second."
    ]
    # "A frost …" after a lead is lowered like any other word
    assert _tic(["A frost at budburst would ruin the white."], "For what it's worth,") == [
        "For what it's worth, a frost at budburst would ruin the white."
    ]


def test_an_assent_is_said_alone_and_a_saying_leads_a_statement() -> None:
    assert _tic(["Were you told about the gangway?"], "quite so") == [
        "Quite so. Were you told about the gangway?"
    ]
    assert _tic([FACT], "my late husband always said") == [
        "My late husband always said: the cooperative's frost insurance ran out on March second."
    ]
    assert _tic(["You know why I asked you here."], "my late husband always said") == [
        "You know why I asked you here."
    ]


def test_a_sentence_said_to_someone_by_name_takes_no_address_tail() -> None:
    assert _tic(["You're right, Claude."], "sir") == ["You're right, Claude."]
    assert _tic(["You're right about the fund."], "sir") == ["You're right about the fund, sir."]
    # a tail that is not an address still goes after the name
    assert _tic(["You're right, Claude."], "between ourselves") == [
        "You're right, Claude, between ourselves."
    ]


def test_a_follow_up_question_takes_no_lead() -> None:
    for lead in ("I think", "Okay, okay,", "Look,"):
        assert _tic(["And the nine patients tonight?"], lead) == ["And the nine patients tonight?"]


def test_a_fragment_or_a_lead_in_takes_no_tail() -> None:
    for fragment in ("About the frost insurance, Claude.", "Hold on, Claude."):
        assert _tic([fragment], "you'll see") == [fragment]
        assert _tic([fragment], "in '56") == [fragment]


def test_the_tics_of_every_bundled_voice_have_a_kind() -> None:
    import json

    kinds = {}
    for path in TEMPLATES.glob("*.json"):
        for entity in json.loads(path.read_text())["entities"]:
            for tic in (entity.get("voice") or {}).get("verbal_tics", []):
                kinds[tic] = vc.tic_kind(tic)
    assert kinds["in '56"] == kinds["in my father's day"] == "recall"
    assert kinds["I did telephone"] == kinds["let us not be hasty"] == "remark"
    assert kinds["as your mayor"] == "role" and kinds["you'll see"] == "tail"
    assert {"lead", "tail", "tag", "interjection", "remark", "recall"} <= set(kinds.values())


def test_a_fixed_phrase_before_a_figure_is_said_as_written() -> None:
    written = "The Halden Ring drill log covers no more than sixteen oxygen candles used in March"
    said = breathe(
        written, written, Random(3), asides=(), take_ups=(), words=talk_bank().reword["formal"]
    )
    assert "no more than" in said and "no in excess of" not in said, said


async def test_an_animal_does_not_do_the_same_thing_twice_in_a_run(store) -> None:
    _summary, events = await run_scenario(str(TEMPLATES / "river_spirit.json"), store, seed=3)
    heron = [
        e.turn.content
        for e in events
        if isinstance(e, ev.DialogTurnFinished) and e.turn.speaker == "grey_leg"
    ]
    assert len(heron) >= 4
    assert len(set(heron)) == len(heron), heron


def test_a_remark_with_nothing_stated_goes_before_the_question() -> None:
    assert _tic(["Odile. The insurance. Did you know?"], "I did telephone") == [
        "Odile. The insurance. I did telephone. Did you know?"
    ]
    # a lead that takes a clause takes it without a comma
    assert _tic(["Claude has a point."], "Let's suppose") == ["Let's suppose Claude has a point."]


def test_a_line_heard_in_the_other_register_counts_as_heard() -> None:
    said = "harold: i have had enough of your games."
    options = ("I've had enough of your games.", "That will do.")
    for seed in range(6):
        assert vc.pick(options, {}, Random(seed), said=said) == "That will do."


async def test_a_formal_voice_takes_its_own_asides(store) -> None:
    import json

    data = json.loads((TEMPLATES / "vintners_council.json").read_text())
    formal = {e["id"] for e in data["entities"] if e["voice"].get("formality") == "formal"}
    assert formal
    said: dict[bool, str] = {True: "", False: ""}
    for seed in (1, 2):
        _summary, events = await run_scenario("vintners_council", store, seed=seed)
        for e in events:
            if isinstance(e, ev.DialogTurnFinished):
                said[e.turn.speaker in formal] += " " + e.turn.content
    own, formal_own = talk_bank().asides["own"], talk_bank().asides["own formal"]
    assert any(f", {a}," in said[True] for a in formal_own)
    assert not any(f", {a}," in said[True] for a in ("mind you", "believe me"))
    assert any(f", {a}," in said[False] for a in own)
