"""How a character sounds: the mood that colours a turn, templates filled and picked without
saying the same thing twice, the register (contractions or none), sentence length, and verbal
tics put where they fit the sentence."""

from __future__ import annotations

import re
from random import Random

from ..contexts import DialogTurnContext, RelationBrief
from . import text as tx
from .library import talk_bank
from .realise import verbish

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
        # heard already, in either register ("I've had enough" said as "I have had enough")
        if len(bones) >= 8 and any(
            b in said
            for b in {bones, skeleton(tx.expand(template)), skeleton(tx.contract(template))}
        ):
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
        or (first.isupper() and len(first) > 1)
        or first in names
        or first[:1].isdigit()
    ):
        return sentence
    return sentence[0].lower() + sentence[1:]


_RECALL = re.compile(
    r"^(?:back )?in (?:'?\d{2,4}|(?:my|our|his|her|their|the|those) (?:[\w'’]+ )*?"
    r"(?:days?|times?|years?))$"
)
_ROLE = re.compile(r"^as (?:your|a|an|the|my) ")  # "as your mayor", "as a friend"
_SUBJECTS = frozenset(
    "i we you they he she it this that one nobody everybody everyone someone the".split()
)
_AMOUNT = re.compile(
    r"\d|\b(?:hundred|thousand|million|billion|dozen|half|two|three|four|five|six|seven|eight|"
    r"nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)\b",
    re.IGNORECASE,
)


def _words(tic: str) -> list[str]:
    return tic.lower().replace(",", " ").strip(" .:;!?—-").split()


def _finite(word: str) -> bool:
    """A verb, or a word carrying one ("that's", "we've", "doesn't")."""
    return verbish(word) or bool(re.search(r"['’](?:s|re|ve|ll|d|m)$|n['’]t$", word))


def _remark(tic: str, words: list[str]) -> bool:
    """A tic that is a sentence of its own ("I did telephone", "we've been here before",
    "copy that", "no, no, no"), which is said as one rather than glued to another."""
    rules = talk_bank().tics
    if "," in tic.strip(" ,"):
        return True
    if any(w.endswith(("n't", "n’t")) or w == "not" for w in words):
        return True  # "the lake doesn't ask"
    if words[-1] in rules.reporting or " ".join(words[-2:]) in rules.reporting:
        return False  # "you'll see", "the data says": it may follow a statement
    if words[0] in rules.imperatives and len(words) >= 2:
        return True  # "walk me through it"
    head = re.split(r"['’]", words[0])[0]
    return (head in _SUBJECTS or words[0] != head) and any(_finite(w) for w in words)


def tic_kind(tic: str) -> str:
    """lead ("Look,"), tag ("right?"), interjection ("Mm.", "quite so"), recall ("in '56"),
    remark ("I did telephone"), saying ("my late husband always said"), opener ("here's the
    thing"), figure ("give or take"), question_lead ("I must ask"), role ("as your mayor") or
    tail ("you'll see")."""
    tic = tic.strip()
    words = _words(tic)
    rules = talk_bank().tics
    if tic.endswith("?"):
        return "tag"
    if not words:
        return "interjection"
    low = " ".join(words)
    if _RECALL.match(low):
        return "recall"
    if tic.endswith((".", "!")):
        return "interjection"
    if low in rules.assents:
        return "interjection"  # "Quite so.", never "Quite so were you told …"
    if any(low.endswith(f" {saying}") for saying in rules.sayings):
        return "saying"  # "My late husband always said: …"
    if any(low == o or low.startswith(f"{o} ") for o in rules.openers):
        return "opener"  # "Here's the thing: …"
    if tic.endswith((",", ":", "...", "--", "—")) or words[-1] in ("but", "and", "so"):
        return "lead"  # "Look," "I hear you, but": said before a sentence
    if low in rules.after_figures:
        return "figure"
    if _ROLE.match(low) and not any(_finite(w) for w in words[2:]):
        return "role"
    if words[-1] in rules.before_questions and words[0].startswith(("i", "let")):
        return "question_lead"
    if _remark(tic, words):
        return "remark"
    if tic[:1].isupper():
        return "lead"  # "Let's suppose"
    return "tail"  # "if I may", "you'll see": said after a statement


_IMPERATIVE = frozenset(
    "tell give let think remember keep ask look sit forget don't do leave stop wait listen "
    "come go take put get say show hold hang".split()
)


def _statement(sentence: str) -> bool:
    """A plain statement (a tag or a tail fits after it): not a question, an exclamation, a
    trailing-off, an order ("Tell me about the panel.") or a fragment without a verb
    ("About the frost insurance, Claude.")."""
    words = sentence.split()
    first = words[0].strip(",").lower() if words else ""
    return (
        sentence.endswith(".")
        and not sentence.endswith("...")
        and len(words) >= 3
        and first not in _IMPERATIVE
        and any(_finite(w.strip(",.;:!?—").lower()) for w in words)
    )


def _leads(sentence: str, tic: str) -> bool:
    """Whether a lead tic can go before ``sentence``: not before a lead-in ("So.", "Hold
    on,") or a follow-up ("And the patients?"), not a colon lead before a question."""
    opening = sentence.split()[:2]
    return not (
        sentence.endswith(":")
        or (opening and opening[0].lower() in ("and", "but", "or"))  # "I think and the …?"
        or len(sentence.split()) <= 2
        or any(w.endswith((",", ".", ":")) for w in opening)
        or (tic.endswith(":") and not _statement(sentence))
    )


_PERSONAL = re.compile(r"\b(?:I|I'\w+|me|my|we|us|our|you|your)\b", re.IGNORECASE)
_BARE = frozenset(
    "but and so suppose think guess reckon bet believe imagine expect hope say".split()
)


_PREPOSITIONS = frozenset("in on at by for with from to between under over as if so".split())


def _addresses(words: list[str]) -> bool:
    """A tail that only names the person spoken to ("sir", "love", "little ferryman"): no
    verb, no adverb, no preposition, a word or two."""
    return (
        0 < len(words) <= 2
        and words[0] not in _PREPOSITIONS
        and not any(w.endswith("ly") or _finite(w) for w in words)
    )


def _named(sentence: str, names: set[str]) -> bool:
    """Whether ``sentence`` already says whom it is said to ("Dorothea, wait.", "…, Anton.")."""
    firsts = {n.split()[0] for n in names if n}
    return any(re.search(rf"(?:^|, ){re.escape(f)}(?:,|[.!?]$)", sentence) for f in firsts)


def _fits_lead(sentence: str, kind: str) -> bool:
    """Which sentences a lead of this kind may go before."""
    if kind == "question_lead":
        return sentence.endswith("?")
    if kind == "opener":
        return _statement(sentence)
    if kind == "saying":  # what someone always said is said of the world, not of us
        return _statement(sentence) and not _PERSONAL.search(sentence)
    if kind == "role":  # "As your mayor, I …"
        return bool(re.match(r"(?:I|We)\b", sentence)) and not sentence.endswith("?")
    return True


def _lead(out: list[str], tic: str, kind: str, names: set[str]) -> list[str] | None:
    """``out`` with the lead tic before its first or second sentence, or None where it does
    not fit."""
    out = list(out)
    # before the first sentence, or after a short lead-in of the turn's own
    # ("Raymond, wait. Let's be realistic, what would you do?")
    first = out[0].split(". ", 1)
    if len(first) == 2 and len(first[0].split()) <= 3 and len(out) == 1:
        out = [f"{first[0]}.", first[1]]  # "Leave that. What about …?": two parts
    if kind in ("opener", "saying") and not tic.endswith((":", "—")):
        tic = f"{tic}:"  # "Here's the thing: the fund …"
    for k in range(min(2, len(out))):
        if _leads(out[k], tic) and _fits_lead(out[k], kind):
            # "I hear you, but I …", "Let's suppose Harold …": no comma after these
            bare = tic.endswith((",", ":", "...", "--", "—")) or tic.split()[-1].lower() in _BARE
            head = tic if bare else f"{tic},"  # "I hear you, but I …", not "but, I"
            if out[k].split(" ", 1)[0].strip(",.").lower() == head.strip(",:.").lower():
                return None
            lowered = out[k] if kind == "role" else _lower_lead(out[k], names)
            return [*out[:k], tx.upper_first(f"{head} {lowered}"), *out[k + 1 :]]
        vocative, _, rest = out[k].partition(", ")
        if kind == "lead" and vocative in names and len(rest.split()) >= 3 and len(tic.split()) > 1:
            # after the name it is said to ("Raymond, let's be realistic, who …")
            head = tic if tic.endswith((",", ":")) else f"{tic},"
            out[k] = f"{vocative}, {_lower_lead(f'{head} {rest}', names)}"
            return out
        if len(out[k].split()) > 3:
            return None  # a whole sentence came first: the lead does not go after it
    return None


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
        words = _words(tic)
        if kind == "interjection" or (
            kind == "remark" and len(words) == 2 and words[0] in (talk_bank().tics.imperatives)
        ):
            said = tic if tic.endswith((".", "!", "?")) else f"{tic.rstrip('.,')}."
            out[0] = f"{tx.upper_first(said)} {out[0]}"  # "Copy that. The pump …"
            return out
        if kind in ("lead", "opener", "saying", "question_lead", "role"):
            placed = _lead(out, tic, kind, names)
            if placed is not None:
                return placed
            continue
        spots = [i for i, s in enumerate(out) if _statement(s)]
        if kind == "figure":
            spots = [i for i in spots if _AMOUNT.search(out[i])]
        if not spots and kind == "remark" and force:
            # nothing stated to follow: said before the question the turn ends on
            # ("Odile. The insurance. I did telephone. Did you know?")
            parts = tx.sentences(out[-1])
            if len(parts) >= 2 and parts[-1].endswith("?"):
                said = f"{tx.upper_first(tic.rstrip('.,'))}."
                return [*out[:-1], " ".join([*parts[:-1], said, parts[-1]])]
        if not spots:
            continue
        i = spots[-1]
        body = tx.strip_end(out[i])
        if kind == "recall":  # "Same as in '56.", never "… ran out, in '56."
            line = rng.choice(talk_bank().tics.recall)
            said = line.replace("{Tic}", tx.upper_first(tic)).replace("{tic}", tic)
            return [*out[: i + 1], said, *out[i + 1 :]]
        if kind == "remark":  # "… wages. We've been here before."
            return [*out[: i + 1], f"{tx.upper_first(tic.rstrip('.,'))}.", *out[i + 1 :]]
        if kind == "tail" and _addresses(words) and _named(out[i], names):
            continue  # "You're right, Dorothea, sir.": one way of addressing someone is enough
        if kind == "tag":
            tag = tic if tic[:1].isupper() and tic.split()[0] in ("I", "I'm") else tic.lower()
            out[i] = f"{body}, {tag}"
        else:
            out[i] = f"{body}, {tic.rstrip('.,')}."
        return out
    return sentences
