"""Offline prospection (M15): a character's inner life after a dialog, built from the dialog.

Each character remembers the conversation its own way. The generator reads the turns from the
character's seat: which turn struck it most (one that challenged or questioned it, one that came
close to what it was hiding, news it had not heard, the most heated), and a lens taken from its
personality and mood decides what it dwells on: threat for the anxious or unhappy, people for the
warm, decisions for the methodical, standing for the proud. Someone who only listened remembers
as a witness. Expectations come from the dialog too: a question left unanswered, a proposal, the
secret it kept, the way the event is going, an old concern; how likely they seem and whether
they are hoped for or dreaded follows its mood. All phrasing is in ``engine/data/offline/
inner.json``; the voice guide shapes it as it shapes speech.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from random import Random

from ...model import clock
from ...model.inner import Concern, Expectation
from ..contexts import ProspectionContext, TurnBrief
from ..responses import ProspectionResponse
from . import text as tx
from .dialog import _apply_tic, _pick, _shape
from .extraction import _third_person, _voiced_as_expectation
from .library import InnerBank, inner_bank

# How long a remembered piece of news may run, in words, before it is cut at a comma.
NEWS_WORDS = {"short": 14, "medium": 20, "long": 26}
SENTENCES = {"short": 3, "medium": 4, "long": 5}
# Tones of a turn that leave a mark (from the dialog bank's tones).
HEATED = frozenset(
    ["heated", "cold", "accusing", "urgent", "pressing", "irritable", "grudging", "spirited"]
)
STRAINED = frozenset(["weary", "strained", "tired", "flat"])

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
        if not found:
            return ""
        if found[-1].lower() not in _MEASURES:
            return " ".join(found)
        phrase = " ".join(w for w in found if w != "the")
        if phrase not in core:
            return ""
        core = core.replace(phrase, "", 1)
    return ""


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


def _unowned(topic: str, other: str) -> str:
    """A topic next to the person it belongs to: "Walter wouldn't let Walter's furosemide go"
    reads better as "... let the furosemide go"; a topic that is that person is no topic
    ("When Genzo brought up Genzo Hata")."""
    if not other:
        return topic
    if topic == other or topic.startswith(f"{other} "):
        return ""
    if topic.startswith((f"{other}'s ", f"{other}’s ")):
        return "the " + topic.split(" ", 1)[1] if " " in topic else topic
    return topic


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


def lens(ctx: ProspectionContext, bank: InnerBank) -> str:
    """What this character dwells on: ``threat``, ``people``, ``decision``, ``pride`` or
    ``plain``, from its personality words and its mood (unhappiness and agitation pull toward
    threat, good spirits toward people)."""
    words = [p.strip().lower() for p in ctx.personality]
    scores = {name: float(sum(w in listed for w in words)) for name, listed in bank.lenses.items()}
    m = ctx.mood
    scores["threat"] += 2.5 * max(0.0, -m.valence - 0.1) + 2.5 * max(0.0, m.arousal - 0.5)
    scores["people"] += 0.5 * max(0.0, m.valence)
    best = max(("threat", "people", "decision", "pride"), key=lambda k: scores.get(k, 0.0))
    return best if scores.get(best, 0.0) >= 0.5 else "plain"


@dataclass(frozen=True)
class Reading:
    """How one turn of the dialog looks from this character's seat."""

    turn: TurnBrief
    kind: str  # challenge, question, secret, news, support, other
    score: float
    topic: str
    secret: str = ""  # the withheld item it came close to


def _turn_topic(turns: tuple[TurnBrief, ...], i: int, *, reaction: bool = False) -> str:
    """What a turn was about: the knowledge it carried, else the latest knowledge put on the
    table before it, else its own words. A reaction (a challenge, a question, support) is about
    what was on the table before it, whatever it added."""
    earlier = tuple(reversed(turns[:i]))
    for t in (*earlier, turns[i]) if reaction else (turns[i], *earlier):
        for ref in t.knowledge_references:
            found = _topic(ref)
            if found:
                return found
    return _topic(turns[i].content)


def _overlap(a: str, b: str) -> int:
    """How many substantive common words (not names, not short words) of ``a`` occur in ``b``."""
    left = {
        w.strip(".,;:!?%$").lower()
        for w in tx.words(tx.humanize(a))
        if w[:1].islower() and len(w) >= 4 and w.lower() not in tx.STOPWORDS
    }
    return len(left & set(tx.content_words(b)))


def read_turns(ctx: ProspectionContext, chosen_lens: str, rng: Random) -> list[Reading]:
    """Every turn by someone else, scored for how much it matters to this character."""
    me = ctx.entity.entity_id
    out: list[Reading] = []
    for i, t in enumerate(ctx.turns):
        if t.speaker_id == me:
            continue
        to_me = t.addressed_to == me
        said = " ".join((t.content, *t.knowledge_references))
        secret = next((w for w in ctx.withheld if _overlap(w, said) >= 2 and _topic(w)), "")
        news = _news(t)
        if secret:
            kind = "secret"
        elif to_me and t.stance == "challenges":
            kind = "challenge"
        elif to_me and (t.stance == "questions" or "?" in t.content):
            kind = "question"
        elif news:
            kind = "news"
        elif to_me and t.stance == "supports":
            kind = "support"
        else:
            kind = "other"
        score = {
            "secret": 3.0,
            "challenge": 3.0,
            "question": 2.4,
            "news": 1.4,
            "support": 1.6,
            "other": 0.4,
        }[kind]
        score += 0.8 if t.emotional_tone in HEATED else 0.0
        score += 0.3 if "!" in t.content else 0.0
        if t.knowledge_references and any(
            n in " ".join(t.knowledge_references) for n in _names(ctx)
        ):
            score += 1.0  # news about me
        lens_bonus = {
            "threat": kind in ("challenge", "question", "secret"),
            "people": kind == "support" or t.emotional_tone in STRAINED,
            "decision": kind == "news" or _proposes(t.content),
            "pride": kind == "challenge",
        }
        score += 1.0 if lens_bonus.get(chosen_lens, False) else 0.0
        score += rng.random() * 0.5
        topic = _topic(secret) if secret else ""
        reaction = kind in ("challenge", "question", "support")
        topic = _subject(ctx, topic or _turn_topic(ctx.turns, i, reaction=reaction))
        out.append(Reading(t, kind, score, topic, secret))
    return out


def _news(turn: TurnBrief) -> str:
    """The knowledge a turn told as fact, in the third person, or "" (a speaker's hunch, voiced
    as one, is not news)."""
    for ref in turn.knowledge_references:
        if not _voiced_as_expectation(turn.content, ref):
            # "I"/"me" in an item are its speaker: name them before taking the listener's seat.
            return _third_person(ref, turn.speaker_name, "")
    return ""


def _proposes(content: str) -> bool:
    """Whether a turn puts a course of action forward (cues: ``proposal_cues`` in the bank)."""
    low = tx.expand(content).lower()
    return any(tx.expand(cue).lower() in low for cue in inner_bank().proposal_cues)


def _quote(turn: TurnBrief) -> str:
    """A short sentence from a turn that is worth quoting, or ""."""
    options = [
        s
        for s in tx.sentences(turn.content)
        if 3 <= len(s.split()) <= 12 and not any(r[:20] in s for r in turn.knowledge_references)
    ]
    asked = [s for s in options if s.endswith("?")]
    return (asked or options or [""])[0]


def _answered_after(ctx: ProspectionContext, turn: TurnBrief) -> bool:
    if turn.addressed_to is None:
        return True
    return any(
        t.speaker_id == turn.addressed_to and t.turn_index > turn.turn_index for t in ctx.turns
    )


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


# Slots that name a topic (and so may belong to the person in {other}).
_SUBJECTS = ("topic", "secret", "concern", "event_topic", "my_topic", "expected")


def _say(
    ctx: ProspectionContext,
    options: tuple[str, ...],
    slots: dict[str, str],
    rng: Random,
    used: set[str],
) -> str | None:
    """One sentence from a bank, never with a phrase the character never says, in its register
    (templates are written whole; they are not cut)."""
    other = slots.get("other", "")
    if other:
        slots = {
            **slots,
            **{k: _unowned(slots[k], other) for k in _SUBJECTS if slots.get(k)},
        }
    sentence = _pick(options, slots, rng, ctx.voice.never_says, used)
    if sentence is None:
        return None
    used.add(sentence)
    return _shape(sentence, ctx, 1000)  # type: ignore[arg-type]


def _memory(
    ctx: ProspectionContext,
    bank: InnerBank,
    chosen_lens: str,
    salient: Reading | None,
    slots: dict[str, str],
    rng: Random,
) -> str:
    mem = bank.memory
    used: set[str] = set()
    parts: list[tuple[int, str]] = []  # (priority, sentence), in reading order

    def add(priority: int, options: tuple[str, ...]) -> None:
        sentence = _say(ctx, options, slots, rng, used)
        if sentence:
            parts.append((priority, sentence))

    if not ctx.turns:
        add(0, mem.alone)
    elif ctx.spoke:
        add(0, mem.spoke if slots["my_topic"] else mem.spoke_plain)
    else:
        add(0, mem.listened)
    if salient is not None:
        add(1, mem.salient[salient.kind])  # type: ignore[index]
        if not parts or parts[-1][0] != 1:
            add(1, mem.salient["other"])
    add(2, mem.lens[chosen_lens])  # type: ignore[index]
    if ctx.spoke and slots["mine"] and rng.random() < 0.7:
        add(4, mem.own)
    if ctx.withheld and not (salient and salient.secret) and rng.random() < 0.85:
        add(3, mem.held_back)
    if slots["expected"]:
        add(5, mem.confirmed)
    if slots["anchor"] and rng.random() < 0.5:
        add(6, mem.anchor)
    else:
        add(6, mem.close[chosen_lens])  # type: ignore[index]

    limit = SENTENCES[ctx.voice.sentence_length]
    if ctx.mood.fatigue >= 0.7 or ctx.mood.energy <= 30:
        limit -= 1
    keep = sorted(range(len(parts)), key=lambda i: (parts[i][0], i))[: max(3, limit)]
    sentences = [tx.capitalize_sentences(parts[i][1]) for i in sorted(keep)]
    names = {tx.first_name(t.speaker_name) for t in ctx.turns} | {
        w for t in ctx.turns for w in t.speaker_name.split()
    }
    if rng.random() < 0.4:  # a tic now and then: it is still the character's own voice
        sentences = _apply_tic(sentences, ctx.voice.verbal_tics, rng, "", names)
    sentences = [s for s in sentences if not _banned(ctx, s)]
    if not sentences:  # everything was something this character never says
        sentences = [_say(ctx, mem.alone, slots, rng, set()) or tx.upper_first(slots["event"])]
    return " ".join(sentences)


def _banned(ctx: ProspectionContext, text: str) -> bool:
    return any(tx.contains_phrase(text, ban) for ban in ctx.voice.never_says)


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return round(max(low, min(high, value)), 2)


def _expectations(
    ctx: ProspectionContext,
    bank: InnerBank,
    chosen_lens: str,
    readings: list[Reading],
    salient: Reading | None,
    slots: dict[str, str],
    rng: Random,
) -> tuple[Expectation, ...]:
    m = ctx.mood
    dark = m.valence < 0.15 or chosen_lens == "threat"
    said = " ".join(t.content for t in ctx.turns)
    # (priority, template group, slots, likelihood, hope)
    options: list[tuple[float, str, dict[str, str], float, float]] = []
    bias = {
        "threat": {"secret_out": 1.0, "pressed": 0.8, "worse": 0.6},
        "people": {"person": 1.0, "better": 0.4},
        "decision": {"proposal": 1.0, "open_question": 0.8},
        "pride": {"pressed": 0.6, "proposal": 0.6},
    }.get(chosen_lens, {})

    def offer(kind: str, group: str, extra: dict[str, str], likelihood: float, hope: float) -> None:
        priority = 1.0 + bias.get(kind, 0.0) + rng.random() * 0.6
        options.append((priority, group, {**slots, **extra}, likelihood, hope))

    if ctx.withheld:
        touched = bool(salient and salient.secret)
        secret = slots["secret"]
        offer(
            "secret_out",
            "secret_out",
            {"secret": secret},
            0.3 + 0.3 * m.arousal + (0.2 if touched else 0.0),
            -(0.5 + 0.4 * m.arousal),
        )
    me = ctx.entity.entity_id
    for r in readings:
        pointed = r.kind in ("question", "challenge") and r.turn.addressed_to == me
        if pointed and not _answered_after(ctx, r.turn):
            offer(
                "pressed",
                "pressed",
                {"other": tx.first_name(r.turn.speaker_name), "topic": r.topic},
                0.55 + 0.2 * m.arousal,
                -(0.3 + 0.3 * max(0.0, -m.valence)),
            )
            break
    for r in readings:
        if r.turn.addressed_to != me and "?" in r.turn.content and not _answered_after(ctx, r.turn):
            offer("open_question", "open_question", {"topic": r.topic}, 0.5, -0.15)
            break
    for i, t in enumerate(ctx.turns):
        if t.speaker_id != me and _proposes(t.content):
            group = "proposal_bad" if dark else "proposal_good"
            offer(
                "proposal",
                group,
                {"other": tx.first_name(t.speaker_name), "topic": _turn_topic(ctx.turns, i)},
                0.45 + 0.3 * abs(m.valence),
                -0.35 if dark else 0.3 + 0.4 * max(0.0, m.valence),
            )
            break
    if dark:
        offer(
            "worse",
            "worse",
            {},
            0.5 + 0.3 * max(0.0, -m.valence) + 0.15 * m.arousal,
            -(0.3 + 0.5 * max(0.0, -m.valence)),
        )
    else:
        offer("better", "better", {}, 0.45 + 0.3 * m.valence, 0.2 + 0.6 * m.valence)
    if chosen_lens == "people" and slots["other"]:
        if dark:
            offer("person", "person_worry", {}, 0.45 + 0.2 * m.arousal, -(0.3 + 0.3 * m.arousal))
        else:
            offer("person", "person_turn", {}, 0.5 + 0.2 * m.valence, 0.2 + 0.4 * m.valence)
    fresh = [
        (topic, c)
        for c in ctx.concerns
        if _overlap(c.topic, said) == 0 and (topic := _subject(ctx, c.topic))
    ]
    if fresh:
        topic, top = fresh[0]
        offer("concern", "concern", {"concern": topic}, 0.35 + 0.5 * top.intensity, -0.5)

    count = 3 if (m.arousal >= 0.5 or chosen_lens in ("threat", "decision")) else 2
    people = _people(ctx)
    options.sort(key=lambda o: -o[0])
    out: list[Expectation] = []
    used: set[str] = set()
    about: set[str] = set()  # one expectation per subject
    for _, group, values, likelihood, hope in options:
        if len(out) >= count:
            break
        subject = {
            "secret_out": "secret",
            "concern": "concern",
            "worse": "event_topic",
            "better": "event_topic",
            "person_worry": "other",
        }.get(group, "topic")
        key = values.get(subject, "").lower()
        if not key or key in about:
            continue
        # Only templates written for this kind of topic: a person never "gets worse, not
        # better", a plan never "comes to a head"; with none that fits, one fewer expectation.
        topic = values[subject]
        kind = "condition" if topic == bank.fallback_topic else topic_kind(topic, people)
        if group == "person_worry":
            kind = "person"
        templates = bank.expect_templates(group, kind)
        if not templates:
            continue
        sentence = _say(ctx, templates, values, rng, used)
        if not sentence:
            continue
        about.add(key)
        out.append(
            Expectation(
                about=tx.capitalize_sentences(sentence),
                likelihood=_clamp(likelihood + rng.uniform(-0.07, 0.07), 0.05, 0.95),
                hope=_clamp(hope + rng.uniform(-0.05, 0.05), -1.0, 1.0),
            )
        )
    return tuple(out)


def _concerns(
    ctx: ProspectionContext,
    chosen_lens: str,
    salient: Reading | None,
    readings: list[Reading],
    slots: dict[str, str],
) -> tuple[Concern, ...]:
    m = ctx.mood
    found: list[tuple[str, float]] = []
    if ctx.withheld:
        touched = bool(salient and salient.secret)
        found.append((slots["secret"], 0.35 + 0.35 * m.arousal + 0.15 * touched))
    if salient is not None and salient.topic:
        pointed = salient.kind in ("challenge", "question", "secret")
        found.append((salient.topic, 0.3 + 0.3 * m.arousal + (0.2 if pointed else 0.0)))
    if chosen_lens == "people" and slots["other"]:
        found.append((slots["other"], 0.35 + 0.2 * m.arousal))
    if chosen_lens in ("threat", "pride") or m.valence < 0:
        found.append((slots["event_topic"], 0.25 + 0.4 * max(0.0, -m.valence) + 0.2 * m.arousal))
    if chosen_lens == "decision":
        for r in readings:
            if r.kind == "news" and r.topic:
                found.append((r.topic, 0.3 + 0.2 * m.arousal))
                break
    out: list[Concern] = []
    seen: list[set[str]] = []
    for topic, intensity in found:
        topic = _subject(ctx, topic)
        words = set(tx.content_words(topic))
        # "the backup generator's day tank" and "the generator's day tank" are one concern.
        if not words or any(words <= other or other <= words for other in seen):
            continue
        seen.append(words)
        out.append(Concern(topic=topic, intensity=_clamp(intensity, 0.05, 1.0)))
    return tuple(out[:3])


def _suppressed(
    ctx: ProspectionContext,
    bank: InnerBank,
    chosen_lens: str,
    salient: Reading | None,
    readings: list[Reading],
    slots: dict[str, str],
    rng: Random,
) -> str:
    m = ctx.mood
    me = ctx.entity.entity_id
    challenger = next(
        (r for r in readings if r.kind == "challenge" and r.turn.addressed_to == me), None
    )
    strained = next((r for r in readings if r.turn.emotional_tone in STRAINED), None)
    plans: list[tuple[str, dict[str, str]]] = []
    # A template naming the secret twice ("... about X when Y brought up X") is left out.
    apart = {"topic": ""} if slots["topic"] == slots["secret"] else {}
    if salient is not None and salient.secret:
        plans.append(("nearly_told", apart))
    if challenger is not None and m.valence < 0.3 and chosen_lens != "people":
        plans.append(
            (
                "snap",
                {"other": tx.first_name(challenger.turn.speaker_name), "topic": challenger.topic},
            )
        )
    if not ctx.spoke and ctx.turns:
        plans.append(("speak_up", {}))
    if chosen_lens == "people" and strained is not None:
        plans.append(("comfort", {"other": tx.first_name(strained.turn.speaker_name)}))
    if ctx.withheld and m.arousal >= 0.5:
        plans.append(("nearly_told", apart))
    if m.arousal >= 0.65:
        plans.append(("leave", {}))
    used: set[str] = set()
    for group, extra in plans:
        options = bank.suppressed[group]  # type: ignore[index]
        sentence = _say(ctx, options, {**slots, **extra}, rng, used)
        if sentence and not _banned(ctx, sentence):
            return tx.capitalize_sentences(sentence)
    return ""


def _anxiety(
    ctx: ProspectionContext,
    bank: InnerBank,
    chosen_lens: str,
    readings: list[Reading],
    expectations: tuple[Expectation, ...],
    rng: Random,
) -> float:
    m = ctx.mood
    me = ctx.entity.entity_id
    words = [p.strip().lower() for p in ctx.personality]
    pressed = any(
        r.kind in ("challenge", "question") and r.turn.addressed_to == me for r in readings
    )
    value = (
        0.1
        + 0.35 * m.arousal
        + 0.3 * max(0.0, -m.valence)
        + 0.1 * m.fatigue
        + 0.1 * m.pain
        + 0.06 * len(ctx.withheld)
        + (0.1 if pressed else 0.0)
        + 0.04 * sum(e.hope < -0.2 for e in expectations)
        + min(0.16, 0.08 * sum(w in bank.nervy for w in words))
        - min(0.2, 0.1 * sum(w in bank.calm for w in words))
        + (0.05 if chosen_lens == "threat" else 0.0)
    )
    value += rng.uniform(-0.03, 0.03)
    # Pressures add up, but anxiety saturates slowly instead of pinning at 1.
    return _clamp(value / (1.0 + 0.3 * max(0.0, value)))


def generate_prospection(ctx: ProspectionContext, rng: Random) -> ProspectionResponse:
    """The inner life of one character after a dialog, from the dialog itself."""
    bank = inner_bank()
    chosen = lens(ctx, bank)
    readings = read_turns(ctx, chosen, rng)
    salient = max(readings, key=lambda r: r.score) if readings else None
    slots = _slots(ctx, salient, rng)
    memory = _memory(ctx, bank, chosen, salient, slots, rng)
    expectations = _expectations(ctx, bank, chosen, readings, salient, slots, rng)
    concerns = _concerns(ctx, chosen, salient, readings, slots)
    suppressed = _suppressed(ctx, bank, chosen, salient, readings, slots, rng)
    anxiety = _anxiety(ctx, bank, chosen, readings, expectations, rng)
    return ProspectionResponse(
        memory=memory,
        expectations=expectations,
        new_concerns=concerns,
        suppressed_impulse=suppressed,
        anxiety=anxiety,
    )
