"""The heap an export works on: a loaded run is millions of long-lived objects."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
_depth = 0  # settled heaps open (one inside another leaves the heap to the outer one)


@contextmanager
def settled_heap() -> Iterator[None]:
    """Keep the cyclic garbage collector out of the way while an export runs.

    A loaded run is millions of long-lived objects, and an export allocates steadily: each
    time enough of that survives a while, CPython's full collection walks the whole loaded run
    again (0.49 s of a 0.5 s selection, and a fifth of a long run's export). What an export
    makes is freed by reference counting as it goes, so memory stays flat without the cyclic
    collector; the loaded run is left out of it (``gc.freeze``) and the collector paused, and
    both are put back as they were at the end."""
    global _depth
    if _depth:
        yield
        return
    was_on = gc.isenabled()
    gc.freeze()
    gc.disable()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        gc.unfreeze()
        if was_on:
            gc.enable()


def in_settled_heap(work: Callable[P, R]) -> Callable[P, R]:
    """``work`` run in a :func:`settled_heap`."""

    @functools.wraps(work)
    def settled(*args: P.args, **kwargs: P.kwargs) -> R:
        with settled_heap():
            return work(*args, **kwargs)

    return settled
