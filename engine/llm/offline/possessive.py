"""A thing of something said the way people say it when they talk: "the Chardonnay of the lower
parcels" -> "the lower parcels' Chardonnay", "the back wall of rack C" -> "rack C's back wall".
A breath for a fact that would otherwise be recited as the file has it (``rephrase.breathe``).

Only where the swap keeps the meaning: not for a share of something ("a third of the white",
"most of the crew"), a place along something ("the end of the harvest", "the edge of the
group"), a list, a pronoun, or a phrase that goes on after the owner."""

from __future__ import annotations

from .realise import AUX, DETERMINERS, verbish

# a share, an amount or a place along a thing: "a third of", "the end of" stay as they are
_NOT_OWNED = frozenset(
    "third half quarter part parts rest most some all none any each one lot lots number "
    "majority minority kind sort type piece bit amount percent cent top bottom middle end "
    "side front back edge start beginning course length width height depth total sum "
    "cost price value share proportion fraction dozen pair couple series set group".split()
)
_PRONOUNS = frozenset("it them him her us me you this that these those which what".split())
_ENDS_PHRASE = frozenset(
    "to from for at on in by with since until before after under within and or but".split()
)


def _boundary(word: str) -> bool:
    """A word that can follow a whole noun phrase: a preposition or a conjunction, an
    auxiliary, or a verb whose form says it is one ("holds", "painted")."""
    low = word.lower().rstrip(",;.")
    if low in _ENDS_PHRASE or low in AUX or low in ("—", "–", "-"):
        return True
    return verbish(low) and (low.endswith(("ed", "es")) or (low.endswith("s") and len(low) > 3))


def _plain(word: str) -> bool:
    return word.isalpha() and word.lower() not in DETERMINERS and not verbish(word)


def swap_at(tokens: list[str], p: int) -> tuple[int, list[str]] | None:
    """At ``tokens[p]`` ("the" + one or two nouns + "of" + an owner of up to three words):
    (how many tokens the phrase takes, the phrase with its owner first), or None."""
    if p + 3 >= len(tokens) or tokens[p].lower() != "the":
        return None
    of = next((k for k in (p + 2, p + 3) if k < len(tokens) and tokens[k] == "of"), None)
    if of is None:
        return None
    thing = tokens[p + 1 : of]
    if not all(_plain(w) for w in thing) or thing[-1].lower() in _NOT_OWNED:
        return None  # "the back wall" is owned, "the top half" is a share
    start = of + 1
    the = start < len(tokens) and tokens[start].lower() == "the"
    if the:
        start += 1
    owner: list[str] = []
    k = start
    while k < len(tokens) and len(owner) < 3:
        word = tokens[k].rstrip(",;.")
        if word in ("—", "–") or (
            word.lower() in _ENDS_PHRASE or verbish(word) or word.lower() in DETERMINERS
        ):
            break
        if not word or not (word.isalpha() or (len(word) == 1 and word.isupper())):
            return None
        owner.append(tokens[k])
        k += 1
        if tokens[k - 1] != word:  # a comma or a stop ends the owner
            break
    if not owner or any(w.lower().rstrip(",;.") in _PRONOUNS for w in owner):
        return None
    after = tokens[k] if k < len(tokens) else ""
    last = owner[-1]
    mark = last[len(last.rstrip(",;.")) :]
    if after and not mark and not _boundary(after):
        return None  # "the manifest of shuttle run 212": the owner goes on
    bare = last.rstrip(",;.")
    if bare.endswith(("'s", "’s", "'")):
        return None
    plural = bare.endswith("s") and not bare.endswith("ss") and bare.islower()
    owned = f"{bare}'" if plural else f"{bare}'s"
    head = (["the"] if the else []) + owner[:-1] + [owned]
    if tokens[p][:1].isupper():
        head[0] = head[0][:1].upper() + head[0][1:]
    thing_words = list(thing)
    thing_words[-1] = thing_words[-1] + mark
    return k - p, head + thing_words
