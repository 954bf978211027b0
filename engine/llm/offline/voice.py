"""How a character sounds: the mood that colours a turn, templates filled and picked without
saying the same thing twice, the register (contractions or none), sentence length, and verbal
tics put where they fit the sentence."""

from __future__ import annotations

import re
from random import Random

from ..contexts import DialogTurnContext, RelationBrief
from . import text as tx

_SLOT = re.compile(r"\{(\w+)\}")


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


def fill(template: str, slots: dict[str, str]) -> str | None:
    """A template with its slots filled (``{Name}`` is the slot capitalised), or None when a
    slot it needs is empty."""
    needed = _SLOT.findall(template)
    values: dict[str, str] = {}
    for name in needed:
        value = slots.get(name) or slots.get(name[:1].lower() + name[1:], "")
        if not value:
            return None
        values[name] = tx.upper_first(value) if name[:1].isupper() else value
    return tx.upper_first(template.format_map(values))


def skeleton(template: str) -> str:
    """The longest literal stretch of a template, used to spot a phrase already said."""
    pieces = [p.strip(" ,.:;!?") for p in _SLOT.split(template)[::2]]
    return max(pieces, key=len, default="").lower()


def pick(
    options: tuple[str, ...],
    slots: dict[str, str],
    rng: Random,
    voice_ban: tuple[str, ...] = (),
    used: set[str] | None = None,
    said: str = "",
) -> str | None:
    """One of ``options`` filled: never one already used in this turn, never one holding a
    phrase the voice never says, and one whose wording was already heard only when nothing
    else fits."""
    used = used if used is not None else set()
    order = list(options)
    rng.shuffle(order)
    repeat = None
    for template in order:
        sentence = fill(template, slots)
        if sentence is None or sentence in used:
            continue
        if any(tx.contains_phrase(sentence, ban) for ban in voice_ban):
            continue
        bones = skeleton(template)
        if len(bones) >= 8 and bones in said:
            repeat = repeat or sentence
            continue
        return sentence
    return repeat


def register(ctx: DialogTurnContext) -> str:
    """casual, neutral or formal: the voice guide first, then the speaking style."""
    level = ctx.voice.formality
    style = getattr(ctx, "style", None)
    if level == "neutral" and style is not None:
        level = style.formality
    return level


def shape(sentence: str, ctx: DialogTurnContext, max_words: int) -> str:
    """Fit a sentence to the voice: contractions for a casual register, none for a formal one,
    and at most ``max_words`` words (cut only at a clause boundary)."""
    level = register(ctx)
    if level == "casual":
        sentence = tx.contract(sentence)
    elif level == "formal":
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


def tic_kind(tic: str) -> str:
    """lead ("Look,"), tag ("right?"), interjection ("Mm."), or tail ("you'll see")."""
    tic = tic.strip()
    if tic.endswith(("?",)):
        return "tag"
    if tic.endswith((".", "!")):
        return "interjection"
    if tic.endswith((",", ":", "...", "--", "—")) or tic[:1].isupper():
        return "lead"  # "Look," "Let's suppose": said before a sentence
    return "tail"  # "if I may", "that's the size of it": said after one


_IMPERATIVE = frozenset(
    "tell give let think remember keep ask look sit forget don't do leave stop wait listen "
    "come go take put get say show".split()
)


def _statement(sentence: str) -> bool:
    """A plain statement (a tag or a tail fits after it): not a question, an exclamation, a
    trailing-off or an order ("Tell me about the panel.")."""
    first = sentence.split(" ", 1)[0].strip(",").lower()
    return (
        sentence.endswith(".")
        and not sentence.endswith("...")
        and len(sentence.split()) >= 3
        and first not in _IMPERATIVE
    )


def _leads(sentence: str, tic: str) -> bool:
    """Whether a lead tic can go before ``sentence``: not before a lead-in ("So.", "Hold
    on,"), not a colon lead before a question."""
    opening = sentence.split()[:2]
    return not (
        sentence.endswith(":")
        or len(sentence.split()) <= 2
        or any(w.endswith((",", ".", ":")) for w in opening)
        or (tic.endswith(":") and not _statement(sentence))
    )


def apply_tic(
    sentences: list[str],
    tics: tuple[str, ...],
    rng: Random,
    said_by_me: str,
    names: set[str],
    *,
    force: bool = False,
    chance: float = 0.5,
) -> list[str]:
    """At most one verbal tic, where it fits: a lead before a sentence, a tag or a tail only
    after a plain statement (never after a question), an interjection on its own. A tic the
    speaker already used in this conversation is not repeated."""
    here = " ".join(sentences).lower()
    fresh = [t for t in tics if t.strip().lower().rstrip(",.?") not in f"{said_by_me} {here}"]
    if force and not fresh:
        fresh = list(tics)
    if not fresh or not sentences or (not force and rng.random() > chance):
        return sentences
    if not force:  # a long tic ("if we may return to the document") is a rarer one
        fresh = [t for t in fresh if len(t.split()) < 4 or rng.random() < 0.4] or fresh[:0]
        if not fresh:
            return sentences
    out = list(sentences)
    order = list(fresh)
    rng.shuffle(order)
    for tic in order:
        tic = tic.strip()
        kind = tic_kind(tic)
        if kind == "interjection":
            out[0] = f"{tx.upper_first(tic)} {out[0]}"
            return out
        if kind == "lead":
            # before the first sentence, or after a short lead-in of the turn's own
            # ("Raymond, wait. Let's be realistic, what would you do?")
            first = out[0].split(". ", 1)
            if len(first) == 2 and len(first[0].split()) <= 3 and len(out) == 1:
                out = [f"{first[0]}.", first[1]]  # "Leave that. What about …?": two parts
            for k in range(min(2, len(out))):
                if _leads(out[k], tic):
                    bare = tic.endswith((",", ":", "...", "--", "—")) or tic.split()[
                        -1
                    ].lower() in ("but", "and", "so")
                    head = tic if bare else f"{tic},"  # "I hear you, but I …", not "but, I"
                    if out[k].split(" ", 1)[0].strip(",.").lower() == head.strip(",:.").lower():
                        break
                    out[k] = tx.upper_first(f"{head} {_lower_lead(out[k], names)}")
                    return out
                vocative, _, rest = out[k].partition(", ")
                if vocative in names and len(rest.split()) >= 3 and len(tic.split()) > 1:
                    # after the name it is said to ("Raymond, let's be realistic, who …")
                    head = tic if tic.endswith((",", ":")) else f"{tic},"
                    out[k] = f"{vocative}, {_lower_lead(f'{head} {rest}', names)}"
                    return out
                if len(out[k].split()) > 3:
                    break  # a whole sentence came first: the lead does not go after it
            out = list(sentences)
            continue
        spots = [i for i, s in enumerate(out) if _statement(s)]
        if not spots:
            continue
        i = spots[-1]
        body = tx.strip_end(out[i])
        if kind == "tag":
            tag = tic if tic[:1].isupper() and tic.split()[0] in ("I", "I'm") else tic.lower()
            out[i] = f"{body}, {tag}"
        else:
            out[i] = f"{body}, {tic.rstrip('.,')}."
        return out
    return sentences
