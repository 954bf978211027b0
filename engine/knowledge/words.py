"""Content words: the crude common form in which two phrasings of one fact meet ("the pump's
fuse" and "the pumps" on "pump"). Used to match knowledge by what it is about."""

from __future__ import annotations

import re
from functools import lru_cache

# Words that say nothing about what a topic is; everything else counts as a content word.
_STOP = frozenset(
    "a an the and or but of to in on at by for with from into about over under as is are was "
    "were be been has have had do does did not no this that these those it its his her their "
    "our my your them they he she we you i me us who what which when where why how all any "
    "some more most very just also only than then so if up out off".split()
)
_TOKEN = re.compile(r"[a-z0-9][a-z0-9'’\-]*")


def _stem(word: str) -> str:
    """A crude common form, so that "the pump's fuse" and "the pumps" meet on "pump"."""
    word = word.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    word = word.rstrip("'-")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)
def content_words(text: str) -> frozenset[str]:
    """The content words of a text, lower-cased and stemmed. Cached: every concern of every
    character reads the same turns again."""
    return frozenset(_stem(w) for w in _TOKEN.findall(text.lower()) if w not in _STOP)


def mentions(text: str, phrase: str) -> bool:
    """Whether ``text`` is about ``phrase``: every content word of the phrase occurs in it (a
    phrase with no content words matches only itself)."""
    wanted = content_words(phrase)
    if not wanted:
        return text.strip().lower() == phrase.strip().lower()
    return wanted <= content_words(text)
