"""Path divergence: where the histories PORTAL kept disagree about what happened.

The kept paths are read side by side, position by position: position 0 is every path's origin
side state and the last position its endpoint (on a complete path of ``steps`` steps, position
``p`` is step ``steps - p``). At each position the states of the paths are compared pairwise by
what they say happened, their description and key events: each state's text becomes a TF-IDF
vector (term counts times the smoothed inverse document frequency ``log((1 + n) / (1 + df)) + 1``
over the ``n`` states at that position) and two states are as similar as the cosine of their
vectors. The divergence at a position is 1 minus the mean similarity over all pairs, in [0, 1]:
0 where the paths agree, near 1 where they tell unrelated stories.

Terms are the content words of :mod:`engine.knowledge.words`, counted with repeats. Two states
with the same id are the same state (similarity 1); two states without any content word are
similar only when their texts are equal. With fewer than two paths nothing can disagree, so
every position is 0; in particular, paths that share their endpoint never diverge there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..knowledge.words import content_words
from .graph import Candidate


def _terms(text: str) -> list[str]:
    """The content words of ``text`` in order, a word as often as it occurs."""
    return [word for piece in text.split() for word in sorted(content_words(piece))]


def _similarities(states: Sequence[Candidate]) -> np.ndarray:
    """The pairwise cosine similarities of the states' TF-IDF vectors (a square matrix)."""
    n = len(states)
    vocabulary: dict[str, int] = {}
    rows = [[vocabulary.setdefault(t, len(vocabulary)) for t in _terms(s.text)] for s in states]
    counts = np.zeros((n, max(len(vocabulary), 1)), dtype=np.float64)
    for i, ids in enumerate(rows):
        np.add.at(counts[i], np.asarray(ids, dtype=np.int64), 1.0)
    df = (counts > 0).sum(axis=0)
    vectors = counts * (np.log((1.0 + n) / (1.0 + df)) + 1.0)
    norms = np.linalg.norm(vectors, axis=1)
    safe = np.where(norms > 0, norms, 1.0)
    unit = vectors / safe[:, None]
    sims = np.clip(unit @ unit.T, 0.0, 1.0)
    for i in range(n):
        for j in range(n):
            if states[i].candidate_id == states[j].candidate_id:
                sims[i, j] = 1.0
            elif norms[i] == 0 or norms[j] == 0:
                same = norms[i] == norms[j] and _plain(states[i].text) == _plain(states[j].text)
                sims[i, j] = 1.0 if same else 0.0
    return sims


def _plain(text: str) -> str:
    return " ".join(text.lower().split())


def divergence(paths: Sequence[Sequence[Candidate]]) -> dict[int, float]:
    """The divergence of the paths at each position, origin side (0) to endpoint. The paths
    must have one length (complete paths of one search do); ValueError otherwise."""
    lengths = {len(p) for p in paths}
    if len(lengths) > 1:
        raise ValueError(
            f"Paths are compared position by position, so they need one length, not "
            f"{sorted(lengths)}."
        )
    length = lengths.pop() if lengths else 0
    if len(paths) < 2:
        return dict.fromkeys(range(length), 0.0)
    upper = np.triu_indices(len(paths), k=1)
    out: dict[int, float] = {}
    for position in range(length):
        sims = _similarities([path[position] for path in paths])
        value = 1.0 - float(np.mean(sims[upper]))
        out[position] = round(min(1.0, max(0.0, value)), 4)
    return out


def per_path(paths: Sequence[Sequence[Candidate]]) -> list[dict[int, float]]:
    """Each path's own divergence by position: 1 minus the mean similarity of its state to the
    other paths' states there (0 everywhere with fewer than two paths)."""
    lengths = {len(p) for p in paths}
    if len(lengths) > 1:
        raise ValueError(
            f"Paths are compared position by position, so they need one length, not "
            f"{sorted(lengths)}."
        )
    length = lengths.pop() if lengths else 0
    out: list[dict[int, float]] = [dict.fromkeys(range(length), 0.0) for _ in paths]
    if len(paths) < 2:
        return out
    for position in range(length):
        sims = _similarities([path[position] for path in paths])
        for i in range(len(paths)):
            others = [sims[i, j] for j in range(len(paths)) if j != i]
            out[i][position] = round(min(1.0, max(0.0, 1.0 - float(np.mean(others)))), 4)
    return out


def key_steps(div: Mapping[int, float], *, top: int = 2, floor: float = 0.2) -> list[int]:
    """The positions where the paths part most: the ``top`` highest divergences strictly
    above ``floor`` (equal values to the position nearer the origin), listed in path order."""
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise ValueError(f"The number of key steps is a whole number of at least 0, not {top!r}.")
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"The divergence floor is {floor!r}; it lies in [0, 1].")
    above = sorted((p for p, v in div.items() if v > floor), key=lambda p: (-div[p], p))
    return sorted(above[:top])
