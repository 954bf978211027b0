"""The order in which a PORTAL search works through its steps.

The steps to fill are numbered 1 (just before the endpoint) to ``steps`` (the origin side); the
endpoint itself, step 0, is known. Three strategies:

- ``reverse_chronological``: from the endpoint backwards, 1, 2, ..., ``steps``. Each state is
  looked for once the state it leads to is settled; simple and predictable.
- ``oscillating``: alternately the nearest unvisited step on the endpoint side and on the origin
  side, meeting in the middle: 1, ``steps``, 2, ``steps - 1``, ... For 5 steps: 1, 5, 2, 4, 3.
  Both ends of the story are pinned down before its middle, which suits histories whose start
  constrains them as much as their end.
- ``adaptive``: the most uncertain step first. ``uncertainty`` maps a step to how unsure the
  search is about it so far (any number of at least 0, for instance :func:`neighbour_spread`);
  a step it does not mention is given the mean of the values it does (0 when it mentions none).
  Steps are ordered by that value, highest first; equal values (to 12 decimal places) go to the
  step nearer the endpoint first. With nothing known this is the reverse-chronological order.

:func:`plan` picks one by name. All are pure: the same arguments give the same order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

STRATEGIES: tuple[str, ...] = ("reverse_chronological", "oscillating", "adaptive")


def _check_steps(steps: int) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"A backward search needs at least 1 step, not {steps!r}.")


def reverse_chronological(steps: int) -> list[int]:
    """From the endpoint back to the origin side: 1, 2, ..., ``steps``."""
    _check_steps(steps)
    return list(range(1, steps + 1))


def oscillating(steps: int) -> list[int]:
    """Alternately the endpoint side and the origin side, working inwards."""
    _check_steps(steps)
    order: list[int] = []
    near, far = 1, steps
    while near <= far:
        order.append(near)
        if far != near:
            order.append(far)
        near, far = near + 1, far - 1
    return order


def adaptive(steps: int, uncertainty: Mapping[int, float]) -> list[int]:
    """The steps by descending uncertainty, unknown steps at the mean, ties nearest the
    endpoint first. ValueError for a step outside 1..``steps`` or a negative or non-finite
    value."""
    _check_steps(steps)
    for step, value in uncertainty.items():
        if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= steps:
            raise ValueError(
                f"The uncertainty map names step {step!r}, but the steps run from 1 to {steps}."
            )
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"The uncertainty of step {step} is {value!r}; it must be a number of at least 0."
            )
    known = [float(v) for v in uncertainty.values()]
    fill = sum(known) / len(known) if known else 0.0
    level = {s: round(float(uncertainty.get(s, fill)), 12) for s in range(1, steps + 1)}
    return sorted(level, key=lambda s: (-level[s], s))


def neighbour_spread(
    scores_at: Mapping[int, Sequence[float | None]], steps: int
) -> dict[int, float]:
    """One measure of uncertainty for :func:`adaptive`: for each step, the spread (highest
    minus lowest) of the known candidate scores at the steps on either side of it (step 0 is
    the endpoint). A step with fewer than two known scores beside it is left out, so that
    :func:`adaptive` treats it as unknown."""
    _check_steps(steps)
    out: dict[int, float] = {}
    for step in range(1, steps + 1):
        beside = [
            float(score)
            for other in (step - 1, step + 1)
            if other <= steps
            for score in scores_at.get(other, ())
            if score is not None
        ]
        if len(beside) >= 2:
            out[step] = round(max(beside) - min(beside), 4)
    return out


_PLANS: dict[str, Callable[[int], list[int]]] = {
    "reverse_chronological": reverse_chronological,
    "oscillating": oscillating,
}


def plan(strategy: str, steps: int, uncertainty: Mapping[int, float] | None = None) -> list[int]:
    """The exploration order of a strategy named in :data:`STRATEGIES`. ``uncertainty`` is
    read by ``adaptive`` only (None counts as knowing nothing); the other two ignore it."""
    _check_steps(steps)
    if strategy == "adaptive":
        return adaptive(steps, uncertainty or {})
    if strategy not in _PLANS:
        known = ", ".join(sorted(STRATEGIES))
        raise ValueError(
            f"There is no exploration strategy {strategy!r}; the known ones are {known}."
        )
    return _PLANS[strategy](steps)
