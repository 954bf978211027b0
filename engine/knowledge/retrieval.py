"""Which knowledge items bear on a question: TF-IDF with cosine similarity, over numpy.

Texts become terms by lower-casing, splitting into runs of letters and digits ("18,400" stays
one number, "18400"), dropping the stop words of :mod:`engine.knowledge.words` (and a few more
that only pad a question) and applying a light suffix stemmer, so that "letters" meets
"letter", "signed" meets "sign" and "boxes" meets "box". Every term is weighted by its count in a text
times its smoothed inverse document frequency, ``log((1 + n) / (1 + df)) + 1``, counted over
the items and the question together; an item's score is the cosine between its vector and the
question's. Pure and deterministic: the same question and items always give the same ranking.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .words import _STOP as _CONTENT_STOP

# The stop words of ``words``, and the auxiliaries and contractions that fill questions out.
_STOP = _CONTENT_STOP | frozenset(
    "am being can could would should will shall may might must there here whom whose "
    "dont doesnt didnt isnt wasnt arent werent wont wouldnt couldnt shouldnt cant im ive "
    "youre theyre".split()
)
# A number with thousands separators ("18,400"), or a word with its apostrophes ("don't").
_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)|[^\W_]+(?:['’][^\W_]+)*")
_VOWEL = re.compile(r"[aeiouy]")
_SIBILANT_ES = ("sses", "ches", "shes", "xes", "zes")


@lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    """A light, consistent common form: plurals, then one of -ing, -ed, -ly, then a final e.

    Not linguistics: two forms of one word should meet ("hoped", "hoping", "hope" all give
    "hop"), and a stem keeps at least three letters and a vowel.
    """
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(_SIBILANT_ES):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix, keep in (("ing", 3), ("ed", 3), ("ly", 4)):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            if len(stem) >= keep and _VOWEL.search(stem):
                word = stem
                if (
                    suffix != "ly"
                    and len(word) > 3
                    and word[-1] == word[-2]
                    and word[-1] not in "lsz"
                ):
                    word = word[:-1]  # "stopped" -> "stop", but "spelled" -> "spell"
            break
    if len(word) > 3 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word


@lru_cache(maxsize=16384)
def _term(token: str) -> str:
    """The term a lower-case token counts as, or "" for a stop word."""
    if "," in token:
        return token.replace(",", "")
    if "'" in token or "’" in token:
        token = token.replace("’", "'")
        token = (token[:-2] if token.endswith("'s") else token).replace("'", "")
    return "" if token in _STOP else _stem(token)


def _terms(text: str) -> list[str]:
    """The stemmed content terms of ``text``, in order, repeats kept."""
    return [term for term in map(_term, _TOKEN.findall(text.lower())) if term]


def rank(
    question: str, items: Sequence[str], *, limit: int | None = None
) -> list[tuple[int, float]]:
    """``(index into items, cosine score)`` for the items that share a term with ``question``,
    best first, ties to the lower index, scores in (0, 1]. Items with nothing in common with
    the question are left out; ``limit`` keeps only the first so many."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be at least 0, not {limit}")
    if limit == 0 or not items:
        return []
    question_terms = _terms(question)
    if not question_terms:
        return []
    vocabulary: dict[str, int] = {}
    wanted = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in question_terms])
    term_ids: list[int] = []
    doc_ids: list[int] = []
    for index, item in enumerate(items):
        ids = [vocabulary.setdefault(t, len(vocabulary)) for t in _terms(item)]
        term_ids.extend(ids)
        doc_ids.extend([index] * len(ids))
    if not term_ids:
        return []
    size, n_docs = len(vocabulary), len(items)
    # One entry per (item, term) pair, with the number of times the term occurs in the item.
    pairs, tf = np.unique(
        np.asarray(doc_ids, dtype=np.int64) * size + np.asarray(term_ids, dtype=np.int64),
        return_counts=True,
    )
    pair_docs, pair_terms = np.divmod(pairs, size)
    question_tf = np.bincount(wanted, minlength=size).astype(np.float64)
    df = np.bincount(pair_terms, minlength=size) + (question_tf > 0)
    idf = np.log((1.0 + n_docs + 1) / (1.0 + df)) + 1.0
    weights = tf * idf[pair_terms]
    norms = np.sqrt(np.bincount(pair_docs, weights=weights * weights, minlength=n_docs))
    question_vector = question_tf * idf
    dots = np.bincount(pair_docs, weights=weights * question_vector[pair_terms], minlength=n_docs)
    hits = np.flatnonzero(dots > 0)
    if hits.size == 0:
        return []
    scores = dots[hits] / (norms[hits] * np.linalg.norm(question_vector))
    # Rounded so that scores equal but for float noise tie, and the lower index wins.
    scores = np.clip(np.round(scores, 12), 0.0, 1.0)
    keep = scores > 0
    hits, scores = hits[keep], scores[keep]
    order = np.lexsort((hits, -scores))
    if limit is not None:
        order = order[:limit]
    return [(int(hits[i]), float(scores[i])) for i in order]


def relevant(question: str, items: Sequence[str], *, limit: int | None = None) -> list[int]:
    """The indexes of :func:`rank`: the items that bear on ``question``, best first."""
    return [index for index, _ in rank(question, items, limit=limit)]
