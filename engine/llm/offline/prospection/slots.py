"""The slots an inner life's templates are filled with: who spoke, what the event and the most
telling turn were about, what this character said and what it kept back."""

from __future__ import annotations

import re
from random import Random

from ....model import clock
from ...contexts import ProspectionContext
from .. import text as tx
from ..extraction import _voiced_as_expectation
from ..library import inner_bank
from .reading import Reading, _news, _overlap, _quote, _turn_topic
from .topics import _names, _people, _subject, _topic, topic_kind

# How long a remembered piece of news may run, in words, before it is cut at a comma.
NEWS_WORDS = {"short": 14, "medium": 20, "long": 26}


def _mine(ctx: ProspectionContext, text: str) -> str:
    """A knowledge sentence from this character's point of view, as a clause."""
    clause = tx.lower_first(
        tx.strip_end(
            tx.shorten(
                tx.perspective(tx.humanize(text), _names(ctx), ()),
                NEWS_WORDS[ctx.voice.sentence_length],
            )
        )
    )
    first = clause.split(" ", 1)[0]
    if (
        first[:1].isupper()
        and first[1:].islower()
        and (first.lower() in tx.common_verbs() or first.endswith(("ing", "ed")))
    ):
        clause = clause[0].lower() + clause[1:]  # "Switching off the kitchen ..." mid-sentence
    if clause.startswith(("I ", "my ", "My ")):
        # "I have had a tight chest since 21:00, and his furosemide ...": the rest still speaks
        # of the holder in the third person, so the memory stops at the first clause.
        clause = re.split(r", (?:and |but )?(?:his|her|he|she) ", clause, maxsplit=1)[0]
    return clause


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _event_topic(ctx: ProspectionContext) -> str:
    """What is happening, as a noun phrase: the first topic of the event's sentences and clauses
    that is not a person ("Bethan will get worse" is no way to speak of it), else the bank's
    fallback."""
    people = _people(ctx)
    text = ctx.event_description
    parts = [text, *tx.sentences(text)]
    parts += [c for sentence in tx.sentences(text) for c in re.split(r"[,;:]\s*", sentence)[1:]]
    for part in parts:
        if len(part.split()) < 3:
            continue
        found = _subject(ctx, _topic(part))
        if found and topic_kind(found, people) != "person":
            return found
    return inner_bank().fallback_topic


def _slots(ctx: ProspectionContext, salient: Reading | None, rng: Random) -> dict[str, str]:
    me = ctx.entity.entity_id
    others: list[str] = []
    for t in ctx.turns:
        name = tx.first_name(t.speaker_name)
        if t.speaker_id != me and name not in others:
            others.append(name)
    event = tx.event_core(ctx.event_description, clock.phrases())
    event_topic = _event_topic(ctx)
    # What this character told them as fact (a hunch it voiced is not remembered as one).
    mine_ref = next(
        (
            r
            for t in ctx.turns
            if t.speaker_id == me
            for r in t.knowledge_references
            if not _voiced_as_expectation(t.content, r)
        ),
        "",
    )
    # Scenario knowledge speaks of its holder as "he" or "she"; in a first-person memory that
    # reads as someone else, so such an item is remembered by its topic only.
    own_words = "" if re.match(r"(?:He|She|His|Her|They|Their)\b", mine_ref) else mine_ref
    my_turns = [i for i, t in enumerate(ctx.turns) if t.speaker_id == me]
    my_topic = _subject(ctx, _topic(mine_ref)) if mine_ref else ""
    if not my_topic and my_turns:
        my_topic = _subject(ctx, _turn_topic(ctx.turns, my_turns[0]))
    slots = {
        "other": "",
        "others": _join(others),
        "topic": event_topic,
        "news": "",
        "line": "",
        "mine": _mine(ctx, own_words) if own_words else "",
        "my_topic": my_topic,
        "secret": _subject(ctx, _topic(ctx.withheld[0])) if ctx.withheld else "",
        "event": tx.lower_first(tx.strip_end(tx.perspective(event, _names(ctx), ()))),
        "event_topic": event_topic,
        "place": tx.short_place(ctx.scenario.location),
        "anchor": rng.choice(ctx.voice.specificity_anchors)
        if ctx.voice.specificity_anchors
        else "",
        "concern": next((c for c in (_subject(ctx, c.topic) for c in ctx.concerns) if c), ""),
        "expected": "",
        "horizon": ctx.horizon,
        "title": ctx.timepoint_title,
    }
    if salient is not None:
        t = salient.turn
        slots["other"] = tx.first_name(t.speaker_name)
        slots["topic"] = salient.topic or event_topic
        news = _news(t)
        if news:
            slots["news"] = _mine(ctx, news)
        slots["line"] = _quote(t)
        if salient.secret:
            slots["secret"] = salient.topic
    # The strongest earlier expectation that this dialog touched.
    said = " ".join(t.content for t in ctx.turns)
    for e in sorted(ctx.expectations, key=lambda e: -e.likelihood):
        head, comma, rest = e.about.partition(", ")
        # "Before long, the mains power will ..." is about the mains power.
        about = _subject(ctx, _topic(rest if comma and len(head.split()) <= 4 else e.about))
        if e.likelihood >= 0.5 and about and _overlap(about, said) >= 1:
            slots["expected"] = about
            break
    return slots
