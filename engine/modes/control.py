"""Pause, resume, single-step and stop a running simulation between timepoints."""

from __future__ import annotations

import asyncio


class Stopped(Exception):
    """The run was asked to stop; ``reason`` says by whom or why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RunControl:
    def __init__(self) -> None:
        self._go = asyncio.Event()
        self._go.set()
        self._single_step = False
        self.stop_reason: str | None = None

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    @property
    def holding(self) -> bool:
        """Paused, single-stepping or stopping: nothing should be spent ahead of time."""
        return self.paused or self._single_step or self.stop_reason is not None

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._single_step = False
        self._go.set()

    def step(self) -> None:
        """Run exactly one more timepoint, then pause."""
        self._single_step = True
        self._go.set()

    def stop(self, reason: str = "stopped by the user") -> None:
        self.stop_reason = reason
        self._go.set()

    async def gate(self) -> None:
        await self._go.wait()
        if self.stop_reason is not None:
            raise Stopped(self.stop_reason)
        if self._single_step:
            self._go.clear()
