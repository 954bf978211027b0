"""The offline dialog's realiser: a fact said from the speaker's point of view and in the
speaker's words, and the small grammar a sentence needs.

A scenario writes what people know in the third person ("Bastien used the premium on the
press; he told nobody"). Said by Bastien that is "I used the premium on the press; I told
nobody", to Bastien it is "you used …", and about anyone else it stays as written. Pronouns
follow the last person named (a fact of the speaker's own that names nobody is about the
speaker), verbs agree with their new subject, and a possessive stays a possessive.

How a fact is then put in spoken shape is ``spoken``'s part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import text as tx

# people: S the speaker, L the person addressed, O another named person
_MARK = "\x00"
_TOKEN = re.compile(r"\x00[SLO]|['’]s\b|\w+(?:['’]\w+)*(?::\d+)?|[^\w\s]|\s+")
_SUBJECT_LEADS = frozenset(
    "and but that when because if while so after before since until though although "
    "whether where once as".split()
)
_GENDER = {
    "he": "he",
    "him": "he",
    "his": "he",
    "himself": "he",
    "she": "she",
    "her": "she",
    "herself": "she",
}
_PRONOUN = {"he": "subject", "she": "subject", "him": "object", "his": "possessive"}
_REFLEXIVE = {"himself", "herself"}
_FORMS = {
    "S": {"subject": "I", "object": "me", "possessive": "my", "reflexive": "myself"},
    "L": {"subject": "you", "object": "you", "possessive": "your", "reflexive": "yourself"},
}
_AGREE = {
    "I": {"has": "have", "is": "am", "does": "do", "was": "was", "hasn't": "haven't"},
    "you": {"has": "have", "is": "are", "does": "do", "was": "were", "hasn't": "haven't"},
}
AUX = frozenset(
    "will would can could should must may might has have had is are was were does did shall".split()
)


@dataclass(frozen=True)
class People:
    """Who is who in a turn: the speaker, the person addressed and everyone else named."""

    speaker: tuple[str, ...]
    listener: tuple[str, ...] = ()
    others: tuple[str, ...] = ()
    speaker_is: str | None = None  # "he" or "she" when the speaker's description says

    @classmethod
    def of(
        cls, speaker: str, listener: str | None, others: tuple[str, ...], description: str = ""
    ) -> People:
        """Everyone's forms of address; a surname alone counts when nobody else has it."""
        cast = [speaker, *([listener] if listener else []), *others]
        surnames = [n.split()[-1] for n in cast if len(n.split()) >= 2]

        def forms(name: str) -> tuple[str, ...]:
            found = _forms(name)
            last = name.split()[-1] if len(name.split()) >= 2 else ""
            plain = last.isalpha() and not last.isupper() and len(last) >= 3
            if plain and last[:1].isupper() and surnames.count(last) == 1:
                found = (*found, last)
            return tuple(sorted(set(found), key=len, reverse=True))

        return cls(
            forms(speaker),
            forms(listener) if listener else (),
            tuple(others),
            _pronoun_of(description),
        )


def _pronoun_of(description: str) -> str | None:
    """ "he" or "she", when a description speaks of its person one way only."""
    low = f" {description.lower()} "
    male = len(re.findall(r"\b(?:he|him|his|himself)\b", low))
    female = len(re.findall(r"\b(?:she|her|hers|herself)\b", low))
    if male and not female:
        return "he"
    if female and not male:
        return "she"
    return None


def _forms(name: str) -> tuple[str, ...]:
    parts = name.split()
    forms = {name, tx.first_name(name)}
    if len(parts) >= 2 and parts[-1][:1].isupper():
        surname = parts[-1]
        forms |= {f"{t} {surname}" for t in ("Mr", "Mrs", "Ms", "Miss", "Dr", "Dr.", "Mr.")}
    return tuple(sorted(forms, key=len, reverse=True))


def _marked(text: str, people: People) -> tuple[str, list[str]]:
    """The text with every name replaced by a mark (S the speaker, L the person addressed,
    O anyone else), longest names first; the other people's names in order of appearance."""
    table = {n: "S" for n in people.speaker}
    table.update({n: "L" for n in people.listener if n not in table})
    for other in people.others:
        table.update({n: "O" for n in _forms(other) if n not in table})
    names = sorted((n for n in table if n), key=len, reverse=True)
    if not names:
        return text, []
    others: list[str] = []

    def mark(found: re.Match[str]) -> str:
        name = found.group(0)
        if " " not in name:  # one word of a longer proper name: "the Weil Lake Company"
            after = found.string[found.end() : found.end() + 2]
            before = found.string[max(0, found.start() - 4) : found.start()]
            if re.match(r" [A-Z]", after) or before.lower() == "the ":
                return name
        who = table[name]
        if who == "O":
            others.append(found.group(0))
        return _MARK + who

    pattern = "|".join(re.escape(n) for n in names)
    return re.sub(rf"(?<!\w)(?:{pattern})(?!\w)", mark, text), others


def point_of_view(text: str, people: People, *, own: bool = False, owner: str | None = None) -> str:
    """``text`` as the speaker says it to the person addressed. ``own``: the fact is the
    speaker's own (a pronoun before anyone is named is the speaker); ``owner``: whose fact it
    was (who told it), whom a pronoun before anyone is named means."""
    if owner and not own:
        if owner in people.listener:
            return _owned_by_listener(text, people)
        text = _name_first_pronoun(text, owner, people)
    marked, others = _marked(text, people)
    tokens = _TOKEN.findall(marked)
    words = [i for i, t in enumerate(tokens) if not t.isspace()]
    referent = "S" if own else None
    seen: list[str] = []  # the people named so far, in order
    clause_subject: str | None = None
    out = list(tokens)
    subject_of: dict[int, str] = {}  # position of a new subject -> "I" or "you"
    other = iter(others)
    for pos, i in enumerate(words):
        token = tokens[i]
        before = tokens[words[pos - 1]].lower() if pos else ""
        after = tokens[words[pos + 1]] if pos + 1 < len(words) else ""
        if before in (".", "!", "?", ";", ":") or before in _SUBJECT_LEADS:
            clause_subject = None
        if token.startswith(_MARK):
            who = referent = token[1]
            seen.append(who)
            if who == "O":
                out[i] = next(other)
                if _subject_slot(before, after):
                    clause_subject = "O"
            elif after in ("'s", "’s"):
                out[i] = _FORMS[who]["possessive"]
                out[words[pos + 1]] = ""
            elif _subject_slot(before, after):
                out[i] = subject_of[pos] = _FORMS[who]["subject"]
                clause_subject = who
            else:
                out[i] = _FORMS[who]["object"]
            continue
        low = token.lower()
        if _someone_else(token, before, after, tokens, words, pos):
            referent = "O"  # "… Agnes Vos writing …": a person outside the conversation
            seen.append("O")
            continue
        if not (low in _PRONOUN or low in _REFLEXIVE or low == "her"):
            continue
        if low in _REFLEXIVE:
            role = "reflexive"
        elif low == "her":
            role = "possessive" if _noun_follows(after) else "object"
        else:
            role = _PRONOUN[low]
        target = referent
        if role == "object" and target is not None and target == clause_subject:
            # "Odile thinks Bastien is lying to her": her is not Bastien
            earlier = [w for w in seen if w != clause_subject]
            target = earlier[-1] if earlier else ("S" if own and target != "S" else None)
        if target not in ("S", "L"):
            continue
        if (
            target == "S"
            and people.speaker_is
            and _GENDER.get(low) not in (None, people.speaker_is)
        ):
            continue  # "her children", said by a man: not his
        word = _FORMS[target][role]
        out[i] = tx.upper_first(word) if token[:1].isupper() else word
        if role == "subject":
            subject_of[pos] = word
            clause_subject = target
    for pos, subject in subject_of.items():
        _agree(out, words, pos, subject)
        _agree_coordinated(out, words, pos, subject)
    result = "".join(out)
    result = re.sub(r"\s+(?=[,.;:!?])", "", re.sub(r"  +", " ", result))
    result = _fix_start(result)
    return tx.upper_first(result) if text[:1].isupper() else result  # the case it began with


def _someone_else(
    token: str, before: str, after: str, tokens: list[str], words: list[int], pos: int
) -> bool:
    """A capitalised first and last name inside a sentence, doing something: a person."""
    if not (token[:1].isupper() and token.isalpha() and after[:1].isupper() and after.isalpha()):
        return False
    if not before or before in (".", "!", "?", ":", "the", "a", "an", "of"):
        return False
    following = tokens[words[pos + 2]] if pos + 2 < len(words) else ""
    return verbish(following) or following in ("'s", "’s")


def _owned_by_listener(text: str, people: People) -> str:
    """A fact the person addressed told: its leading pronouns are them ("you")."""
    swapped = People(people.listener, people.speaker, people.others)
    mine = point_of_view(text, swapped, own=True)  # as the listener would say it...
    said = point_of_view(_first_to_second(mine), people)  # ...then turned to "you"
    return tx.upper_first(said) if text[:1].isupper() else said


_TO_SECOND = {"I": "you", "me": "you", "my": "your", "myself": "yourself", "am": "are"}


def _first_to_second(text: str) -> str:
    def swap(found: re.Match[str]) -> str:
        word = found.group(0)
        return _TO_SECOND.get(word, word)

    text = re.sub(r"\bI am\b", "you are", text)
    text = re.sub(r"\bI was\b", "you were", text)
    return re.sub(r"\b(?:I|me|my|myself)\b", swap, text)


def _name_first_pronoun(text: str, owner: str, people: People) -> str:
    """A leading pronoun with nobody named before it is the one who told the fact."""
    first = tx.first_name(owner)
    found = re.search(r"\b(?:he|she|him|her|his)\b", text, flags=re.IGNORECASE)
    if found is None:
        return text
    named_before = any(
        n and n in text[: found.start()] for n in (*people.speaker, *people.listener, owner)
    ) or re.search(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+", text[: found.start()])
    if named_before:
        return text
    word = found.group(0).lower()
    after = text[found.end() :].lstrip().split(" ", 1)[0]
    replacement = (
        f"{first}'s" if word == "his" or (word == "her" and _noun_follows(after)) else first
    )
    return text[: found.start()] + replacement + text[found.end() :]


def _subject_slot(before: str, after: str) -> bool:
    """A name is a subject at the start of a clause or when a verb follows it."""
    if not before or before in (".", "!", "?", ";", ":", ",", "(") or before in _SUBJECT_LEADS:
        return True
    low = after.lower()
    return low in AUX or (low in tx.common_verbs() and low not in ("to", "that"))


def _noun_follows(word: str) -> bool:
    low = word.lower()
    if not low or not low[:1].isalpha():
        return False
    return not (low in tx.STOPWORDS or low.endswith("ly") or low in tx.common_verbs())


def _agree(out: list[str], words: list[int], pos: int, subject: str) -> None:
    """The verb after a new subject agrees with it ("I has" -> "I have"), an adverb or a
    "not" in between allowed, or an aside between commas ("I, out with a thermos, admit")."""
    if pos + 1 < len(words) and out[words[pos + 1]] == ",":
        close = next(
            (k for k in range(pos + 2, min(pos + 10, len(words))) if out[words[k]] == ","), None
        )
        if close is not None:
            pos = close
    for step in (1, 2):
        if pos + step >= len(words):
            return
        j = words[pos + step]
        verb = out[j]
        low = verb.lower()
        table = _AGREE[subject]
        if low in table:
            out[j] = table[low]
            return
        if low.endswith("s") and low in tx.common_verbs() and low != tx.base_verb(low):
            base = tx.base_verb(low)
            if base in tx.common_verbs():
                out[j] = base
            return
        if not (low.endswith("ly") or low in ("not", "never", "also", "still", "already")):
            return


def _agree_coordinated(out: list[str], words: list[int], pos: int, subject: str) -> None:
    """A second verb of the same subject agrees too ("I have had … and has told" -> "and
    have told"), up to where another clause starts."""
    for k in range(pos + 2, len(words) - 1):
        token = out[words[k]].lower()
        if token in (".", ";", "!", "?", ":") or token in _SUBJECT_LEADS - {"and"}:
            return
        if token in ("i", "you", "he", "she", "they", "we", "it") or token.startswith(_MARK):
            return
        if token == "and":
            _agree(out, words, k, subject)


def _fix_start(text: str) -> str:
    return "I" + text[1:] if text[:2] in ("i ", "i'") else text


DETERMINERS = frozenset(
    "the a an this that these those his her their its our my your every each no some two "
    "three four five six seven eight nine ten eleven twelve".split()
)


def verbish(word: str) -> bool:
    low = word.lower().strip(",")
    return low in AUX or low in tx.common_verbs() or (low.endswith("ed") and len(low) > 4)
