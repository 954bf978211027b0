"""A scene told in the narrative present ("Madison watches the others and says little"), as
someone who saw it tells it afterwards ("Madison watched the others and said little").

Only finite verbs change: a known or regular ``-s`` form after its subject (a name, a
pronoun, "who", a noun, or "and" after a verb already turned), a plain form after a plural
subject ("each come away"), and "is"/"are"/"has". Words after "to", a modal or a determiner
stay as they are, so nouns such as "the orders" and infinitives such as "to go" keep their
shape. Irregular forms are data (``engine/data/offline/verbs.json``, ``past``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .library import verb_table

_MODALS = frozenset("will would can could shall should may might must to".split())
_DETERMINERS = frozenset(
    "the a an this that these those his her their its our my your every each no some any "
    "of in on at by for with from into about".split()
)
_SUBJECTS = frozenset("he she it who which they we you i".split())
_PLURAL_LEADS = frozenset("each both they we all".split())
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_CVC = re.compile(r"^[^aeiou]*[aeiou][bdgmnpt]$")


@lru_cache(maxsize=1)
def _verbs() -> tuple[frozenset[str], dict[str, str]]:
    data = verb_table()
    return frozenset(data["base"]), dict(data["past"])


def base_verbs() -> frozenset[str]:
    """The plain forms of the common verbs the offline dialog knows."""
    return _verbs()[0]


def regular_past(base: str) -> str:
    """ "watch" -> "watched", "arrive" -> "arrived", "carry" -> "carried", "stop" ->
    "stopped"."""
    irregular = _verbs()[1]
    if base in irregular:
        return irregular[base]
    if base.endswith("e"):
        return base + "d"
    if base.endswith("y") and len(base) > 2 and base[-2] not in "aeiou":
        return base[:-1] + "ied"
    if len(base) <= 4 and _CVC.match(base):
        return base + base[-1] + "ed"
    return base + "ed"


def _base_of_s_form(word: str, *, known: bool) -> str | None:
    """The plain form of a third-person verb ("goes" -> "go", "carries" -> "carry"), or
    None when the word does not look like one; with ``known``, only verbs of the list."""
    bases, irregular = _verbs()
    special = {"is": "is", "has": "have", "does": "do", "goes": "go", "says": "say"}
    if word in special:
        return special[word]
    if len(word) < 3 or not word.endswith("s") or word.endswith("ss"):
        return None
    candidates = []
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")
    if word.endswith("es"):
        candidates.append(word[:-2])
    candidates.append(word[:-1])
    for base in candidates:
        if base in bases or base in irregular:
            return base
    if known or "'" in word or "’" in word:
        return None
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1] if len(word) > 4 and not word.endswith(("us", "is", "ous")) else None


def past_tense(text: str) -> str:
    """``text`` with its finite present-tense verbs in the simple past."""
    bases = base_verbs()
    tokens = text.split(" ")
    out: list[str] = []
    turned_last = False  # the clause's verb was turned: "... and says" follows it
    for i, token in enumerate(tokens):
        core = token.strip(",.;:!?—")
        low = core.lower()
        before = tokens[i - 1].strip(",.;:!?—") if i else ""
        prev = before.lower()
        new = None
        plural = prev in _PLURAL_LEADS or (
            prev.isalpha() and prev.endswith("s") and not prev.endswith("ss") and not turned_last
        )
        if core and not core[:1].isupper() and low in bases and plural and "'" not in low:
            new = regular_past(low)  # "each come away", "the guards plan"
        elif core and not core[:1].isupper() and prev not in _MODALS and prev not in _DETERMINERS:
            if low == "are":
                new = "were"
            elif low in ("is", "has") or low.endswith("s"):
                strong = (
                    not prev.endswith(("'s", "’s"))
                    and (  # "Hamilton's orders": a noun
                        prev in _SUBJECTS
                        or (before[:1].isupper() and i > 0)
                        or (prev == "and" and turned_last)
                    )
                )
                noun = prev.isalpha() and not prev.endswith(("ly", "s")) and i > 1
                if prev in _CALENDAR:  # "the March wages", "the Friday deadlines": nouns
                    strong = noun = False
                base = _base_of_s_form(low, known=not strong) if strong or noun else None
                if base is not None:
                    new = "was" if base == "is" else regular_past(base)
        if new is not None:
            token = token.replace(core, new, 1)
            turned_last = True
        elif token.endswith((",", ".", ";", ":")) or low in ("but", "while", "when"):
            turned_last = False  # a new clause: its own subject comes first
        out.append(token)
    return " ".join(out)
