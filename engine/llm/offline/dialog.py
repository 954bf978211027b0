"""Offline dialog turns, composed from the speaker's voice guide, knowledge and state (M11).

A turn is built from a few sentences: a reaction to the previous speaker (its stance decided by
trust, alignment and temperament), the move the steering step asked for (share a knowledge item,
question, propose, close), sometimes a specificity anchor or a line from the speech examples,
and a mood interjection. The voice guide then shapes it: verbal tics, formality (contractions),
sentence length, and never-says phrases are filtered out.
"""

from __future__ import annotations

import re
from random import Random

from ...model import clock
from ...model.dialog import Stance
from ...model.responses import DialogTurnResponse
from ..contexts import DialogTurnContext, KnowledgeRef, RelationBrief
from . import text as tx
from .library import DialogBank, dialog_bank

_SLOT = re.compile(r"\{(\w+)\}")
MAX_WORDS = {"short": 11, "medium": 19, "long": 30}
SENTENCES = {"short": 2, "medium": 3, "long": 4}


def moods(ctx: DialogTurnContext, relation: RelationBrief | None) -> list[str]:
    """The mood conditions that colour this turn, strongest first."""
    m = ctx.mood
    found: list[str] = []
    if m.arousal >= 0.7:
        found.append("agitated")
    if m.pain >= 0.6:
        found.append("pain")
    if m.energy <= 30 or m.fatigue >= 0.7:
        found.append("exhausted")
    if m.valence <= -0.4 or (relation is not None and relation.trust <= -0.35):
        found.append("hostile")
    if m.valence >= 0.4 and m.arousal < 0.7:
        found.append("upbeat")
    return found


def choose_stance(
    ctx: DialogTurnContext, relation: RelationBrief | None, mood: list[str], rng: Random
) -> Stance:
    if not ctx.previous_turns:
        return "informs"
    if ctx.move == "question":
        return "questions"
    trust = relation.trust if relation else 0.0
    alignment = relation.alignment if relation else 0.0
    weights: dict[Stance, float] = {
        "supports": 1.0 + 2.0 * max(0.0, trust) + 1.5 * max(0.0, alignment),
        "challenges": 0.6
        + 2.0 * max(0.0, -trust)
        + 1.5 * max(0.0, -alignment)
        + ctx.mood.arousal
        + (0.8 if "hostile" in mood else 0.0),
        "questions": 0.8 + (0.6 if ctx.style.pattern == "questioning" else 0.0),
        "informs": 0.9 + (0.8 if ctx.move == "reveal" else 0.0),
        "deflects": 0.15 + (0.5 if "exhausted" in mood else 0.0),
    }
    if ctx.style.pattern == "commanding":
        weights["challenges"] += 0.4
    stances = list(weights)
    return rng.choices(stances, weights=[weights[s] for s in stances])[0]


def _fill(template: str, slots: dict[str, str]) -> str | None:
    needed = _SLOT.findall(template)
    if any(not slots.get(name) for name in needed):
        return None
    text = template.format_map(slots)
    return tx.upper_first(text)


def _skeleton(template: str) -> str:
    """The longest literal stretch of a template, used to spot a phrase already said."""
    pieces = [p.strip(" ,.:;!?") for p in _SLOT.split(template)[::2]]
    return max(pieces, key=len, default="").lower()


def _pick(
    options: tuple[str, ...],
    slots: dict[str, str],
    rng: Random,
    voice_ban: tuple[str, ...],
    used: set[str],
    said: str = "",
) -> str | None:
    order = list(options)
    rng.shuffle(order)
    repeat = None
    for template in order:
        sentence = _fill(template, slots)
        if sentence is None or sentence in used:
            continue
        if any(tx.contains_phrase(sentence, ban) for ban in voice_ban):
            continue
        skeleton = _skeleton(template)
        if len(skeleton) >= 8 and skeleton in said:
            repeat = repeat or sentence
            continue
        return sentence
    return repeat


def choose_knowledge(ctx: DialogTurnContext, rng: Random) -> KnowledgeRef | None:
    """The knowledge item this turn draws on: relevant to the moment, not yet said, and not
    something the person addressed told the speaker in the first place."""
    if not ctx.knowledge:
        return None
    addressee = next(
        (r.entity.name for r in ctx.listeners if r.entity.entity_id == (ctx.addressed_to or "")),
        None,
    )
    said = " ".join(t.content for t in ctx.previous_turns) + " " + " ".join(ctx.prior_beats)
    used = {r for t in ctx.previous_turns for r in t.knowledge_references}
    focus = set(tx.content_words(ctx.event_description))
    if ctx.previous_turns:
        focus |= set(tx.content_words(ctx.previous_turns[-1].content))
    scored: list[tuple[float, int, KnowledgeRef]] = []
    for i, ref in enumerate(ctx.knowledge):
        words = set(tx.content_words(tx.humanize(ref.information)))
        score = min(3, len(words & focus)) * 0.6 + rng.random() * 0.8
        if ref.information in used:
            score -= 8.0  # never the same item twice in one conversation
        if _about(ref.information).lower() in said.lower():
            score -= 1.5
        if ref.kind in ("told", "learned"):
            score += 0.6  # fresh information is what people talk about
        elif ref.kind == "witnessed":
            score -= 1.0  # scenes people saw together are rarely worth retelling
        elif ref.kind == "anticipated":
            score -= 0.3  # a hunch is worth voicing, but facts come first
        if ref.category in ("opinion", "agreement", "question", "plan", "decision"):
            score -= 2.5  # hearsay about someone's stance is weaker than a fact
        if addressee is not None and ref.source == addressee:
            score -= 6.0  # nobody tells people what they were just told by them
        scored.append((score, -i, ref))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    best = scored[0]
    return best[2] if best[0] > -4.0 else None


def _shape(sentence: str, ctx: DialogTurnContext, max_words: int) -> str:
    """Fit a sentence to the voice: contractions for a casual register, none for a formal one
    (the voice guide first, then the speaking style when the context has one), and at most
    ``max_words`` words."""
    register = ctx.voice.formality
    style = getattr(ctx, "style", None)
    if register == "neutral" and style is not None:
        register = style.formality
    if register == "casual":
        sentence = tx.contract(sentence)
    elif register == "formal":
        sentence = tx.expand(sentence)
    return tx.shorten(sentence, max_words)


def _lower_lead(sentence: str, names: set[str]) -> str:
    first = sentence.split(" ", 1)[0].strip(",.:;!?")
    if (
        not first
        or first == "I"
        or first.startswith(("I'", "I’"))
        or first.isupper()
        or first in names
        or first[:1].isdigit()
    ):
        return sentence
    return sentence[0].lower() + sentence[1:]


def _apply_tic(
    sentences: list[str],
    tics: tuple[str, ...],
    rng: Random,
    said_by_me: str,
    names: set[str],
    *,
    force: bool = False,
) -> list[str]:
    fresh = [t for t in tics if t.strip().lower().rstrip(",.?") not in said_by_me]
    if force and not fresh:
        fresh = list(tics)
    if not fresh or not sentences or (not force and rng.random() > 0.5):
        return sentences
    tic = rng.choice(fresh).strip()
    out = list(sentences)
    if tic.endswith((".", "!")):
        out[0] = f"{tx.upper_first(tic)} {out[0]}"
    elif tic.endswith("?"):
        i = rng.randrange(len(out))
        out[i] = f"{tx.strip_end(out[i])}, {tic.lower() if tic[1:2].islower() else tic}"
    elif tic.endswith((",", ":", "...", "--")) or len(tic.split()) <= 1:
        head = tic if tic.endswith((",", ":", "...", "--")) else f"{tic},"
        out[0] = tx.upper_first(f"{head} {_lower_lead(out[0], names)}")
    else:
        i = rng.randrange(len(out))
        body = tx.strip_end(out[i])
        out[i] = f"{body}, {tic.rstrip('.,')}."
    return out


def _about(information: str) -> str:
    """A short phrase naming what a knowledge item is about."""
    return tx.topic(tx.event_core(information, clock.phrases()))


def _slots(
    ctx: DialogTurnContext,
    relation: RelationBrief | None,
    knowledge: KnowledgeRef | None,
    rng: Random,
) -> dict[str, str]:
    speaker_names = (ctx.speaker.name, tx.first_name(ctx.speaker.name))
    # Only the person addressed becomes "you"; others present stay in the third person.
    listener_names = (relation.entity.name, tx.first_name(relation.entity.name)) if relation else ()
    prev = ctx.previous_turns[-1] if ctx.previous_turns else None
    others = [
        r
        for r in ctx.listeners
        if relation is None or r.entity.entity_id != relation.entity.entity_id
    ]
    slots = {
        "addressee": tx.first_name(relation.entity.name) if relation else "",
        "listener": tx.first_name((rng.choice(others) if others else relation).entity.name)
        if (others or relation)
        else "",
        "hook": "",
        "event": tx.lower_first(
            tx.strip_end(tx.event_core(ctx.event_description, clock.phrases()))
        ),
        "anchor": rng.choice(ctx.voice.specificity_anchors)
        if ctx.voice.specificity_anchors
        else "",
        "location": tx.short_place(ctx.scenario.location),
        "time": ctx.time_of_day,
        "name": ctx.speaker.name,
        "role": ctx.speaker.role.lower(),
        "knowledge": "",
        "topic": "",
        "source": "",
    }
    slots["event"] = tx.perspective(slots["event"], speaker_names, listener_names)
    slots["Event"] = tx.upper_first(slots["event"])
    if prev is not None:
        # What the conversation is about: the latest knowledge someone put on the table, or
        # else the event itself.
        basis = next(
            (
                t.knowledge_references[0]
                for t in reversed(ctx.previous_turns)
                if t.knowledge_references
            ),
            None,
        )
        if basis is None:
            basis = slots["event"]
        slots["hook"] = _about(tx.perspective(basis, listener_names, speaker_names))
    if knowledge is not None:
        information = knowledge.information
        if knowledge.kind == "witnessed":
            information = tx.event_core(information, clock.phrases())
        clause = tx.perspective(tx.humanize(information), speaker_names, listener_names)
        slots["knowledge"] = tx.lower_first(tx.strip_end(clause))
        slots["Knowledge"] = tx.upper_first(slots["knowledge"])
        slots["topic"] = _about(knowledge.information)
        if knowledge.source:
            slots["source"] = tx.first_name(knowledge.source)
    if not slots["topic"]:
        slots["topic"] = slots["hook"] or _about(ctx.event_description)
    if not slots["hook"]:
        slots["hook"] = slots["topic"]
    return slots


def _nonspeech(
    ctx: DialogTurnContext,
    bank: DialogBank,
    slots: dict[str, str],
    rng: Random,
    knowledge: KnowledgeRef | None,
) -> DialogTurnResponse:
    options = getattr(bank, ctx.speaking_mode)
    used: set[str] = set()
    sentence = _pick(options, slots, rng, (), used) or f"{ctx.speaker.name} is present."
    refs = (knowledge.information,) if knowledge is not None and "{knowledge}" in sentence else ()
    return DialogTurnResponse(
        content=sentence,
        emotional_tone="uncanny" if ctx.speaking_mode == "collective" else "watchful",
        knowledge_references=refs,
        stance="informs",
        addressed_to=ctx.addressed_to,
    )


def generate_turn(ctx: DialogTurnContext, rng: Random) -> DialogTurnResponse:
    bank = dialog_bank()
    relation = None
    target = ctx.addressed_to or (ctx.previous_turns[-1].speaker_id if ctx.previous_turns else None)
    if target:
        relation = next((r for r in ctx.listeners if r.entity.entity_id == target), None)
    if relation is None and ctx.listeners:
        relation = ctx.listeners[0]
    mood = moods(ctx, relation)
    wants_knowledge = ctx.move in ("open", "respond", "reveal", "propose") or rng.random() < 0.3
    knowledge = choose_knowledge(ctx, rng) if wants_knowledge else None
    slots = _slots(ctx, relation, knowledge, rng)
    if ctx.speaking_mode != "speech":
        return _nonspeech(ctx, bank, slots, rng, knowledge)

    stance = choose_stance(ctx, relation, mood, rng)
    ban = ctx.voice.never_says
    used: set[str] = set()
    parts: list[
        tuple[str, str]
    ] = []  # (sentence, kind); kinds "knowledge" and "example" stay whole

    said = " ".join(t.content for t in ctx.previous_turns).lower()
    said_by_me = " ".join(
        t.content for t in ctx.previous_turns if t.speaker_id == ctx.speaker.entity_id
    ).lower()
    names = {tx.first_name(r.entity.name) for r in ctx.listeners}
    names |= {w for r in ctx.listeners for w in r.entity.name.split()}
    names.add(tx.first_name(ctx.speaker.name))

    def add(options: tuple[str, ...], kind: str = "other") -> bool:
        sentence = _pick(options, slots, rng, ban, used, said)
        if sentence:
            parts.append((sentence, kind))
            used.add(sentence)
        return sentence is not None

    if ctx.previous_turns:
        add(bank.lead[stance])
    elif ctx.move == "open":
        add(bank.open)

    refs: list[str] = []
    if knowledge is not None and stance != "deflects":
        options = bank.share.get(knowledge.kind) or bank.share["initial"]
        if add(options, "knowledge"):
            refs.append(knowledge.information)
    if ctx.move == "question" or (stance == "questions" and not ctx.previous_turns):
        add(bank.question)
    elif ctx.move == "propose":
        add(bank.propose)
    elif ctx.move == "close":
        add(bank.close)

    beats = " ".join(ctx.prior_beats).lower()
    examples = [e for e in ctx.voice.speech_examples if e[:24].lower() not in beats]
    marked = False  # does this turn carry something only this speaker says?
    if examples and ctx.speaker_turn_number == 0 and rng.random() < 0.6:
        parts.append((rng.choice(examples), "example"))
        marked = True
    elif ctx.voice.specificity_anchors and rng.random() < 0.35:
        marked = add(bank.anchor, "anchor")

    if mood and rng.random() < 0.75:
        add(bank.mood.get(mood[0], ()))

    limit = SENTENCES[ctx.voice.sentence_length]
    if ctx.style.verbosity == "verbose":
        limit += 1
    if "exhausted" in mood or "pain" in mood:
        limit -= 1
    limit = max(2 if refs else 1, limit)
    max_words = MAX_WORDS[ctx.voice.sentence_length]
    if "agitated" in mood:
        max_words = min(max_words, 10)

    shaped: list[str] = []
    for sentence, kind in parts[:limit]:
        if kind != "example":
            sentence = _shape(sentence, ctx, 1000 if kind == "knowledge" else max_words)
        shaped.append(sentence)
    shaped = [tx.capitalize_sentences(p) for p in shaped]
    # A speaker's first turn in a conversation always sounds like them (a marker cut by the
    # sentence limit does not count).
    marked = marked and any(kind in ("example", "anchor") for _, kind in parts[:limit])
    force = ctx.speaker_turn_number == 0 and not marked
    if force and not ctx.voice.verbal_tics and ctx.voice.specificity_anchors:
        anchor = _pick(bank.anchor, slots, rng, ban, used, said)
        if anchor:
            shaped.append(_shape(anchor, ctx, max_words))
    shaped = _apply_tic(shaped, ctx.voice.verbal_tics, rng, said_by_me, names, force=force)
    if shaped and "exhausted" in mood and rng.random() < 0.5:
        shaped[-1] = tx.strip_end(shaped[-1]) + "..."
    elif shaped and "agitated" in mood and not shaped[-1].endswith("?"):
        shaped[-1] = tx.strip_end(shaped[-1]) + "!"
    # The persona's token budget binds: drop trailing sentences that do not carry knowledge.
    while len(shaped) > 1 and (len(" ".join(shaped)) + 3) // 4 > ctx.persona.max_tokens:
        shaped.pop()
    content = " ".join(shaped).strip()
    if not content:
        content = f"{slots['addressee'] or 'Well'}... I need a moment."

    tones = bank.tones.get(stance, {})
    tone = (
        tones.get(mood[0], tones.get("default", "neutral"))
        if mood
        else tones.get("default", "neutral")
    )
    physical = ""
    for condition in ("pain", "exhausted", "agitated"):
        if condition in mood and bank.physical.get(condition):
            physical = rng.choice(bank.physical[condition])
            break
    # Only claim the knowledge that made it into the final text.
    said = tx.expand(content).lower()
    refs = [r for r in refs if tx.expand(slots["knowledge"]).lower()[:24] in said]
    return DialogTurnResponse(
        content=content,
        emotional_tone=tone,
        knowledge_references=tuple(refs),
        stance=stance,
        addressed_to=relation.entity.entity_id if relation else None,
        physical_state_influence=physical,
    )
