"""Offline answers to queries: an entity says what it knew at that moment, in its own voice,
and says plainly when it knew nothing (information conservation, M4)."""

from __future__ import annotations

import re
from random import Random

from ...knowledge.retrieval import rank
from ...model.responses import QueryResponse
from ..contexts import CANDID, EntityQueryContext, KnowledgeRef
from . import grammar as gm
from . import realise as rz
from . import rephrase as rp
from . import spoken as sp
from . import text as tx
from .library import dialog_bank, talk_bank
from .telling import asides_for, breaths_of
from .voice import apply_tic as _apply_tic
from .voice import pick as _pick
from .voice import shape as _shape

TONES = {"known": "forthcoming", "unknown": "guarded"}


def relevant_knowledge(ctx: EntityQueryContext) -> list[KnowledgeRef]:
    """Knowledge items that bear on the question (TF-IDF over what the entity holds), most
    relevant first; none when nothing it holds does (then it says it does not know)."""
    texts = [f"{tx.humanize(ref.information)} {ref.source or ''}".strip() for ref in ctx.knowledge]
    return [ctx.knowledge[i] for i, _ in rank(ctx.question, texts)]


_OWN_LEAD = (
    (re.compile(r"^(?:He|She) has\b"), "I have"),
    (re.compile(r"^(?:He|She) was\b"), "I was"),
    (re.compile(r"^(?:He|She) is\b"), "I am"),
    (re.compile(r"^(?:His|Her) "), "My "),
    (re.compile(r"^(?:He|She) ([a-z]+s)\b"), None),
    (re.compile(r"^(?:He|She)\b"), "I"),
)


def own_words(text: str) -> str:
    """What the roster says about an entity ("He has been drinking…"), as the entity would say
    it ("I have been drinking…")."""
    for pattern, replacement in _OWN_LEAD:
        found = pattern.match(text)
        if found is None:
            continue
        if replacement is None:
            return f"I {tx.base_verb(found.group(1))}{text[found.end() :]}"
        return replacement + text[found.end() :]
    return text


def generate_answer(ctx: EntityQueryContext, rng: Random) -> QueryResponse:
    bank = dialog_bank()
    ban = ctx.voice.never_says
    used: set[str] = set()
    found = relevant_knowledge(ctx)[:2]
    speaker = (ctx.speaker.name, tx.first_name(ctx.speaker.name))
    parts: list[str] = []
    refs: list[str] = []
    guarded = False
    confessed = False
    proper = gm.proper_words(*(k.information for k in ctx.knowledge))
    talk = talk_bank()
    # said, not read out: the same breaths a turn takes
    formal = ctx.voice.formality == "formal"
    breaths = breaths_of(talk, formal=formal, asides=asides_for(talk, "own", formal=formal))
    for i, ref in enumerate(found):
        if ref.private and ctx.candour < CANDID:
            guarded = True  # its own secret, and it is not the candid kind: it deflects
            break
        own = ref.kind == "initial" or ref.private
        people = rz.People.of(ctx.speaker.name, None, ())
        gist, rest = sp.say_fact(
            own_words(ref.information) if own else ref.information,
            people,
            rng,
            own=own,
            casual=ctx.voice.formality == "casual",
        )
        gist = rp.breathe(gist, ref.information, rng, **breaths)
        clause = gm.lower_start(
            f"{gist}, and {gm.lower_start(rest, proper)}" if rest else gist, proper
        )
        slots = {
            "knowledge": clause,
            "Knowledge": tx.upper_first(clause),
            "source": tx.first_name(ref.source) if ref.source else "",
        }
        # An expectation the entity held (M15) is answered as a guess, never as a fact.
        if ref.kind == "anticipated":
            key = "expected"
        elif ref.private and not confessed:
            key = "confess"  # once: a second secret follows the first without a new preamble
            confessed = True
        else:
            key = "known" if i == 0 else "also"
        sentence = _pick(bank.answer[key], slots, rng, ban, used)
        if sentence:
            parts.append(_shape(sentence, ctx, 1000))  # type: ignore[arg-type]
            used.add(sentence)
            refs.append(ref.information)
            if ref.source and i == 0 and rng.random() < 0.5:
                told = _pick(bank.answer["source"], slots, rng, ban, used)
                if told:
                    parts.append(_shape(told, ctx, 40))  # type: ignore[arg-type]
    if guarded and not parts:
        sentence = _pick(bank.answer["guarded"], {}, rng, ban, used)
        parts.append(_shape(sentence or "That's my business.", ctx, 40))  # type: ignore[arg-type]
    elif not parts:
        slots = {"question_topic": tx.topic(ctx.question)}
        sentence = _pick(bank.answer["unknown"], slots, rng, ban, used)
        parts.append(_shape(sentence or "I didn't know that then.", ctx, 40))  # type: ignore[arg-type]
    parts = [tx.capitalize_sentences(p) for p in parts]
    parts = _apply_tic(parts, ctx.voice.verbal_tics, rng, "", {speaker[1]}, force=True)
    confidence = (sum(r.confidence for r in found) / len(found)) if found else 0.2
    tone = "guarded" if guarded and not refs else TONES["known" if refs else "unknown"]
    return QueryResponse(
        answer=" ".join(parts),
        knowledge_references=tuple(refs),
        emotional_tone=tone,
        confidence=round(min(1.0, confidence), 3),
    )
