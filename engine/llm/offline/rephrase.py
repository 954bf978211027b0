"""A clause turned round the way people say it, so a fact is told and not recited.

- A condition or a time said first: "they will move to Kessington if the port is not
  working" -> "if the port is not working, they will move to Kessington"; "the weight jams
  when the cable jumps" -> "when the cable jumps, the weight jams".
- The perfect said as the plain past in a casual voice: "Helioterra has offered" ->
  "Helioterra offered", "she has written a will" -> "she wrote a will". Not where the perfect
  is needed ("since March", "ever", "yet", "so far"), nor in a negation.

Both keep every word of the fact; only the order and the verb's form change. Irregular
participles are data (``engine/data/offline/verbs.json``, ``participle``).
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from .library import verb_table
from .possessive import swap_at
from .realise import AUX, DETERMINERS, verbish

_CONDITIONS = ("if", "unless", "when", "once", "because", "as soon as")
_NOT_AFTER = frozenset("as even only what and or but".split())  # "as if", "even if", "and when"
_ASKING = frozenset(
    "ask asks asked know knows knew wonder wonders wondered see sees saw check checks checked "
    "tell tells told say says said remember remembers remembered decide decides decided sure "
    "unclear clear doubt doubts doubted whether matter matters".split()
)
_OPENERS = frozenset(
    "the a an this that these those his her their its our my your it they we he she i you "
    "there every each no some any both all nobody someone anyone everyone several many most "
    "few two three four five six seven eight nine ten twelve twenty thirty forty fifty "
    "hundred hundreds".split()
)


def front_condition(clause: str) -> str:
    """The condition or time clause at the end of ``clause`` said first, when both halves are
    whole clauses; else ``clause`` unchanged."""
    tokens = clause.split(" ")
    low = [t.lower() for t in tokens]
    for i in range(4, len(tokens) - 3):
        word = low[i]
        span = 3 if word == "as" and low[i : i + 3] == ["as", "soon", "as"] else 1
        lead = " ".join(low[i : i + span])
        if lead not in _CONDITIONS:
            continue
        before = low[i - 1].strip(",")
        if before in _NOT_AFTER or before in _ASKING:
            return clause  # "even if", or "asked if": a question's content, not a condition
        head, tail = tokens[:i], tokens[i + span :]
        if any(t in (",", "—", "–") or t.endswith((",", ";")) for t in tail[:-1]):
            return clause  # more than one clause follows: it does not move whole
        if tail[0].lower() not in _OPENERS and not tail[0][:1].isupper():
            return clause  # "when ready", "if possible": not a clause with its own subject
        if not _has_verb(tail) or not _has_verb(head):
            return clause
        if any(t.lower() in ("if", "when", "because", "that", "who", "which") for t in head):
            return clause  # the head has a clause of its own inside: leave it
        main = " ".join(head).rstrip(",")
        if main[:1].isupper() and head[0].lower() in _OPENERS:  # a name keeps its capital
            main = main[:1].lower() + main[1:]
        return f"{lead} {' '.join(tail)}, {main}"
    return clause


def _has_verb(tokens: list[str]) -> bool:
    """A known verb, or a word in -s after the first word ("the weight jams")."""
    return any(
        verbish(t) or (t.endswith("s") and not t.endswith("ss") and t.islower()) for t in tokens[1:]
    )


def _participles() -> dict[str, str]:
    return verb_table()["participle"]


@lru_cache(maxsize=1)
def _same_as_past() -> frozenset[str]:
    """Irregular forms that are both the past and the participle ("paid", "told")."""
    data = verb_table()
    pasts = set(data["past"].values())
    return frozenset(pasts & set(data["irregular"])) - {"was", "were", "am", "are"}


_NEEDS_PERFECT = re.compile(r"\b(?:since|ever|yet|so far|never|not|n't|lately|recently)\b")
_ADVERBS = frozenset("already just also now finally".split())


def perfect_to_past(clause: str) -> str:
    """ "has offered" -> "offered", "have been" -> "were", "has written" -> "wrote"; the
    clause unchanged where the perfect is needed."""
    if _NEEDS_PERFECT.search(clause.lower()):
        return clause
    tokens = clause.split(" ")
    out: list[str] = []
    i = 0
    participles, same = _participles(), _same_as_past()
    while i < len(tokens):
        token = tokens[i]
        low = token.lower()
        if low in ("has", "have") and i > 0 and i + 1 < len(tokens):
            j = i + 1
            adverb = tokens[j] if tokens[j].lower() in _ADVERBS else ""
            if adverb:
                j += 1
            if j < len(tokens):
                word = tokens[j]
                bare = word.lower().rstrip(",.;")
                tail = word[len(bare) :]
                past = None
                if bare == "been":
                    past = "was" if low == "has" or tokens[i - 1] == "I" else "were"
                elif bare in participles:
                    past = participles[bare]
                elif bare in same or (len(bare) > 4 and bare.endswith("ed") and verbish(bare)):
                    past = bare
                if past is not None and word[:1].islower():
                    out.extend([adverb] if adverb else [])
                    out.append(past + tail)
                    i = j + 1
                    continue
        out.append(token)
        i += 1
    return " ".join(out)


_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_RECITED = 8  # this many words in a row from the written fact is reciting it
_PREPS = frozenset("to from for at on in by with since until before after under within".split())


def _grams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + _RECITED]) for i in range(len(words) - _RECITED + 1)}


def _recited(tokens: list[str], written: set[tuple[str, ...]]) -> tuple[int, int] | None:
    """The longest stretch of ``tokens`` (start, end) said word for word as it is written."""
    flat = [(k, w) for k, t in enumerate(tokens) for w in _WORD.findall(t.lower())]
    words = [w for _, w in flat]
    covered: set[int] = set()
    for i in range(len(words) - _RECITED + 1):
        if tuple(words[i : i + _RECITED]) in written:
            covered.update(flat[j][0] for j in range(i, i + _RECITED))
    if not covered:
        return None
    stretches: list[tuple[int, int]] = []
    for k in sorted(covered):
        if stretches and stretches[-1][1] == k:
            stretches[-1] = (stretches[-1][0], k + 1)
        else:
            stretches.append((k, k + 1))
    return max(stretches, key=lambda s: s[1] - s[0])


def holds_what_follows(word: str) -> bool:
    """A word that needs the phrase after it ("paid for", "due at", "ever since",
    "payable within"): no breath goes between them."""
    low = word.lower().strip(",")
    return (
        verbish(low)
        or low.endswith(("able", "ible", "ed", "due", "ly"))
        or low in _HOLDS_ITS_PREPOSITION
    )


def breathe(
    clause: str,
    written: str,
    rng: random.Random,
    *,
    asides: tuple[str, ...],
    take_ups: tuple[str, ...],
    words: dict[str, tuple[str, ...]] | None = None,
    joins: tuple[str, ...] = (),
) -> str:
    """``clause`` with no stretch of eight words said exactly as ``written`` has them: a long
    stretch is taken in breaths, as people do when they talk, with a take-up before a
    preposition ("… valued at 1.24 million — that's within eight months") or an aside after an
    auxiliary ("would, mind you, be roughly …"), or said in the voice's own words (``words``:
    "holds" -> "contains" in a formal voice, "was due to" -> "was supposed to" in another), or
    a second action joined with "and also", the last thing of a list joined in the voice's way
    (``joins``: "…, plus the use of"), nearest the middle of the stretch. Gives up
    (leaving the clause as it is) where no such place is found."""
    source = _grams(_WORD.findall(written.lower()))
    if not source:
        return clause
    table = words or {}
    done: set[str] = set()  # one breath of each kind: two take-ups in a clause is a stammer
    for _ in range(4):
        tokens = clause.split(" ")
        stretch = _recited(tokens, source)
        if stretch is None:
            return clause
        start, end = stretch
        middle = (start + end) / 2
        spots: list[tuple[float, int, str]] = []
        if table and "word 2" not in done:  # two of the voice's own words at most
            spots += _rewordings(tokens, start, end, table)
        taken_up = _long_subject(tokens) if "subject" not in done and "—" not in tokens else None
        if taken_up is not None and start <= taken_up[0] <= end:
            spots.append((abs(taken_up[0] - middle) + 0.5, taken_up[0], "subject"))
        for p in range(max(start - 1, 0), end - 2):
            if "name" not in done and _named_thing(tokens, p):
                spots.append((abs(p - middle) + 0.25, p, "name"))
            if "owner" not in done and swap_at(tokens, p) is not None:
                spots.append((abs(p - middle) + 0.4, p, "owner"))
        for p in range(start + 1, end - 1):
            here, after = tokens[p].lower(), tokens[p + 1]
            if here == "and" and joins and "list" not in done and _ends_a_list(tokens, p):
                spots.append((abs(p - middle) + 0.5, p, "list"))
            if (
                here == "and"
                and "joint" not in done
                and after.lower() not in ("also", "then", "so", "not")
                and verbish(after)  # a second action ("paid for and also lashed")
                and not _pair(tokens[p - 1], after)  # "dated and signed": one thing
                and not tokens[p - 1][:1].isdigit()
                and tokens[p - 1].lower() not in DETERMINERS
            ):
                spots.append((abs(p - middle) + 0.5, p, "joint"))
        for p in range(start + 2, end - 1):
            before, here = tokens[p - 1], tokens[p].lower()
            if before.endswith((",", ";")) or before in ("—", "–"):
                continue
            if p + 1 < len(tokens) and tokens[p + 1].lower() == before.lower():
                continue  # "side by side", "day after day": one phrase
            needs_it = holds_what_follows(before)
            after = tokens[p + 1] if p + 1 < len(tokens) else ""
            circumstance = (
                here in _CIRCUMSTANCE
                and before.lower().strip(",") not in _TIME_WORDS
                and (
                    after.lower() in DETERMINERS | _TIME_WORDS
                    or after[:1].isdigit()
                    or after[:1].isupper()
                )
            )
            has_verb = any(verbish(t) for t in tokens[1:p])  # "the marks | on the wall were"
            if (
                circumstance
                and not needs_it
                and take_ups
                and "—" not in tokens
                and has_verb
                and not second_clause(tokens[p:])
            ):
                spots.append((abs(p - middle), p, "take_up"))
            elif (
                before.lower() in _AUX_BREAK
                and (p < 2 or tokens[p - 2].lower() not in DETERMINERS)  # "a will written"
                and here not in ("not", "never", "of", "and", "or")
                and here not in _PREPS  # "the registered will of 2019": a noun
                and here not in _MAIN_VERB_NEXT  # "had it wrong": "had" is the verb
                and asides
                and "aside" not in done
                and not any(f", {a}," in clause for a in asides)  # one aside to a clause
                and "," not in clause.split(before, 1)[-1][:2]
            ):
                spots.append((abs(p - middle), p, "aside"))
        if not spots:
            return clause
        _, p, kind = min(spots)
        done.add(kind)
        if kind.startswith("word:"):
            done.add("word 2" if "word" in done else "word")
            said = kind[5:]
            span = len(said.removesuffix(" #").split(" "))
            choices = table[said.lower()]
            choice = choices[rng.randrange(len(choices))]
            if tokens[p][:1].isupper():
                choice = choice[:1].upper() + choice[1:]
            tail = tokens[p + span - 1][len(tokens[p + span - 1].rstrip(",;")) :]
            clause = " ".join([*tokens[:p], choice + tail, *tokens[p + span :]])
            continue
        if kind == "subject":  # "the lifebelt locker on the upper deck — it was padlocked"
            pronoun = taken_up[1]  # type: ignore[index]
            clause = " ".join([*tokens[:p], "—", pronoun, *tokens[p:]])
            continue
        if kind == "owner":  # "the back wall of rack C" -> "rack C's back wall"
            span, phrase = swap_at(tokens, p)  # type: ignore[misc]
            clause = " ".join([*tokens[:p], *phrase, *tokens[p + span :]])
            continue
        if kind == "name":  # "the freighter Halvard" -> "the Halvard"
            clause = " ".join([*tokens[: p + 1], *tokens[p + 2 :]])
            continue
        if kind == "list":  # "the cottage and the use of" -> "the cottage, plus the use of"
            join = joins[rng.randrange(len(joins))]
            head = tokens[p - 1].rstrip(",")
            clause = " ".join([*tokens[: p - 1], f"{head},", join, *tokens[p + 1 :]])
            continue
        if kind == "joint":
            after = tokens[p + 1].lower()
            if after.endswith("ed") or after in _participles() or after in _same_as_past():
                # "taken out in August and sold" -> "taken out in August, then sold"
                head = tokens[p - 1].rstrip(",")
                clause = " ".join([*tokens[: p - 1], f"{head},", "then", *tokens[p + 1 :]])
            else:  # "holds the key and keeps it" -> "holds the key and also keeps it"
                clause = " ".join([*tokens[: p + 1], "also", *tokens[p + 1 :]])
            continue
        if kind == "take_up":
            words = [*tokens[:p], "—", take_ups[rng.randrange(len(take_ups))], *tokens[p:]]
        else:
            fitting = [a for a in asides if a.split()[-1].lower() != tokens[p].lower()]
            note = fitting[rng.randrange(len(fitting))] if fitting else asides[0]
            words = [*tokens[: p - 1], f"{tokens[p - 1]}, {note},", *tokens[p:]]
        clause = " ".join(words)
    return clause


def second_clause(tail: list[str]) -> bool:
    """A clause of its own after an "and" in ``tail`` ("… on April 15 and an assessor
    inspects"): a take-up before it would make that clause part of the time."""
    cut = next((i for i, w in enumerate(tail) if w.endswith((",", ";"))), len(tail))
    tail = tail[: cut + 1]  # after a comma, a clause of its own is its own
    return any(
        w.lower() in ("and", "or", "but")
        and any(
            verbish(x) or (j > 1 and x.islower() and x.endswith("s") and not x.endswith("ss"))
            for j, x in enumerate(tail[k + 1 : k + 5])
        )  # "and gave up", "and an assessor inspects": an -s word after a noun is a verb
        for k, w in enumerate(tail)
    )


_PLURAL_AUX = frozenset("are were have".split())
_SINGULAR_AUX = frozenset("is was has".split())


def _long_subject(tokens: list[str]) -> tuple[int, str] | None:
    """Where a long subject with a place or a part in it ends ("the lifebelt locker on the
    upper deck | was padlocked", "three ice haulers on the Tycho run | are due"): (the index
    of its verb, the pronoun that takes it up), so it can be said first and taken up, as
    people do ("… on the upper deck — it was padlocked"). None for any other clause."""
    first = tokens[0].lower() if tokens else ""
    if first not in DETERMINERS and not first[:1].isdigit():
        return None
    in_phrase = False  # inside "on the Tycho run": its words are nouns, whatever else
    for p, token in enumerate(tokens[:14]):
        low = token.lower()
        if low.rstrip(",") in AUX and p >= 5:
            low = low.rstrip(",")  # "… are, believe me, scheduled": the aside comes after
        in_phrase = in_phrase or low in _PREPS
        if (token.endswith((",", ";")) and low not in AUX) or (
            p and verbish(low) and low not in AUX and not in_phrase
        ):
            return None  # a clause break or a verb before any auxiliary: not a plain subject
        if low in AUX and p >= 5:
            subject = [t.lower() for t in tokens[1:p]]
            if set(subject) & {"who", "which", "that", "whose", "and", "or"}:
                return None  # a clause or a list inside: whose verb is it?
            prep = next((i for i, t in enumerate(subject) if t in _PREPS), None)
            if prep is None or prep == 0:
                return None
            head = subject[prep - 1]
            if low in _PLURAL_AUX:
                return p, "they"
            if low in _SINGULAR_AUX:
                return p, "it"
            plural = head.endswith("s") and not head.endswith(("ss", "'s", "’s", "us"))
            return p, "they" if plural else "it"
        if low in AUX:
            return None
    return None


def _pair(before: str, after: str) -> bool:
    """Two words of one kind either side of an "and" ("dated and signed", "writing and
    signing"): a pair said together, not two actions."""
    a, b = before.lower().strip(","), after.lower().strip(",")
    return any(a.endswith(x) and b.endswith(x) for x in ("ed", "ing", "en"))


_OWNERS = frozenset("the a an his her their its our my your this that".split())


def _ends_a_list(tokens: list[str], p: int) -> bool:
    """``tokens[p]`` is the "and" before the last thing of a list ("the cottage and the use
    of the north slope"), not one that joins two clauses ("… and the log entry is false")."""
    if p < 2 or p + 2 >= len(tokens) or tokens[p + 1].lower() not in _OWNERS:
        return False
    if tokens[p - 1].endswith((",", ";")) or tokens[p - 1].lower() in _OWNERS:
        return False
    before, after = {t.lower() for t in tokens[max(0, p - 6) : p]}, " ".join(tokens[p:]).lower()
    if before & {"between", "both", "either", "neither"} or any(
        w in after for w in ("side by side", "together", "each other", "one another", "alike")
    ):
        return False  # "between A and the B", "A and the B side by side": one pair
    # the word after the determiner is its noun ("the use of"), whatever else it can be
    return not any(verbish(t) for t in tokens[p + 3 : p + 9])


_TITLES = frozenset("dr mr mrs ms sister captain commander father mother doctor judge".split())


def _named_thing(tokens: list[str], p: int) -> bool:
    """``tokens[p:]`` is "the" + a common noun + a name that is the thing's own ("the
    freighter Halvard", "the schooner Marguerite Ann"): said with the name alone."""
    if tokens[p].lower() != "the" or p + 2 >= len(tokens):
        return False
    noun, name = tokens[p + 1], tokens[p + 2]
    if not noun.isalpha() or not noun.islower() or not name[:1].isupper() or len(noun) < 4:
        return False
    if name.lower().strip(",") in _TITLES or not name.strip(",.").isalpha():
        return False
    k = p + 2  # the name's last word
    while k + 1 < len(tokens) and tokens[k + 1][:1].isupper() and not tokens[k].endswith(","):
        k += 1
    last, after = tokens[k], tokens[k + 1] if k + 1 < len(tokens) else ""
    if last.endswith(("'s", "’s")):
        return False  # "the cider house Tolbeck's": whose?
    # the name ends the noun phrase: nothing after it but a break, a preposition or a verb
    nxt = after.lower()
    return not nxt or last.endswith(",") or nxt in _PREPS or nxt in ("and", "or") or verbish(nxt)


_NUMBERS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty "
    "forty fifty sixty hundred a half".split()
)


def _figure(word: str) -> bool:
    """An amount ("seven", "31,000"), not a year ("about 1790 …")."""
    if re.fullmatch(r"1[5-9]\d\d|20\d\d", word.strip(",.")):
        return False
    return word[:1].isdigit() or word.lower().split("-")[0] in _NUMBERS


def _rewordings(
    tokens: list[str], start: int, end: int, words: dict[str, tuple[str, ...]]
) -> list[tuple[float, int, str]]:
    """Where a word (or a phrase of up to three) of the stretch has the voice's own word:
    (distance from the middle, index, "word:" + the phrase as written)."""
    middle = (start + end) / 2
    out: list[tuple[float, int, str]] = []
    for p in range(start, end):
        for span in (3, 2, 1):
            if p + span > end:
                continue
            parts = tokens[p : p + span]
            if any(t.endswith((",", ";")) for t in parts[:-1]):
                continue
            phrase = " ".join(parts).rstrip(",;")
            following = tokens[p + span] if p + span < len(tokens) else ""
            if p > 0 and tokens[p - 1].lower() in _FIXED_BEFORE:
                break  # "no more than", "any more than", "not more than": said as written
            if f"{phrase.lower()} #" in words and _figure(following):
                out.append((abs(p + span / 2 - middle) - 0.25, p, f"word:{phrase.lower()} #"))
                break
            if phrase.lower() in words:
                out.append((abs(p + span / 2 - middle) - 0.25, p, f"word:{phrase.lower()}"))
                break
    return out


_FIXED_BEFORE = frozenset("no not any".split())  # they make a fixed phrase of the next words

# a take-up goes before a time or a place said after a whole clause, never before "to" (an
# infinitive, "enough to pay"), nor inside a time ("before midnight on April 15")
_CIRCUMSTANCE = frozenset("at on in by before after within during".split())
_TIME_WORDS = frozenset(
    "midnight noon dawn dusk morning evening night today tonight yesterday tomorrow week month "
    "year monday tuesday wednesday thursday friday saturday sunday".split()
)
_HOLDS_ITS_PREPOSITION = frozenset(
    "ever soon long just right away back up down out off far well even only".split()
)
_MAIN_VERB_NEXT = frozenset(
    "it them him her us me you the a an this that these those his their my our your its".split()
)
_AUX_BREAK = frozenset(
    "is are was were will would can could should must might has have had".split()
)
