"""A fact put in spoken shape: said, not recited.

The gist comes first (the clause before a "though", "which" or a semicolon, or the first of
two clauses; the rest is kept for a later turn); a long clause is summed up, taken in two
breaths or given a short aside of the speaker's; a time phrase is sometimes put first, the
subject taken up by a pronoun ("the frost insurance — it lapsed"), plainer words used for a
casual voice, a condition said first and the perfect said as the past (``rephrase``). What
is heard is the speaker talking about the fact, not the scenario file read aloud. The point
of view (who is "I" and "you") is ``realise``'s part.
"""

from __future__ import annotations

import re
from functools import lru_cache
from random import Random

from . import rephrase as rp
from . import tense
from . import text as tx
from .realise import AUX, DETERMINERS, People, point_of_view, verbish

_BREAKS = (", though ", ", although ", ", which ", "; ", " — ", " -- ", ", while ", ", whereas ")
_JOINTS = (" and ", " because ", " but ", " although ", ", so ")


def _clause_joint(text: str) -> list[tuple[int, str]]:
    """Where two clauses of a long sentence meet ("… was cancelled and the tank holds …"):
    a joint with a verb on both sides, not one inside a list of things."""
    if len(text.split()) < 14:
        return []
    out = []
    for joint in _JOINTS:
        at = text.find(joint)
        while at > 0:
            head = text[:at].split()
            tail = text[at + len(joint) :].split()
            if (
                len(head) >= 5
                and len(tail) >= 4
                and any(verbish(w) for w in head[1:])
                and any(
                    verbish(w) and not w.endswith("ing") and tail[i - 1].lower() not in DETERMINERS
                    for i, w in enumerate(tail[:5])
                    if i
                )
                and len(tail[0].strip(",")) > 1  # "bays A and B only": one list
                and not tail[0].endswith("ing")  # "writing and signing": one action
                and not tail[0].endswith(",")  # "dated and signed, is valid": a list
                and not (head[-1].endswith("ed") and tail[0].endswith("ed"))
                and tail[1].lower() != "and"  # "you and Mattias and leaves": a list
            ):
                out.append((at, joint))
                break
            at = text.find(joint, at + 1)
    return out


_TIME_TAIL = re.compile(
    r",?\s+((?:at|on|by|before|after|since|until|in|next|last|this)\s+(?:[\w:,'’]+\s?){1,5})$"
)
_TIME_WORDS = re.compile(
    r"\b(?:\d{1,2}:\d{2}|noon|midnight|dawn|dusk|morning|evening|night|tonight|yesterday|"
    r"tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|"
    r"march|april|may|june|july|august|september|october|november|december|week|month|"
    r"year|\d{4})\b",
    re.IGNORECASE,
)


def say_fact(
    information: str,
    people: People,
    rng: Random,
    *,
    own: bool,
    casual: bool,
    contracted: bool = False,
    owner: str | None = None,
    said: str = "",
) -> tuple[str, str]:
    """A fact as the speaker says it: (gist, the rest kept back), both from the speaker's
    point of view, without a full stop. ``owner``: who told it (see ``point_of_view``);
    ``said``: the conversation so far, lower-cased (what it named is named short)."""
    text = tx.strip_end(tx.humanize(information))
    gist, rest = _split(text)
    gist = point_of_view(gist, people, own=own, owner=owner)
    rest = point_of_view(rest, people, own=own, owner=owner) if rest else ""
    if said:
        gist = _refer_back(gist, said, rng)
    if casual and rng.random() < 0.7:
        gist, rest = rp.perfect_to_past(gist), rp.perfect_to_past(rest) if rest else ""
    gist = _summarise(gist)
    fronted = rp.front_condition(gist) if rng.random() < 0.6 else gist
    gist = _break_long(fronted if fronted != gist else _front_time(gist, rng), rng)
    if rng.random() < 0.35:
        gist = _dislocate(gist)
    if casual:
        gist, rest = _plain(gist, rng), _plain(rest, rng) if rest else ""
    if casual or contracted:
        gist, rest = _spoken(gist, rng), _spoken(rest, rng) if rest else ""
    if casual or contracted:  # only a formal voice says "it is not" in full
        gist, rest = tx.contract(gist), tx.contract(rest) if rest else ""
    return tx.strip_end(gist), tx.strip_end(rest)


def _subject(tokens: list[str]) -> tuple[int, bool] | None:
    """Where a clause's subject ends (the index of its verb) and whether it is plural, when
    the subject is a plain noun phrase ("the two container cranes are …"); None for a
    name, a pronoun, a phrase with "of" or "and" in it, or no clear verb."""
    verb = next(
        (
            i
            for i, t in enumerate(tokens[:8])
            if i >= 2
            and (t.lower() in AUX or t.lower() in tx.common_verbs() or t.lower().endswith("ed"))
            # "the gangway count stopped": a verb right after means this one is a noun
            and (t.lower() in AUX or i + 1 >= len(tokens) or not verbish(tokens[i + 1]))
            # "the handwritten will leaves": a modal takes a bare verb, not "leaves"
            and not (t.lower() in _MODALS and i + 1 < len(tokens) and tokens[i + 1].endswith("s"))
        ),
        None,
    )
    if verb is None:
        return None
    while verb > 1 and tokens[verb - 1].lower() in _PRE_VERB:
        verb -= 1  # "the consortium never sent": the adverb goes with the verb
    subject = tokens[:verb]
    if subject[0].lower() not in DETERMINERS or any(w[:1].isupper() for w in subject[1:]):
        return None  # a pronoun already, or a name: nothing to take up
    if any(verbish(w) for w in subject[1:]):
        return None
    if any(w.lower() in ("and", "or", "of", "who", "that", ",") or w in _PREPS for w in subject):
        return None  # "the six trees in the top row": whose number is it?
    head = subject[-1].lower().strip(",")
    plural = head.endswith("s") and not head.endswith(("ss", "'s", "’s", "us"))
    verb_word = tokens[verb].lower()
    if verb_word in tense.base_verbs() and verb_word not in AUX and not plural:
        return None  # "the first wary talk of …": a bare verb after a singular is a noun
    if verb_word in ("are", "were", "have"):
        plural = True
    elif verb_word in ("is", "was", "has"):
        plural = False
    return verb, plural


def _dislocate(clause: str) -> str:
    """A long clause with its subject put first and taken up by a pronoun, as people do when
    they talk ("the frost insurance — it lapsed on March 2")."""
    tokens = clause.split(" ")
    found = _subject(tokens) if len(tokens) >= 9 else None
    if found is None:
        return clause
    verb, plural = found
    pronoun = "they" if plural else "it"
    return f"{' '.join(tokens[:verb])} — {pronoun} {' '.join(tokens[verb:])}"


def _refer_back(clause: str, said: str, rng: Random) -> str:
    """A subject the conversation has already named, named short the second time ("the two
    container cranes are paid for" -> "the cranes are paid for", or "they are …")."""
    tokens = clause.split(" ")
    found = _subject(tokens)
    if found is None or found[0] < 3:
        return clause
    verb, plural = found
    head = tokens[verb - 1].strip(",").lower()
    if len(head) < 4 or not re.search(rf"\b{re.escape(head)}\b", said):
        return clause
    short = ("they" if plural else "it") if rng.random() < 0.3 else f"the {head}"
    return " ".join([short, *tokens[verb:]])


def _summarise(clause: str, most: int = 13) -> str:
    """A long clause said the way people sum it up: trailing circumstances past ``most``
    words ("… at full load in the January cold") dropped, unless they hold a figure or a
    date, which is usually the point."""
    tokens = clause.split(" ")
    if len(tokens) <= most + 2:
        return clause
    for i in range(most, 5, -1):
        following = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        if tokens[i].lower() in _PREPS and following in DETERMINERS:
            if verbish(tokens[i - 1].strip(",")):
                continue  # "… in March, signing | with their mother's …": the verb needs it
            tail = " ".join(tokens[i:])
            if re.search(r"\d", tail) or _TIME_WORDS.search(tail) or _NUMBER_WORDS.search(tail):
                return clause  # a figure ("two to three degrees") is usually the point
            return " ".join(tokens[:i]).rstrip(",")
    return clause


def _break_long(clause: str, rng: Random) -> str:
    """A long clause taken in two breaths: "… measured minus 5.2 degrees — that's in the
    Basses Combes hollow during the April 1991 frost"."""
    tokens = clause.split(" ")
    if len(tokens) < 14:
        return clause
    middle = len(tokens) // 2
    spots = sorted(
        (
            i
            for i in range(6, len(tokens) - 3)
            if tokens[i].lower() in _PREPS
            and not tokens[i - 1].endswith(",")
            and not rp.holds_what_follows(tokens[i - 1])  # "signing — that's with", "due at"
            and tokens[i + 1].lower() != tokens[i - 1].lower()  # "side by side"
            and not (tokens[i].lower() == "to" and verbish(tokens[i + 1]))  # "enough to pay"
            and not _NUMBER_WORDS.fullmatch(tokens[i - 1].strip(","))  # "two to three"
            and not tokens[i - 1][:1].isdigit()
            and not rp.second_clause(tokens[i:])  # "… on April 15 and an assessor …"
            and any(verbish(t) for t in tokens[1:i])  # "the marks | on the wall were …"
        ),
        key=lambda i: abs(i - middle),
    )
    if not spots:
        return clause
    at = spots[0]
    from .library import talk_bank

    take_ups = talk_bank().take_ups
    take_up = take_ups[rng.randrange(len(take_ups))]
    return f"{' '.join(tokens[:at])} — {take_up} {' '.join(tokens[at:])}"


def _described(text: str) -> list[tuple[int, str]]:
    """Where a long sentence goes on to describe what it named ("… roughly 148,000 euros,
    payable within eight months"; "… 31,000 marks, due at Candlemas"): that part can be
    said afterwards, as "That's payable within eight months"."""
    if len(text.split()) < 12:
        return []
    for found in re.finditer(r", (\w+) (\w+)", text):
        word, second = found.group(1).lower(), found.group(2).lower()
        superlative = word == "the" and second.endswith("est") and len(second) > 4
        if len(text[: found.start()].split()) >= 6 and (describes(word) or superlative):
            return [(found.start(), ", ")]  # "…, the largest capacity": "That's the largest …"
    return []


def describes(word: str) -> bool:
    """A word that starts a description said after the thing ("payable", "due", "short")."""
    low = word.lower()
    return low in _DESCRIBING or (low.endswith(("able", "ible")) and len(low) > 5)


_DESCRIBING = frozenset("due worth short valid enough roughly nearly almost some not".split())


def _split(text: str) -> tuple[str, str]:
    """The gist and what can stand alone as a later sentence (a relative clause cannot)."""
    low = text.lower()
    found = [(low.find(b), b) for b in _BREAKS if low.find(b) > 20]
    if not found:
        found = _clause_joint(text)
    if not found:
        found = _described(text)
    if not found:
        return text, ""
    cut, mark = min(found)
    head, tail = text[:cut].rstrip(" ,;"), text[cut + len(mark) :].strip()
    if mark.strip(", ") in ("which", "whereas"):
        return head, ""
    if mark.strip(", ") in ("because", "so"):
        tail = f"{mark.strip(', ')} {tail}"  # the reason still needs its word
    elif tail and verbish(tail.split(" ", 1)[0]):
        words = head.split()
        verb = next((i for i, w in enumerate(words) if i >= 1 and verbish(w)), None)
        if verb is not None:  # "… and has told the nurse": the same subject told the nurse
            subject = " ".join(words[:verb])
            aux = words[verb] if words[verb].lower() in AUX - {"has", "have"} else ""
            first = tail.split(" ", 1)[0].lower()
            if aux and first not in AUX:  # "were taken … and sold": they were sold
                tail = f"{aux} {tail}"
            if words[0].lower() in DETERMINERS or words[0].lower() in _COMMON_STARTS:
                head_noun = words[verb - 1].lower()
                plural = head_noun.endswith("s") and not head_noun.endswith(("ss", "'s"))
                plural = plural or words[verb].lower() in ("are", "were", "have")
                subject = "they" if plural else "it"
            tail = f"{_lower_common(subject)} {tail}"
    return head, tail


def _lower_common(text: str) -> str:
    """The first word lower-cased when it is an ordinary word ("Six tonnes" -> "six
    tonnes"), not a name ("Marguerite opened") or "I"."""
    words = text.split(" ", 2)
    if len(words) < 2 or words[0] in ("I", "I'm", "I've", "I'd", "I'll") or words[0].isupper():
        return text
    first, second = words[0], words[1]
    if first[:1].isupper() and second[:1].islower() and first.lower() in _COMMON_STARTS:
        return first.lower() + text[len(first) :]
    return tx.lower_first(text)


_NUMBER_WORDS = re.compile(
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|sixty|hundred|thousand|million|half|dozen)\b",
    re.IGNORECASE,
)
_COMMON_STARTS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "hundred hundreds thousands dozens several many most some all both each every few half "
    "nobody everyone everybody someone somebody nothing everything something".split()
)


def _front_time(text: str, rng: Random) -> str:
    """Sometimes put a trailing time phrase first: "… at noon on Thursday" -> "At noon on
    Thursday, …"."""
    found = _TIME_TAIL.search(text)
    if not found or not _TIME_WORDS.search(found.group(1)) or rng.random() < 0.45:
        return text
    head = text[: found.start()].rstrip(" ,")
    if "," in head and len(head.rsplit(",", 1)[1].split()) < 3:
        return text  # "…, due | at Port Vasse", "…, issued | on March 8": the time is theirs
    if len(head.split()) < 4 or re.search(r"\b(?:that|who|when|because|if)\b", head):
        return text  # the time belongs to a clause inside: it cannot move to the front
    phrase = found.group(1).strip(" ,")
    second = phrase.split()[1].lower() if len(phrase.split()) > 1 else ""
    if second in _PREPS:
        return text  # "guiding ships in at midnight": the "in" belongs to the verb
    return f"{tx.upper_first(phrase)}, {_lower_common(head)}"


@lru_cache(maxsize=2)
def _pattern(table: str) -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    from .library import plain_words, spoken_words

    words = plain_words() if table == "plain" else spoken_words()
    keys = sorted(words, key=len, reverse=True)  # "more than" before "more"
    joined = "|".join(re.escape(k) for k in keys)
    return re.compile(rf"(?<![\w'’-])(?:{joined})(?![\w'’-])", re.IGNORECASE), words


def _swap(text: str, table: str, rng: Random, chance: float = 1.0) -> str:
    pattern, words = _pattern(table)

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        options = words.get(word.lower())
        if not options or rng.random() >= chance:
            return word
        before = match.string[: match.start()].split()[-1:]
        if word.lower().endswith("ed") and before and before[0].lower() in DETERMINERS:
            return word  # "the lapsed policy": an adjective, not "ran out"
        choice = options[rng.randrange(len(options))]
        return tx.upper_first(choice) if word[:1].isupper() else choice

    return pattern.sub(swap, text)


def _plain(text: str, rng: Random) -> str:
    """Plainer words where the voice is casual ("purchased" -> "bought")."""
    return _swap(text, "plain", rng)


def _spoken(text: str, rng: Random) -> str:
    """A fact's written words as people say them aloud ("the tank holds" -> "the tank has",
    "was cancelled" -> "was called off"), in any voice but a formal one."""
    return _swap(text, "spoken", rng, chance=0.8)


_PRE_VERB = frozenset("never also already just still only often always now finally not".split())
_OBJECTS = frozenset("it them him her us me you".split())
_MODALS = frozenset("will would can could shall should may might must".split())
_PREPS = frozenset("to from for at on in by with since until before after under".split())


def aside(clause: str, asides: tuple[str, ...], rng: Random) -> str:
    """A long clause with a short aside in its longest unbroken stretch ("the Minister will,
    I'm told, impose arbitration"; "picked, mind you, by 30 May"), after an auxiliary verb or
    before a preposition, whichever is nearer the stretch's middle: the way people break a
    long sentence when they talk."""
    tokens = clause.split(" ")
    if len(tokens) < 9 or not asides or "—" in tokens:
        return clause
    # the stretches between the breaks the clause already has
    cuts = [0] + [i + 1 for i, t in enumerate(tokens) if t.endswith(",") or t == "—"]
    stretches = [(a, b) for a, b in zip(cuts, [*cuts[1:], len(tokens)], strict=True)]
    start, stop = max(stretches, key=lambda s: s[1] - s[0])
    if stop - start < 8:
        return clause
    middle = (start + stop) // 2
    # after an auxiliary ("will, I'm told, impose"), never inside a negation ("does, mind
    # you, not") or a noun phrase ("a panel, and I mean this, at Kessington")
    spots = [
        i
        for i in range(start + 1, stop - 3)
        if tokens[i].lower() in AUX
        and (i == 0 or tokens[i - 1].lower() not in DETERMINERS)  # "a will written": a noun
        and tokens[i + 1].lower() not in ("not", "never", "of", "and", "or")
        and tokens[i + 1].lower() not in _PREPS  # "the registered will of 2019": a noun
        and tokens[i + 1].lower() not in DETERMINERS | _OBJECTS  # "had it wrong": the verb
    ]
    if not spots:
        return clause
    at = min(spots, key=lambda i: abs(i - middle))
    note = asides[rng.randrange(len(asides))]
    tokens[at] = f"{tokens[at].rstrip(',')}, {note},"
    return " ".join(tokens)
