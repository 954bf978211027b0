"""Offline dialog turns (M11), composed in dialog acts.

Each turn first decides what it does (``acts``: answer the question put to the speaker, agree
to or refuse a proposal, meet a challenge or concede it, react to a secret just told, or,
with nothing pending, tell, ask, challenge, propose, joke…), then says it: sentences from the
act's phrase bank (``engine/data/offline/talk.json``) filled with the conversation's topic and
with facts said from the speaker's point of view (``realise``), then shaped to the voice
(register, length, a tic where it fits, the mood). A secret stays unsaid until the act is a
reveal; a fact someone already told is not told again.
"""

from __future__ import annotations

import re
from random import Random

from ...agents.steering import speaking_mode
from ...model.responses import DialogTurnResponse
from ..contexts import DialogTurnContext, KnowledgeRef, RelationBrief
from . import acts
from . import grammar as gm
from . import realise as rz
from . import text as tx
from . import voice as vc
from .library import TalkBank, dialog_bank, talk_bank
from .turn import Turn, stale_hunch

SENTENCES = {"short": 2, "medium": 3, "long": 4}
MAX_WORDS = {"short": 11, "medium": 19, "long": 30}


def choose_knowledge(ctx: DialogTurnContext, rng: Random) -> KnowledgeRef | None:
    """The knowledge item this turn would tell: relevant to the moment, not yet said in the
    conversation, not a secret of the speaker's, and not something the person addressed told
    the speaker in the first place."""
    addressee = next(
        (r.entity.name for r in ctx.listeners if r.entity.entity_id == (ctx.addressed_to or "")),
        None,
    )
    said = (" ".join(t.content for t in ctx.previous_turns)).lower()
    used = {r for t in ctx.previous_turns for r in t.knowledge_references}
    # turns composed alongside this one (a parallel round) are not seen yet: what everyone
    # holds is likely being said in one of them, so this turn prefers what only it knows
    last = ctx.previous_turns[-1].turn_index if ctx.previous_turns else -1
    in_flight = ctx.turn_index - last - 1
    listeners = {n for r in ctx.listeners for n in (r.entity.name, tx.first_name(r.entity.name))}
    focus = set(tx.content_words(ctx.event_description))
    if ctx.previous_turns:
        focus |= set(tx.content_words(ctx.previous_turns[-1].content))
    scored: list[tuple[float, int, KnowledgeRef]] = []
    for i, ref in enumerate(ctx.knowledge):
        if ref.information in used or acts.is_secret(ref, ctx.speaker.name):
            continue
        words = set(tx.content_words(tx.humanize(ref.information)))
        score = min(3, len(words & focus)) * 0.6 + rng.random() * 0.8
        if tx.topic(ref.information).lower() in said:
            score -= 1.5
        if ref.kind in ("told", "learned"):
            score += 0.6  # fresh information is what people talk about
        elif ref.kind == "witnessed":
            score -= 3.0  # scenes people saw together are rarely worth retelling
            if any(tx.contains_phrase(ref.information, n) for n in listeners):
                score -= 3.0  # least of all to someone who was in the scene
        elif ref.kind == "anticipated":
            score -= 1.5  # a hunch is voiced now and then; facts come first
            if len(words) < 3:
                score -= 2.5  # a hunch about nothing in particular ("where all this is going")
            if stale_hunch(ref, ctx):
                score -= 3.0  # older than the newest thing it heard: voiced, or overtaken
        if ref.category in ("opinion", "agreement", "question", "plan", "decision"):
            score -= 2.5  # hearsay about someone's stance is weaker than a fact
        if ref.kind == "initial" and not ref.private:
            score -= 2.5  # others hold it already: it has been said, or was common ground
        if ref.kind == "learned" and not ref.private:
            score -= 1.5  # everyone here learned it too: one of them brings it up
        if ref.kind == "told" and ref.timepoint_id not in (None, ctx.timepoint_id):
            score -= 2.5  # heard in an earlier conversation, where it was talked over
        if in_flight > 0 and not ref.private:
            score -= 2.0
        if addressee is not None and ref.source == addressee:
            score -= 6.0  # nobody tells people what they were just told by them
        scored.append((score, -i, ref))
    if not scored:
        return None
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    best = scored[0]
    return best[2] if best[0] > -4.0 else None


def _relation(ctx: DialogTurnContext, target: str | None) -> RelationBrief | None:
    found = (
        next((r for r in ctx.listeners if r.entity.entity_id == target), None) if target else None
    )
    return found or (ctx.listeners[0] if ctx.listeners else None)


def _nonspeech(
    ctx: DialogTurnContext, rng: Random, knowledge: KnowledgeRef | None
) -> DialogTurnResponse:
    bank = dialog_bank()
    relation = _relation(ctx, ctx.addressed_to)
    others = [r for r in ctx.listeners if relation is None or r is not relation]
    listener = rng.choice(others) if others else relation
    slots = {
        "name": ctx.speaker.name,
        "addressee": tx.first_name(relation.entity.name) if relation else "",
        "listener": tx.first_name(listener.entity.name) if listener else "",
        "hook": tx.topic(ctx.event_description),
        "knowledge": tx.lower_first(tx.strip_end(knowledge.information)) if knowledge else "",
    }
    options = getattr(bank, ctx.speaking_mode)
    # what it did in this conversation and the last ones is not done again word for word
    seen = " ".join((*(t.content for t in ctx.previous_turns), *ctx.prior_beats)).lower()
    sentence = vc.pick(options, slots, rng, said=seen) or f"{ctx.speaker.name} is present."
    refs = (knowledge.information,) if knowledge is not None and "{knowledge}" in sentence else ()
    return DialogTurnResponse(
        content=sentence,
        emotional_tone="uncanny" if ctx.speaking_mode == "collective" else "watchful",
        knowledge_references=refs,
        stance="informs",
        addressed_to=ctx.addressed_to,
    )


def generate_turn(ctx: DialogTurnContext, rng: Random) -> DialogTurnResponse:
    knowledge = choose_knowledge(ctx, rng)
    if ctx.speaking_mode != "speech":
        return _nonspeech(ctx, rng, knowledge)
    talk = talk_bank()
    floor = acts.Floor.of(ctx)
    target = ctx.addressed_to or (floor.last.speaker_id if floor.last else None)
    relation = _relation(ctx, target)
    mood = vc.moods(ctx, relation)
    choice = acts.choose(ctx, floor, relation, mood, knowledge, rng)
    if choice.replying_to is not None and choice.replying_to.speaker_id != ctx.speaker.entity_id:
        relation = _relation(ctx, choice.replying_to.speaker_id)
        mood = vc.moods(ctx, relation)
    asking = choice.act in ("ask", "accuse", "propose")
    if asking and relation is not None and speaking_mode(relation.entity.entity_type) != "speech":
        # questions go to someone who can answer
        relation = next(
            (r for r in ctx.listeners if speaking_mode(r.entity.entity_type) == "speech"), relation
        )
    turn = Turn(ctx, talk, choice, relation, rng)
    turn.compose()
    choice = turn.choice  # an answer with nothing to say becomes an evasion
    relation = turn.relation  # a question goes to whoever said what it asks about
    sentences = _voiced(ctx, turn, mood, rng)
    content = " ".join(sentences).strip()
    content = re.sub(r",?\s+(?:and|but|or)?\s*([.!?])", r"\1", content)  # "flat, and."
    content = re.sub(r",\s*([.!?])", r"\1", content) or "I need a moment."
    if relation is not None:
        content = gm.one_vocative(content, tx.first_name(relation.entity.name))
    if gm.says_own_name(content, turn.people.speaker):
        content = rz.point_of_view(content, rz.People(turn.people.speaker))
    physical = ""
    bank = dialog_bank()
    for condition in ("pain", "exhausted", "agitated"):
        if condition in mood and bank.physical.get(condition):
            physical = rng.choice(bank.physical[condition])
            break
    return DialogTurnResponse(
        content=content,
        emotional_tone=_tone(talk, choice.act, mood),
        knowledge_references=tuple(dict.fromkeys(turn.refs)),
        stance=choice.stance,  # type: ignore[arg-type]
        act=choice.act,  # type: ignore[arg-type]
        addressed_to=relation.entity.entity_id if relation else None,
        physical_state_influence=physical,
    )


_HEDGE = re.compile(r"^(?:I think|I suppose|I suspect|I'd say|Perhaps|Maybe),? (?=\w)")


def _voiced(ctx: DialogTurnContext, turn: Turn, mood: list[str], rng: Random) -> list[str]:
    """The turn's sentences in the speaker's voice: a line of their own on their first turn
    of the day sometimes, a mood interjection, as many sentences as they use, a tic."""
    bank = dialog_bank()
    extra = list(turn.extra)
    # a line of the speaker's own, when it is short: a long one said again is the file recited
    examples = [
        e
        for e in ctx.voice.speech_examples
        if e[:24].lower() not in turn.said and len(e.split()) < 8
    ]
    if examples and ctx.speaker_turn_number == 0 and not ctx.prior_beats and rng.random() < 0.25:
        extra.append(rng.choice(examples))
    elif (
        ctx.voice.specificity_anchors
        and rng.random() < 0.25
        # not about what the turn has just named ("So. The interpreter. Remember the …")
        and turn.slots["anchor"].lower().split()[-1] not in " ".join(turn.core).lower()
    ):
        # a window of the bank that moves with the timepoint and the speaker, so that one
        # person's lines about what matters to them differ from one conversation to the next
        window = turn.rotated(bank.anchor, ctx.speaker.entity_id)[:3]
        turn.say(window, False, anchor=turn.slots["anchor"])
        extra = list(turn.extra)
    if mood and rng.random() < 0.5:
        line = vc.pick(
            bank.mood.get(mood[0], ()), {}, rng, ctx.voice.never_says, turn.used, turn.said
        )
        if line:
            extra.append(line)
    limit = SENTENCES[ctx.voice.sentence_length] + (ctx.style.verbosity == "verbose")
    if "exhausted" in mood or "pain" in mood:
        limit -= 1
    max_words = MAX_WORDS[ctx.voice.sentence_length]
    if "agitated" in mood:
        max_words = min(max_words, 10)
    room = max(0, limit - len(turn.core))
    keep = set(ctx.voice.speech_examples)
    # an agitated speaker clips even the act's own sentences, bar the facts they carry
    clipped = max_words if "agitated" in mood else 1000
    out = [
        s if s in keep else vc.shape(s, ctx, 1000 if s in turn.facts else clipped)
        for s in turn.core
    ]
    if "agitated" in mood:  # blunt: no hedge, and a breath in a long fact is a full stop
        out = [
            ". ".join(tx.upper_first(p.strip()) for p in s.split(" — ")) if s in turn.facts else s
            for s in out
        ]
        out = [tx.upper_first(_HEDGE.sub("", s)) for s in out]
    added = [
        s if s in keep else vc.shape(s, ctx, 1000 if s in turn.facts else max_words)
        for s in extra[:room]
    ]
    if out and out[-1].endswith("?"):
        # a question is what the turn ends on: a word of its own ("Hold on.") comes first
        out = [s for s in added if len(s.split()) <= 3] + out
        added = [s for s in added if len(s.split()) > 3]
    out += added
    out = list(dict.fromkeys(tx.capitalize_sentences(s) for s in out if s))
    said_by_me = " ".join(
        t.content for t in turn.ctx.previous_turns if t.speaker_id == ctx.speaker.entity_id
    ).lower()
    names = {tx.first_name(r.entity.name) for r in ctx.listeners} | {
        tx.first_name(ctx.speaker.name)
    }
    own = " ".join(out).lower()
    marked = any(e.lower() in own for e in ctx.voice.speech_examples) or any(
        a.lower() in own for a in ctx.voice.specificity_anchors
    )
    # a speaker's first turn of a conversation always sounds like them
    # (a voice with a single tic not every time: said in every conversation, it is a refrain)
    force = ctx.speaker_turn_number == 0 and not marked
    # and the fewer tics a voice has, the less often each is heard
    tics = len(ctx.voice.verbal_tics)
    if force and tics < 3:
        force = rng.random() < (0.3 if tics == 1 else 0.45)
    chance = 0.2 if tics < 3 else 0.4
    out = vc.apply_tic(
        out, ctx.voice.verbal_tics, rng, said_by_me, names, chance=chance, force=force
    )
    plain = [i for i, s in enumerate(out) if s.endswith(".") and not s.endswith("...")]
    if plain and "exhausted" in mood and rng.random() < 0.5:
        out[plain[-1]] = tx.strip_end(out[plain[-1]]) + "..."  # trailing off
    elif out and "agitated" in mood and out[-1].endswith("."):
        out[-1] = tx.strip_end(out[-1]) + "!"
    # the persona's token budget binds on what the voice added, never on what the act says
    kept = max(1, min(len(turn.core), len(out)))
    while len(out) > kept and (len(" ".join(out)) + 3) // 4 > ctx.persona.max_tokens:
        out.pop()
    return out


def _tone(talk: TalkBank, act: str, mood: list[str]) -> str:
    tone = talk.tones.get(act, "neutral")
    if mood and mood[0] in ("agitated", "hostile") and act in ("challenge", "refuse", "accuse"):
        return "heated"
    if mood and mood[0] == "exhausted":
        return "weary"
    return tone
