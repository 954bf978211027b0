"""Ranking knowledge items against a question (TF-IDF, cosine)."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from engine.knowledge.retrieval import _terms, rank, relevant

KNOWLEDGE = [
    "the harvest was poor this year",
    "Bastien keeps the unsigned letter in the desk drawer",
    "Mara signed the lease for berth 4 in the spring",
    "the council owes the cooper 18,400 crowns",
    "Owen distrusts the new harbour master",
    "a letter from the capital arrived for the council",
]


def test_ranks_the_item_about_the_question_first() -> None:
    ranked = rank("where is the unsigned letter?", KNOWLEDGE)
    indexes = [index for index, _ in ranked]
    assert indexes[0] == 1
    assert 5 in indexes  # shares "letter"
    assert 0 not in indexes  # the harvest has nothing in common with the question
    assert indexes.index(1) < indexes.index(5)
    assert all(0.0 < score <= 1.0 for _, score in ranked)
    assert [score for _, score in ranked] == sorted((score for _, score in ranked), reverse=True)


def test_rare_terms_outweigh_common_ones() -> None:
    items = ["the council met", "the council met again", "the council met the cooper"]
    assert rank("cooper council", items)[0][0] == 2


@pytest.mark.parametrize(
    ("question", "item"),
    [
        ("letters", "a letter"),
        ("who signed it?", "Mara will sign tomorrow"),
        ("signing", "she signed"),
        ("boxes", "a box of nails"),
        ("hoping", "they hoped for rain"),
        ("the ships", "shipped from berth 4"),
        ("quickly", "a quick reply"),
        ("Bastien's secret", "Bastien hid it"),
        ("18400 crowns owed", "the council owes 18,400"),
        ("MARA", "mara_quell was there"),
    ],
)
def test_forms_of_one_word_meet(question: str, item: str) -> None:
    assert relevant(question, ["nothing related here", item]) == [1]


def test_tokens() -> None:
    assert _terms("Bastien's letters, 18,400 crowns; don't stop") == [
        "bastien",
        "letter",
        "18400",
        "crown",
        "stop",
    ]
    assert _terms("1,234,567 and 12,34") == ["1234567", "12", "34"]
    assert _terms("the and of who is it") == []


@pytest.mark.parametrize(
    ("question", "items"),
    [
        ("", KNOWLEDGE),
        ("   ", KNOWLEDGE),
        ("who is it, and what was there?", KNOWLEDGE),  # only stop words
        ("where is the letter?", []),
        ("where is the letter?", ["", "the of and", "   "]),
        ("where is the letter?", ["the harvest was poor"]),
    ],
)
def test_nothing_to_rank(question: str, items: list[str]) -> None:
    assert rank(question, items) == []
    assert relevant(question, items) == []


def test_a_perfect_match_scores_one_and_stop_word_items_are_left_out() -> None:
    items = ["the of and", "the unsigned letter", ""]
    assert rank("the unsigned letter", items) == [(1, pytest.approx(1.0))]


def test_ties_go_to_the_lower_index_and_limit_cuts() -> None:
    items = ["a letter", "the harvest", "a letter", "letter", "the letter again"]
    ranked = rank("letter", items)
    assert [index for index, _ in ranked][:3] == [0, 2, 3]
    assert ranked[0][1] == ranked[1][1] == ranked[2][1]
    assert rank("letter", items, limit=2) == ranked[:2]
    assert relevant("letter", items, limit=1) == [0]
    assert rank("letter", items, limit=0) == []
    with pytest.raises(ValueError, match="limit"):
        rank("letter", items, limit=-1)


def test_deterministic_and_independent_of_order() -> None:
    question = "who owes the council crowns for the letter?"
    first = rank(question, KNOWLEDGE)
    assert rank(question, KNOWLEDGE) == first
    assert rank(question, tuple(KNOWLEDGE)) == first
    order = list(range(len(KNOWLEDGE)))
    random.Random(7).shuffle(order)
    shuffled = rank(question, [KNOWLEDGE[i] for i in order])
    assert {KNOWLEDGE[order[i]]: s for i, s in shuffled} == {KNOWLEDGE[i]: s for i, s in first}


def _reference(question: str, items: list[str]) -> dict[int, float]:
    """The same scores, the slow and obvious way."""
    docs = [Counter(_terms(text)) for text in [*items, question]]
    n = len(docs)
    vocabulary = set().union(*docs)
    idf = {t: math.log((1 + n) / (1 + sum(t in d for d in docs))) + 1 for t in vocabulary}
    vectors = [{t: c * idf[t] for t, c in d.items()} for d in docs]
    q = vectors[-1]
    out = {}
    for index, v in enumerate(vectors[:-1]):
        dot = sum(w * q.get(t, 0.0) for t, w in v.items())
        if dot > 0:
            norm = math.sqrt(sum(w * w for w in v.values())) * math.sqrt(
                sum(w * w for w in q.values())
            )
            out[index] = dot / norm
    return out


def _corpus(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = (
        "harvest ledger berth mill fire council vote grape wine cellar debt drawer desk "
        "barrel price crowns cooper harbour master lease spring rain storm road bridge"
    ).split()
    return [
        " ".join(rng.choice(words) for _ in range(rng.randint(4, 20))) + f" note {i}"
        for i in range(count)
    ]


def test_scores_match_the_formula() -> None:
    items = [*_corpus(60, seed=3), *KNOWLEDGE]
    question = "the cooper's unsigned letter about the harbour lease"
    expected = _reference(question, items)
    ranked = rank(question, items)
    assert {i for i, _ in ranked} == set(expected)
    for index, score in ranked:
        assert score == pytest.approx(expected[index], abs=1e-9)


def test_two_thousand_items() -> None:
    items = _corpus(2000, seed=11)
    items[1234] = "Bastien keeps the unsigned letter in the desk drawer"
    items[77] = "an unsigned letter was found"
    ranked = rank("where is the unsigned letter?", items)
    assert [index for index, _ in ranked] == [77, 1234]  # the only items with either word
    wide = rank("the cellar and the drawer", items, limit=25)
    assert len(wide) == 25
    assert wide == rank("the cellar and the drawer", items)[:25]
    assert all(
        "cellar" in items[i] or "drawer" in items[i] for i in relevant("cellar drawer", items)
    )
