"""Holding a run's model calls that have not reached the server yet.

A paused run must start no new model call. Its steps wait before asking the gateway, but a
call that had already asked may still be queued behind the provider's concurrency limit; when
the pause comes, that call has not been sent, so it is new too. The step puts the run's gate in
a context variable for the length of its call, and a provider checks it once it has a
connection slot and before sending: while held, it gives the slot back (an observer's question,
which is never held, may use it) and waits. A call already sent finishes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol


class CallGate(Protocol):
    @property
    def calls_held(self) -> bool: ...

    async def calls_released(self) -> None: ...


_GATE: ContextVar[CallGate | None] = ContextVar("timeloom_call_gate", default=None)


@contextlib.contextmanager
def gated(gate: CallGate | None) -> Iterator[None]:
    """Calls made inside hold while ``gate`` holds them."""
    token = _GATE.set(gate)
    try:
        yield
    finally:
        _GATE.reset(token)


def held() -> bool:
    gate = _GATE.get()
    return gate is not None and gate.calls_held


async def released() -> None:
    """Wait until the current call's gate lets calls start (at once when there is none)."""
    gate = _GATE.get()
    if gate is not None and gate.calls_held:
        await gate.calls_released()
