"""Pause, resume, single-step and stop a running simulation.

Pausing holds the run at once: a model call already under way finishes, but no new one of the
run's steps starts until it resumes (questions an observer asks are not held). Single steps
and stops act between timepoints. The control also keeps how long the run has been paused, so
that a clock of the run can leave that time out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Stopped(Exception):
    """The run was asked to stop; ``reason`` says by whom or why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RunControl:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._go = asyncio.Event()  # the next timepoint may start
        self._go.set()
        self._calls = asyncio.Event()  # the run's steps may start model calls
        self._calls.set()
        self._single_step = False
        self._at_gate = False  # waiting between two timepoints
        self.stop_reason: str | None = None
        self._clock = clock
        self._paused_since: float | None = None
        self._paused_total = 0.0

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    @property
    def holding(self) -> bool:
        """Paused, single-stepping or stopping: nothing should be spent ahead of time."""
        return self.paused or self._single_step or self.stop_reason is not None

    def paused_seconds(self) -> float:
        """How long the run has been held by a pause so far (the current one included)."""
        now = self._clock()
        current = now - self._paused_since if self._paused_since is not None else 0.0
        return self._paused_total + current

    def _hold_calls(self, held: bool) -> None:
        if held and self._calls.is_set():
            self._calls.clear()
            self._paused_since = self._clock()
        elif not held and not self._calls.is_set():
            self._calls.set()
            if self._paused_since is not None:
                self._paused_total += self._clock() - self._paused_since
            self._paused_since = None

    def pause(self) -> None:
        self._go.clear()
        self._hold_calls(True)

    def resume(self) -> None:
        self._single_step = False
        self._go.set()
        self._hold_calls(False)

    def step(self) -> None:
        """Run exactly one more timepoint, then pause: the next one when the run waits
        between two, else the one it was paused in the middle of."""
        if self._at_gate or not self.paused:
            self._single_step = True
            self._go.set()
        self._hold_calls(False)

    def stop(self, reason: str = "stopped by the user") -> None:
        self.stop_reason = reason
        self._go.set()
        self._hold_calls(False)

    async def gate(self) -> None:
        """Between timepoints: wait while paused; raise :class:`Stopped` once stopped."""
        self._at_gate = True
        try:
            await self._go.wait()
        finally:
            self._at_gate = False
        if self.stop_reason is not None:
            raise Stopped(self.stop_reason)
        if self._single_step:
            self._go.clear()

    @property
    def calls_held(self) -> bool:
        return not self._calls.is_set()

    async def calls_released(self) -> None:
        await self._calls.wait()

    async def hold(self) -> None:
        """Before one of the run's model calls: wait while paused (a call under way is not
        interrupted); raise :class:`Stopped` once stopped."""
        if not self._calls.is_set():
            await self._calls.wait()
        if self.stop_reason is not None:
            raise Stopped(self.stop_reason)
