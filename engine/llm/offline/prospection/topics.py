"""What an inner life is about: the topic a sentence names, what kind of thing that is (a
person, a quantity, a condition or a thing), and how this character would put it."""

from __future__ import annotations

import re

from ....model import clock
from ...contexts import ProspectionContext
from .. import text as tx
from ..library import inner_bank

_TIME = re.compile(
    r"\s*\b(?:(?:at|since|by|until|till|from|before|after|around|about)\s+)?\d{1,2}:\d{2}\b",
    re.IGNORECASE,
)
# Words that end a topic badly ("the bulk diesel tank behind", "the air ambulance cannot").
_LOOSE_END = frozenset(
    "outside inside behind beside beyond above below near without within around across along "
    "toward towards ago yesterday today tonight now cannot can't awake early already late again "
    "alone blows blew blown fails failed breaks broke runs ran goes went comes came".split()
)


def _topic(text: str) -> str:
    """A short noun phrase naming what a sentence is about, or "" when none reads well.

    :func:`text.topic` with clock times taken out first, a named person's thing preferred
    ("Walter's chest"), loose trailing words trimmed, and a phrase that only measures something
    ("the twenty-six hours") passed over for the next one."""
    core = tx.event_core(text, clock.phrases())
    core = _TIME.sub("", core).strip()
    if not core:
        return ""
    named = _named_thing(core)
    if named:
        return named
    # No good phrase in the whole sentence: try its clauses one by one.
    for part in (core, *re.split(r"[,;]\s*", core)[1:]):
        if len(part.split()) >= 3:
            found = _measured_out(part)
            if found:
                return found
    return ""


def _measured_out(core: str) -> str:
    """The topic of a clause, passing over phrases that only measure ("the seven hours")."""
    for _ in range(3):
        found = _tidy(tx.strip_end(tx.topic(core)).split())
        if (
            not found
            or len(found) > 6
            or found[0].lower() in _NOT_A_THING
            or any(w.lower().strip(",.") in _SAID_NOT_MEANT for w in found)
        ):
            return ""  # "You know why I asked you here, and I mea": words, not a thing
        if found[-1].lower() not in _MEASURES:
            return " ".join(found)
        phrase = " ".join(w for w in found if w != "the")
        if phrase not in core:
            return ""
        core = core.replace(phrase, "", 1)
    return ""


_NOT_A_THING = frozenset("i you we he she it they this that there what why how and but so".split())
_SAID_NOT_MEANT = frozenset("i you we please sorry thanks okay".split())  # "the please"
_MEASURES = frozenset(
    "hours hour minutes minute seconds days day weeks years litres liters metres meters miles "
    "percent times".split()
)


def _tidy(found: list[str]) -> list[str]:
    while (
        found
        and (
            found[-1].lower().strip(",") in _LOOSE_END
            or (found[-1].endswith("ly") and len(found[-1]) > 5 and found[-1][:1].islower())
            # "Harold Brisk's head office telephoned": a verb ends the clause, not the topic
            or (found[-1].endswith("ed") and len(found[-1]) > 5 and found[-1][:1].islower())
        )
    ):
        found.pop()
    if len(found) > 1 and found[0] == "the" and found[1].lower() == "already":
        del found[1]
    named = len(found) > 1 and found[0] == "the" and found[1][:1].isupper()
    if named and (
        any(w.endswith(("'s", "’s")) for w in found[1:]) or all(w[:1].isupper() for w in found[1:])
    ):
        found = found[1:]  # "Walter Ashby's potassium", "Dr Qureshi": names take no article
    if (
        len(found) >= 3
        and found[0] == "the"
        and found[1][:1].islower()
        and all(w[:1].isupper() for w in found[2:])
    ):
        found = found[2:]  # "his wife Irene" became "the wife Irene": the name says it
    if not found or (len(found) == 1 and found[0].lower() in ("the", "a", "an")):
        return []
    if found[-1].endswith(("'s", "’s")) and len(found) == 1:
        found[-1] = found[-1][:-2]
    return found


_POSSESSIVE = re.compile(r"\b((?:[A-Z][\w-]* ){0,2}[A-Z][\w-]*['’]s)((?: [a-z][\w-]*){1,3})")
_PRONOUN_THING = re.compile(r"\b(?:his|her|their) (?=([a-z][\w-]*))")


def _named_thing(sentence: str) -> str:
    """A named person's thing near the start of a sentence ("Walter's early warning score",
    "Walter Ashby's furosemide"), or a name followed by "his"/"her" something ("Walter told her
    his chest felt tight" -> "Walter's chest"); "" when the sentence does not open that way."""
    head = " ".join(sentence.split()[:6])
    match = _POSSESSIVE.search(head + sentence[len(head) :][:60])
    if match and match.start() <= len(head):
        kept: list[str] = []
        for word in match.group(2).split():
            if word in tx.STOPWORDS or (word in tx.common_verbs() and not word.endswith("ing")):
                break
            kept.append(word)
        if kept:
            return f"{match.group(1)} {' '.join(kept)}"
    first = sentence.split()[0].strip(",") if sentence.split() else ""
    if first[:1].isupper() and first.lower() not in tx.STOPWORDS:
        for thing in _PRONOUN_THING.finditer(sentence):
            noun = thing.group(1)
            if noun not in tx.STOPWORDS and noun not in tx.common_verbs() and len(noun) >= 4:
                return f"{first}'s {noun}"
    return ""


def _names(ctx: ProspectionContext) -> tuple[str, ...]:
    return (ctx.entity.name, tx.first_name(ctx.entity.name))


def _people(ctx: ProspectionContext) -> dict[str, str]:
    """Everyone this character can name from the dialog itself (itself and whoever spoke), each
    name (full, first, and any single word of it) mapped to the first name it goes by."""
    out: dict[str, str] = {}
    for name in (ctx.entity.name, *(t.speaker_name for t in ctx.turns)):
        first = tx.first_name(name)
        for known in (name, first, *(w for w in name.split() if len(w) > 2)):
            out.setdefault(known, first)
    return out


_NUMBER_WORDS = frozenset(
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred hundreds thousand thousands million millions dozen dozens half".split()
)
# Heads that name nothing on their own ("the first", "the rest").
_EMPTY_HEADS = frozenset(
    "first second third last other others rest same one ones way thing things lot part bit "
    "kind sort side end start morning afternoon evening night midnight noon dawn dusk day "
    "today tonight week".split()
)
_ARTICLES = ("the", "a", "an", "my")


def _possessor(word: str) -> str:
    return word[:-2] if word.endswith(("'s", "’s")) else word[:-1] if word.endswith("s'") else ""


def topic_kind(topic: str, people: dict[str, str] | tuple[str, ...]) -> str:
    """What a topic names: ``person``, ``quantity``, ``condition`` or ``thing`` (see
    ``_topic_kinds`` in ``engine/data/offline/inner.json``), or "" when it names nothing a
    template can take: a stray capitalised word that is nobody present ("Minister", "Marguerite
    Ann"), a person's name tacked on to something else ("the lamp room Tomas"), a loose adverb
    or verb at its end ("Eleven's privately", "the head office telephoned")."""
    bank = inner_bank()
    words = topic.split()
    core = words[1:] if words and words[0].lower() in _ARTICLES else words
    if not core:
        return ""
    if " ".join(core) in people:
        return "person"
    head = core[-1].strip('.,;:!?"')
    low = head.lower()
    if not head or low in _EMPTY_HEADS or low in tx.STOPWORDS or tx.expand(low) != low:
        return ""  # also a contraction: "the didn't"
    if " ".join(core[-2:]).lower() in ("first light", "last light"):
        return ""  # a time of day, not a thing
    if head[:1].isupper() or any(w in people for w in core[1:]):
        return ""  # an unknown name, or a name stuck on the end of something
    for i, word in enumerate(core[:-1]):
        owner = _possessor(word)
        full = i > 0 and core[i - 1][:1].isupper()  # "Walter Ashby's": a full name
        if owner[:1].isupper() and owner not in people and not owner.isupper() and not full:
            return ""  # "Wet's father", "Men's shrine": not a person's thing
    singular = low[:-1] if low.endswith("s") and not low.endswith("ss") else low
    if low in bank.person_words or singular in bank.person_words:
        return "person"
    if low in bank.condition_words or singular in bank.condition_words:
        return "condition"
    if (low.endswith("ly") and len(low) > 4) or (
        low in tx.common_verbs() and not low.endswith("ing")
    ):
        return ""
    if len(core) > 1 and core[-2].lower() in bank.person_words and singular != low:
        return ""  # "the Mutuelle assessor inspects": a clause, cut at its verb
    if low.endswith("ed") and len(low) > 5 and low not in tx.STOPWORDS:
        return ""
    if any(ch.isdigit() for ch in " ".join(core)) or any(
        w.lower().strip("',’") in _NUMBER_WORDS for w in core
    ):
        return "quantity"
    return "thing"


def _subject(ctx: ProspectionContext, topic: str) -> str:
    """A topic as this character would put it, or "" when it names nothing usable: its own
    name becomes "my" ("Walter Ashby's furosemide" -> "my furosemide" in Walter's head),
    another person's full name their first name, and a topic of no kind is dropped."""
    topic = topic.strip()
    if not topic:
        return ""
    for name in sorted(set(_names(ctx)), key=len, reverse=True):
        topic = re.sub(rf"^(?:the )?{re.escape(name)}['’]s\b", "my", topic)
    own = {ctx.entity.name, *(w for w in ctx.entity.name.split() if len(w) > 2)}
    if any(re.search(rf"\b{re.escape(n)}\b", topic) for n in own):
        return ""  # itself, in the third person
    for name, first in _people(ctx).items():
        if name != first and " " in name:
            topic = re.sub(rf"\b{re.escape(name)}(?=['’]s\b)", first, topic)
    return topic if topic_kind(topic, _people(ctx)) else ""
