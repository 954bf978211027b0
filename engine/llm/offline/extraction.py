"""Offline knowledge extraction (M19): semantic units from one turn, never single words.

Knowledge items the speaker drew on become facts for the listeners who did not hold them yet;
sentences that carry a decision, plan, agreement, opinion or pointed question become items of
that category, rewritten in the third person.
"""

from __future__ import annotations

import re
from functools import lru_cache
from random import Random

from ...model.knowledge import KnowledgeItem
from ...model.responses import DialogExtractionResponse, ExtractionResponse, TurnKnowledgeItem
from ..contexts import DialogExtractionContext, EntityBrief, ExtractionContext
from . import text as tx
from .library import ExtractionRule, dialog_bank, extraction_cues, talk_bank, verb_table
from .voice import skeleton as _skeleton


def _third_person(sentence: str, speaker: str, addressee: str) -> str:
    """What someone said, as reported about them: "I think you know more than you're
    saying" -> "Claude thinks Raymond knows more than Raymond is saying" (the verb agrees
    with the name that replaces "I" or "you"; the speaker's asides go)."""
    out = _asides().sub("", sentence)
    people = [("I", "[Mm]y", "[Mm]e", tx.first_name(speaker))]
    if addressee:
        people.append(("[Yy]ou", "[Yy]our", "", tx.first_name(addressee)))
    for subject, possessive, obj, name in people:
        for short, verb in _CONTRACTED:  # "I'm" -> "Claude is", "you've" -> "Raymond has"
            out = re.sub(rf"\b{subject}'{short}\b", f"{name} {verb}", out)
        out = re.sub(rf"\b{subject} ([a-z']+)", lambda m, n=name: f"{n} {_agrees(m.group(1))}", out)
        out = re.sub(rf"\b{subject}\b", name, out)
        out = re.sub(rf"\b{possessive}\b", f"{name}'s", out)
        if obj:
            out = re.sub(rf"\b{obj}\b", name, out)
    return tx.strip_end(re.sub(r"  +", " ", out))


_CONTRACTED = (("m", "is"), ("re", "is"), ("ve", "has"), ("ll", "will"), ("d", "would"))
_THIRD = {"am": "is", "are": "is", "have": "has", "do": "does", "don't": "doesn't",
          "were": "was", "haven't": "hasn't", "aren't": "isn't"}  # fmt: skip


_FIRST_PERSON = re.compile(r"\b(?:I|I'[a-z]+|[Mm]e|[Mm]y|[Mm]ine|[Mm]yself)\b")


def _as_reported(item: str, speaker: str) -> str:
    """What a listener learns of an item the speaker drew on: the item itself, or, where it is
    the speaker's own words ("…, whatever I do."), the same said about the speaker ("…,
    whatever Bastien does."), so that nobody later tells it as their own."""
    if not _FIRST_PERSON.search(item):
        return item
    return tx.upper_first(_third_person(item, speaker, "")) + "."


def _stock(sentence: str) -> bool:
    """A sentence made from one of the offline dialog's content-free lines (a recap, an
    anchor, an opening or closing, a link, a concession): it claims nothing to record."""
    low = tx.strip_end(sentence).lower()
    return any(pattern.fullmatch(low) for pattern in _stock_patterns())


@lru_cache(maxsize=1)
def _stock_patterns() -> tuple[re.Pattern[str], ...]:
    talk, bank = talk_bank(), dialog_bank()
    answer = talk.answer
    lines = [
        *talk.recap, *talk.inform["topic"], *talk.open, *talk.close, *talk.joke,
        *talk.change_subject, *talk.react, *talk.concede, *talk.agree, *talk.concur,
        *talk.deflect, *answer["again"], *answer["unknown"], *answer["own_source"],
        *answer["seen_source"], *bank.anchor,
        *(t for ts in (*talk.backchannel.values(), *talk.link.values()) for t in ts),
    ]  # fmt: skip
    out = []
    for line in lines:
        for piece in tx.sentences(line):
            literal = re.sub(r"\{\w+\}", "", piece)
            if len(literal.split()) < 2 or re.search(
                r"\{(?:[Ff]act|[Rr]est|[Kk]nowledge)\}", piece
            ):
                continue  # all slot, or it carries a fact
            parts = re.split(r"\{\w+\}", tx.strip_end(piece).lower())
            out.append(re.compile("(?:.+?)".join(re.escape(p) for p in parts)))
    return tuple(out)


@lru_cache(maxsize=1)
def _asides() -> re.Pattern[str]:
    """The asides a speaker breaks a fact with ("…, mind you, …"): not part of the claim."""
    said = sorted({a for kind in talk_bank().asides.values() for a in kind}, key=len, reverse=True)
    return re.compile(r", (?:" + "|".join(re.escape(a) for a in said) + r"),(?= )")


def _without_tics(sentence: str, tics: tuple[str, ...]) -> str:
    """A sentence without the speaker's verbal tics ("…, you'll see."): how it talks is not
    what it claims; a sentence that is only a tic, or one that only carries it ("Same as in
    '56."), is nothing."""
    for tic in tics:
        bare = tic.strip(" ,.:;!?—").lower()
        if not bare:
            continue
        found = re.search(rf"(?<!\w){re.escape(bare)}(?!\w)", sentence, re.IGNORECASE)
        if found is None:  # a whole-word match only: "mm" is not in "community"
            continue
        if len(tx.content_words(sentence[: found.start()] + sentence[found.end() :])) < 2:
            return ""
        pattern = rf"(?:,\s*)?(?<!\w){re.escape(bare)}(?!\w)[,:—]?\s*"
        sentence = re.sub(pattern, " ", sentence, count=1, flags=re.IGNORECASE)
        sentence = tx.upper_first(re.sub(r"\s+([,.!?])", r"\1", sentence).strip(" ,"))
    return sentence


def _agrees(verb: str) -> str:
    """The verb after "I" or "you" said after a name: "think" -> "thinks", "are" -> "is";
    a past, a modal or a word that is no verb stays."""
    low = verb.lower()
    if low in _THIRD:
        return _THIRD[low]
    if low not in verb_table()["base"] or low in _MODALS:
        return verb  # a past ("did", "watched"), a modal, or no verb at all
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


_MODALS = frozenset("will would can could shall should may might must".split())


@lru_cache(maxsize=1)
def _rules() -> tuple[tuple[ExtractionRule, tuple[str, ...]], ...]:
    return tuple(
        (rule, tuple(tx.expand(cue).lower() for cue in rule.cues))
        for rule in extraction_cues().rules
    )


@lru_cache(maxsize=1)
def _expectation_markers() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fixed words of the phrases that voice an expectation, from the dialog bank that
    speaks them: those that lead the item ("i'd wager", "mark my words") and those that follow
    it as the next sentence ("that is my guess, anyway")."""
    leading: list[str] = []
    trailing: list[str] = []
    from .library import talk_bank

    for template in (*dialog_bank().share["anticipated"], *talk_bank().inform["anticipated"]):
        marker = _skeleton(tx.expand(template))
        if len(marker) >= 6:
            (trailing if template.startswith("{Knowledge}.") else leading).append(marker)
    return tuple(leading), tuple(trailing)


def _voiced_as_expectation(content: str, reference: str) -> bool:
    """Whether the turn offered a knowledge item as an expectation rather than a fact (M15)."""
    leading, trailing = _expectation_markers()
    wanted = {w for w in tx.content_words(reference) if len(w) >= 4}
    said = [tx.expand(s).lower() for s in tx.sentences(content)]
    for i, low in enumerate(said):
        after = said[i + 1] if i + 1 < len(said) else ""
        if not (any(m in low for m in leading) or any(after.startswith(m) for m in trailing)):
            continue
        # The sentence carries the item when most of its words are there (the speaker may
        # have put names into the first or second person).
        if wanted and len(wanted & set(tx.content_words(low))) * 5 >= len(wanted) * 3:
            return True
    return False


def generate_extraction(
    ctx: ExtractionContext | DialogExtractionContext, rng: Random
) -> ExtractionResponse | DialogExtractionResponse:
    if isinstance(ctx, DialogExtractionContext):
        return _whole_dialog(ctx, rng)
    return _one_turn(ctx, rng)


def _whole_dialog(ctx: DialogExtractionContext, rng: Random) -> DialogExtractionResponse:
    """A whole dialog read turn by turn as a single turn is, each item naming its turn; a
    turn's listeners are everyone listening but its speaker."""
    items: list[TurnKnowledgeItem] = []
    for number, turn in enumerate(ctx.turns, start=1):
        speaker = next(
            (e for e in ctx.listeners if e.entity_id == turn.speaker_id),
            EntityBrief(entity_id=turn.speaker_id, name=turn.speaker_name, role=""),
        )
        one = ExtractionContext(
            scenario=ctx.scenario,
            timepoint_id=ctx.timepoint_id,
            turn=turn,
            speaker=speaker,
            speaker_tics=ctx.speaker_tics.get(turn.speaker_id, ()),
            listeners=tuple(e for e in ctx.listeners if e.entity_id != turn.speaker_id),
            known_by_listeners={
                k: v for k, v in ctx.known_by_listeners.items() if k != turn.speaker_id
            },
        )
        for item in _one_turn(one, rng).items:
            items.append(TurnKnowledgeItem(**item.model_dump(), turn=number))
    return DialogExtractionResponse(items=tuple(items))


def _one_turn(ctx: ExtractionContext, rng: Random) -> ExtractionResponse:
    turn = ctx.turn
    listener_ids = [e.entity_id for e in ctx.listeners]
    items: list[KnowledgeItem] = []
    seen: set[str] = set()

    def unaware(information: str) -> tuple[str, ...]:
        return tuple(
            lid for lid in listener_ids if information not in ctx.known_by_listeners.get(lid, ())
        )

    for ref in turn.knowledge_references:
        listeners = unaware(ref)
        if not listeners or ref in seen:
            continue
        seen.add(ref)
        if _voiced_as_expectation(turn.content, ref):
            # Listeners learn that the speaker expects it, not that it is so.
            clause = tx.lower_first(_third_person(ref, ctx.speaker.name, ""))
            items.append(
                KnowledgeItem(
                    content=f"{ctx.speaker.name} expects that {clause}",
                    speaker=ctx.speaker.entity_id,
                    listeners=listeners,
                    category="opinion",
                    confidence=round(0.5 + 0.2 * rng.random(), 3),
                    causal_relevance=round(0.3 + 0.3 * rng.random(), 3),
                    context=f"{ctx.speaker.name} said it as a guess at {ctx.timepoint_id}",
                )
            )
            continue
        items.append(
            KnowledgeItem(
                content=_as_reported(ref, ctx.speaker.name),
                speaker=ctx.speaker.entity_id,
                listeners=listeners,
                category="revelation" if len(listeners) == len(listener_ids) else "fact",
                confidence=round(0.85 + 0.1 * rng.random(), 3),
                causal_relevance=round(0.6 + 0.3 * rng.random(), 3),
                context=f"{ctx.speaker.name} shared it at {ctx.timepoint_id}",
            )
        )

    addressee = next(
        (e.name for e in ctx.listeners if e.entity_id == turn.addressed_to),
        ctx.listeners[0].name if ctx.listeners else "",
    )
    rules = _rules()
    claims = 0
    for sentence in tx.sentences(turn.content):
        sentence = _without_tics(sentence, ctx.speaker_tics)
        head, colon, tail = sentence.partition(": ")
        if colon and len(head.split()) <= 6:
            sentence = tx.upper_first(tail)  # a lead-in ("Let us be under no illusion:")
        low = tx.expand(sentence).lower()
        if claims >= 2 or len(sentence.split()) < 4 or sentence.endswith("?"):
            continue
        if len(tx.content_words(sentence)) < 3 or _stock(sentence):
            continue  # a stock line ("I will hold you to that.", "The tank hasn't changed.")
        if any(tx.topic(r).lower() in low for r in turn.knowledge_references):
            continue
        for rule, cues in rules:
            if not any(cue in low for cue in cues):
                continue
            clause = _third_person(sentence, ctx.speaker.name, addressee)
            # "Claude believes: Claude thinks Raymond knows …" names the stance twice
            first = re.escape(tx.first_name(ctx.speaker.name))
            clause = re.sub(rf"^{first} (?:thinks|believes|has decided)(?: that)?,? ", "", clause)
            content = rule.template.format(
                speaker=ctx.speaker.name,
                addressee=addressee or "the others",
                clause=clause,
                topic=tx.topic(sentence),
            )
            if content in seen:
                break
            seen.add(content)
            items.append(
                KnowledgeItem(
                    content=content,
                    speaker=ctx.speaker.entity_id,
                    listeners=tuple(listener_ids),
                    category=rule.category,
                    confidence=round(0.7 + 0.2 * rng.random(), 3),
                    causal_relevance=round(0.3 + 0.4 * rng.random(), 3),
                    context=f"said by {ctx.speaker.name} at {ctx.timepoint_id}",
                )
            )
            claims += 1
            break
    return ExtractionResponse(items=tuple(items))
