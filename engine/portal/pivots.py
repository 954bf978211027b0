"""Pivot points: the states on a PORTAL path where the history turns.

A pivot is found from what the run itself measured, never from the wording of a state. Four
signals are read at every position of a path but its endpoint (which is given, so it cannot
turn), each as a number in [0, 1]:

- ``divergence``: the paths part here. On a search tree paths that have parted stay apart, so
  the divergence only grows towards the origin; what marks the parting is its rise, the
  divergence at this position minus the divergence one position later (towards the endpoint).
- ``score_jump``: the state's score breaks away from the scores around it. Its reference is the
  median of its own score and the two nearest scored states on the path (the next two at either
  end of the path), so a lone outlier stands out and its neighbours do not; the signal is that
  distance over :data:`JUMP_FULL`. It needs at least three scored states on the path.
- ``entity_change``: the entities change far more here than is usual on the path: the total of
  the state's ``entity_changes`` above the median total of the path's states, over the larger
  of that median and :data:`CHANGE_UNIT`.
- ``dialog``: the dialog is unusually intense: the turn count at this position, when
  ``turns_at`` gives it, above the median count of the path's positions that have one, over
  the larger of that median and :data:`TURNS_UNIT`.

Each signal is capped at 1. They combine as independent pieces of evidence,
``1 - (1 - a)(1 - b)(1 - c)(1 - d)``, so one strong signal is enough and several moderate ones
add up; a position whose combined strength reaches :data:`PIVOT_AT` is a pivot. Its reasons are
the signals of at least :data:`REASON_FLOOR` (at least its strongest one), and its sentence says
them in words. Pivots are listed by path, then position, origin first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median

from .graph import Candidate

PIVOT_AT = 0.5  # the combined strength that makes a pivot
REASON_FLOOR = 0.2  # the smallest signal named as a reason
JUMP_FULL = 0.5  # a score this far from its reference is a full-strength jump
CHANGE_UNIT = 1.0  # entity change totals are compared over at least this unit
TURNS_UNIT = 8.0  # turn counts are compared over at least this many turns
SIGNALS: tuple[str, ...] = ("divergence", "score_jump", "entity_change", "dialog")


@dataclass(frozen=True)
class Pivot:
    """A turning point: the path (an index into the paths given), the position on it (0 is
    the origin side), the combined strength, the signals behind it and a sentence saying why."""

    path_index: int
    position: int
    strength: float
    reasons: tuple[str, ...]
    sentence: str


def _cap(x: float) -> float:
    return min(1.0, max(0.0, x))


def _score_jumps(path: Sequence[Candidate]) -> dict[int, tuple[float, str]]:
    """Position -> (signal, clause) for the states whose score breaks from those around it."""
    known = [(p, c.score) for p, c in enumerate(path) if c.score is not None]
    out: dict[int, tuple[float, str]] = {}
    if len(known) < 3:
        return out
    for k, (position, score) in enumerate(known):
        start = min(max(k - 1, 0), len(known) - 3)
        window = known[start : start + 3]
        others = [s for p, s in window if p != position]
        residual = abs(score - median(s for _, s in window))
        around = " and ".join(f"{s:.2f}" for s in others)
        out[position] = (
            _cap(residual / JUMP_FULL),
            f"its score ({score:.2f}) breaks away from those around it ({around})",
        )
    return out


def _excess(value: float, usual: float, unit: float) -> float:
    return _cap((value - usual) / max(usual, unit))


def _entity_changes(
    path: Sequence[Candidate], names: Mapping[str, str]
) -> dict[int, tuple[float, str]]:
    totals = [sum(c.entity_changes.values()) for c in path[:-1]]
    out: dict[int, tuple[float, str]] = {}
    if not totals:
        return out
    usual = median(totals)
    for position, total in enumerate(totals):
        changes = path[position].entity_changes
        if not changes:
            continue
        who = min(changes, key=lambda e: (-changes[e], e))
        most = all(total > t for p, t in enumerate(totals) if p != position)
        how = "more here than anywhere else" if most else "far more here than is usual"
        out[position] = (
            _excess(total, usual, CHANGE_UNIT),
            f"the state of {names.get(who, who)} changes {how} on this path "
            f"(total change {total:.2f}, typically {usual:.2f})",
        )
    return out


def _dialog(turns: Mapping[int, int]) -> dict[int, tuple[float, str]]:
    out: dict[int, tuple[float, str]] = {}
    if not turns:
        return out
    usual = median(turns.values())
    for position, count in turns.items():
        most = all(count > n for p, n in turns.items() if p != position)
        how = "more intense here than anywhere else" if most else "unusually intense here"
        out[position] = (
            _excess(count, usual, TURNS_UNIT),
            f"the dialog is {how} on this path ({count} turns, typically {usual:g})",
        )
    return out


def _sentence(clauses: Sequence[str]) -> str:
    text = clauses[-1] if len(clauses) == 1 else ", ".join(clauses[:-1]) + ", and " + clauses[-1]
    return text[0].upper() + text[1:] + "."


def _turns_by_path(
    paths: Sequence[Sequence[Candidate]], turns_at: Mapping[tuple[int, int], int]
) -> list[dict[int, int]]:
    by_path: list[dict[int, int]] = [{} for _ in paths]
    for (index, position), count in sorted(turns_at.items()):
        if not 0 <= index < len(paths) or not 0 <= position < len(paths[index]):
            raise ValueError(
                f"Turn counts are given for path {index}, position {position}, "
                "which is not on any path."
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(
                f"The turn count at path {index}, position {position} is {count!r}; "
                "it must be a whole number of at least 0."
            )
        if position < len(paths[index]) - 1:  # the endpoint never pivots
            by_path[index][position] = count
    return by_path


def detect(
    paths: Sequence[Sequence[Candidate]],
    divergence: Mapping[int, float],
    *,
    turns_at: Mapping[tuple[int, int], int] | None = None,
    names: Mapping[str, str] | None = None,
    own: Sequence[Mapping[int, float]] | None = None,
) -> list[Pivot]:
    """The pivots of every path. ``divergence`` is by position (see
    :func:`engine.portal.divergence.divergence`); ``turns_at`` maps (path index, position) to
    the number of dialog turns there; ``names`` gives entities' display names (their ids
    otherwise); ``own`` gives each path's own divergence by position
    (:func:`engine.portal.divergence.per_path`): then the divergence signal of a path is where
    *it* parts from the others, so a path that keeps to the common story there is no pivot."""
    for position, value in divergence.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                f"The divergence at position {position} is {value!r}; it lies in [0, 1]."
            )
    if own is not None and len(own) != len(paths):
        raise ValueError(f"Own divergences are given for {len(own)} paths, not {len(paths)}.")
    curves: list[Mapping[int, float]] = list(own) if own is not None else [divergence] * len(paths)
    for curve in curves:
        for position, value in curve.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"The divergence at position {position} is {value!r}; it lies in [0, 1]."
                )
    rises_of = [{p: max(0.0, c[p] - c[p + 1]) for p in c if p + 1 in c} for c in curves]
    steepest = max((v for r in rises_of for v in r.values()), default=0.0)
    whose = "this path parts from the others" if own is not None else "the paths part"
    turns = _turns_by_path(paths, turns_at or {})
    out: list[Pivot] = []
    for index, path in enumerate(paths):
        rises, curve = rises_of[index], curves[index]
        jumps = _score_jumps(path)
        changes = _entity_changes(path, names or {})
        dialog = _dialog(turns[index])
        for position in range(len(path) - 1):
            found: dict[str, tuple[float, str]] = {}
            rise = rises.get(position, 0.0)
            if rise > 0:
                most = "most " if math.isclose(rise, steepest) else ""
                found["divergence"] = (
                    _cap(rise),
                    f"{whose} {most}here (divergence {curve[position]:.2f}, "
                    f"against {curve[position + 1]:.2f} one step later)",
                )
            for name, table in (
                ("score_jump", jumps),
                ("entity_change", changes),
                ("dialog", dialog),
            ):
                if position in table:
                    found[name] = table[position]
            strength = round(1.0 - math.prod(1.0 - s for s, _ in found.values()), 4)
            if strength < PIVOT_AT:
                continue
            reasons = [n for n in SIGNALS if n in found and found[n][0] >= REASON_FLOOR]
            if not reasons:
                reasons = [max(found, key=lambda n: (found[n][0], -SIGNALS.index(n)))]
            out.append(
                Pivot(
                    path_index=index,
                    position=position,
                    strength=strength,
                    reasons=tuple(reasons),
                    sentence=_sentence([found[n][1] for n in reasons]),
                )
            )
    return out
