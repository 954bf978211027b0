"""Forward coherence: does a history found backwards still make sense read forwards?

A PORTAL path is built from the endpoint backwards, each state chosen because it could lead to
the next. Read the other way, from the origin to the endpoint, every consecutive pair of states
is a *link*, and each link can be judged on how well the later state follows from the earlier
one (a number in [0, 1], or None when it could not be judged). Links are indexed the way the
path is read: link ``i`` joins the path's state ``i`` to state ``i + 1``, origin first.

The path's coherence is the mean of its judged links. :func:`verdict` then decides what to do:

- ``keep`` when the coherence reaches the threshold;
- otherwise ``backtrack``, regenerating the states from the weakest link's earlier state,
  while the path has backtracks left and a weakest link is known;
- otherwise ``keep_with_warning`` when the coherence is known (the path stays, flagged), and
  ``prune`` when it is not (nothing speaks for the path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Action = Literal["keep", "backtrack", "prune", "keep_with_warning"]


@dataclass(frozen=True)
class Verdict:
    """What to do with a path, at which step for a backtrack, and why, in a sentence."""

    action: Action
    at_step: int | None
    reason: str


def _check_links(links: Sequence[float | None]) -> None:
    for index, value in enumerate(links):
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(f"Link {index} is judged {value!r}; a link's score lies in [0, 1].")


def coherence(links: Sequence[float | None]) -> float | None:
    """The mean of the judged links, or None when no link was judged."""
    _check_links(links)
    known = [float(v) for v in links if v is not None]
    if not known:
        return None
    return round(sum(known) / len(known), 4)


def weakest_link(links: Sequence[float | None], steps: Sequence[int]) -> int | None:
    """The step a backtrack starts from: the step of the earlier state of the lowest-judged
    link. ``steps`` are the steps of the path's states, origin first (one more than there are
    links). Among equally weak links the one nearer the endpoint wins: the states before it
    were derived from it, so they are suspect too. None when no link was judged."""
    _check_links(links)
    if len(steps) != len(links) + 1:
        raise ValueError(
            f"A path of {len(steps)} states has {max(len(steps) - 1, 0)} links, not {len(links)}."
        )
    judged = [index for index, value in enumerate(links) if value is not None]
    if not judged:
        return None
    weakest = min(judged, key=lambda index: (links[index], -index))
    return steps[weakest]


def verdict(
    coherence: float | None,
    *,
    threshold: float,
    backtracks_used: int,
    max_backtrack_depth: int,
    weakest_link: int | None,
) -> Verdict:
    """The decision for one path; ``weakest_link`` is the step a backtrack would start from
    (see :func:`weakest_link`)."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"The coherence threshold is {threshold!r}; it lies in [0, 1].")
    if backtracks_used < 0 or max_backtrack_depth < 0:
        raise ValueError("Backtracks used and the backtrack depth cannot be negative.")
    if coherence is not None and not 0.0 <= coherence <= 1.0:
        raise ValueError(f"The coherence is {coherence!r}; it lies in [0, 1].")
    left = max_backtrack_depth - backtracks_used
    if coherence is not None and coherence >= threshold:
        return Verdict(
            "keep",
            None,
            f"Read forwards the path holds together: coherence {coherence:.2f} reaches the "
            f"threshold of {threshold:.2f}.",
        )
    if coherence is not None and left > 0 and weakest_link is not None:
        return Verdict(
            "backtrack",
            weakest_link,
            f"Coherence {coherence:.2f} is below the threshold of {threshold:.2f}, so the search "
            f"goes back to step {weakest_link}, where the weakest link starts (backtrack "
            f"{backtracks_used + 1} of {max_backtrack_depth}).",
        )
    if coherence is not None:
        why = (
            "no backtracks are left"
            if left <= 0
            else "no link was judged weak enough to go back to"
        )
        return Verdict(
            "keep_with_warning",
            None,
            f"Coherence {coherence:.2f} is below the threshold of {threshold:.2f} and {why}, so "
            "the path is kept but flagged as doubtful.",
        )
    return Verdict(
        "prune",
        None,
        "No link of the path could be judged, so nothing shows that it makes sense read "
        "forwards, and it is dropped.",
    )
