"""A live session: one simulation running in the explorer, with its own control, event buffer,
flush timer and read model.

Each live run screen watches one session; a session outlives its screen when the user keeps
the run going in the background, and a new screen can attach to it later. Events go only to
the screen attached to this session, so two live runs never see each other's events, and a
session's clean-up (its timer, its provider) touches nothing of another's. The session folds
every event into its own :class:`RunView`, so that a screen attaching mid-run starts from the
run as it stands, not from a stale copy of the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from textual.message_pump import MessagePump

from engine.model import events as ev
from engine.modes.control import RunControl
from engine.view import RunView

from .messages import BridgeError, EngineEvents, LiveRunEnded

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

    from engine.simulation import Simulation

FLUSH_SECONDS = 1 / 30  # how often buffered engine events reach the screen (~30 fps)

EventSource = Callable[[], AsyncIterator[ev.EventBase]]


class LiveSession:
    def __init__(self, app: App[Any], name: str, factory: Any = None, source: Any = None) -> None:
        self.app = app
        self.name = name
        self.factory = factory
        self.source = source
        self.control = RunControl(clock=getattr(app, "clock", time.monotonic))
        self.run_id: str | None = None
        self.status = "starting"
        self.view: RunView | None = None
        self.simulation: Simulation | None = None
        self._pending: list[ev.EventBase] = []
        self._target: MessagePump | None = None
        self._timer: Timer | None = None
        self.worker: Any = None  # the bridge's worker running :meth:`run`
        self.ended = asyncio.Event()

    # ------------------------------------------------------------------ state
    @property
    def running(self) -> bool:
        return self.status in ("starting", "running")

    @property
    def attached(self) -> bool:
        return self._target is not None

    @property
    def paused(self) -> bool:
        return self.control.paused

    def attach(self, target: MessagePump) -> RunView | None:
        """Send this session's events to ``target`` from now on; return a copy of the run as
        it stands (the events buffered so far are in it, so they are not sent again)."""
        self._target = target
        self._pending.clear()
        return copy.deepcopy(self.view) if self.view is not None else None

    def detach(self, target: MessagePump | None = None) -> None:
        if target is None or self._target is target:
            self._target = None
            self._pending.clear()

    def stop(self, reason: str = "stopped by the user") -> None:
        self.control.stop(reason)

    def set_pace(self, factor: float) -> float | None:
        """Make offline text arrive faster (factor > 1) or slower; return the new pace, or None
        when the run is not paced (a real model, or full speed)."""
        provider = getattr(self.factory, "provider", None)
        if provider is None or not getattr(provider, "chars_per_second", None):
            return None
        provider.chars_per_second = max(5.0, min(5000.0, provider.chars_per_second * factor))
        return provider.chars_per_second

    # ------------------------------------------------------------------ running
    async def run(self, store: Any) -> None:
        """Run the simulation (or play the scripted source) to its end; the bridge runs this
        in a worker of its own."""
        from engine.llm.factory import ProviderSetupError
        from engine.scenario import ScenarioError
        from engine.simulation import UnsupportedScenario
        from engine.store import StoreError

        self._timer = self.app.set_interval(FLUSH_SECONDS, self._flush, name=f"flush-{self.name}")
        status = "failed"
        try:
            if self.source is not None:
                events = self.source()
            else:
                self.simulation = await self.factory(store, self.control)
                events = self.simulation.events()
            self.status = "running"
            async for event in events:
                self._fold(event)
                if isinstance(event, ev.RunFinished):
                    status = event.status.value
                if self._target is not None:
                    self._pending.append(event)
        except (ScenarioError, UnsupportedScenario, StoreError, ProviderSetupError) as exc:
            if self._target is not None:
                self._target.post_message(BridgeError(str(exc)))
        finally:
            self.status = status
            self._flush()
            if self._timer is not None:
                self._timer.stop()
            if self.factory is not None:
                await self.factory.aclose()
            if self._target is not None:
                self._target.post_message(LiveRunEnded(self.run_id, self.status))
            self.ended.set()

    async def end(self, reason: str, timeout: float = 10.0) -> None:
        """Stop now (the timepoint under way is discarded, as with Ctrl+C) and wait until the
        run's end is recorded: what the explorer does with its runs when it closes."""
        self.stop(reason)
        if self.worker is not None:
            self.worker.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ended.wait(), timeout)

    def _fold(self, event: ev.EventBase) -> None:
        if isinstance(event, ev.RunStarted):
            self.run_id = event.run_id
            self.view = RunView.starting(event)
        elif self.view is not None:
            self.view.apply(event)

    def _flush(self) -> None:
        if self._pending and self._target is not None:
            batch, self._pending = tuple(self._pending), []
            self._target.post_message(EngineEvents(batch))
