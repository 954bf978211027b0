"""Beam selection: which candidates of a step the backward search goes on from.

The search cannot extend every candidate, so at each step it keeps the best few. The best are
those with the highest score; a candidate without a score (nothing could be judged) comes after
every scored one, since nothing speaks for it. Equal scores are ordered by candidate id, so the
same candidates always give the same beam.
"""

from __future__ import annotations

from collections.abc import Iterable

from .graph import Candidate


def _rank(candidate: Candidate) -> tuple[bool, float, str]:
    score = candidate.score
    return (score is None, -(score or 0.0), candidate.candidate_id)


def select(candidates: Iterable[Candidate], width: int) -> list[Candidate]:
    """The ``width`` best candidates, best first (all of them when there are fewer)."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"A beam keeps at least 1 candidate, so its width cannot be {width!r}.")
    return sorted(candidates, key=_rank)[:width]
