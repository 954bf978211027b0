"""The recorder: the one place a run's events are made, folded and committed.

Every event gets the run's next ``seq`` and the branch of the World it happens on, is folded
into that World (:meth:`World.apply`), is handed to the live listeners, and waits in a *unit*
until the unit is committed: one store transaction per unit (the set-up, one timepoint of one
branch, an observer action, the end of the run). Several units can be open at once, one per
branch advancing side by side. A *deferred* unit (a branch advancing beside others) numbers
its events only when it is committed, and only then tells the listeners: branches that run
side by side are committed in a fixed order, so the log's order never depends on which call
finished first. A unit that fails is discarded: its events never reach the
store, except the model calls it made and any budget warning, which stay in the log so that
what was spent is never lost; live listeners get an ``EventsDiscarded`` to take the rest back.

The run's counts are folded by the one run fold, :class:`~engine.view.tally.RunTally`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..llm.cassette import Cassette
from ..llm.gateway import CallRecord
from ..model import events as ev
from ..model.common import MAIN_BRANCH
from ..store import Store
from ..view.tally import RunTally
from .world import World

Listener = Callable[[ev.EventBase], None]
_KEPT = (ev.LLMCallFinished, ev.BudgetWarning)


@dataclass
class Unit:
    """Events waiting to be committed together."""

    name: str
    events: list[ev.EventBase] = field(default_factory=list)
    first_seq: int = 0
    deferred: bool = False  # numbered and told to the listeners at commit


class Recorder:
    def __init__(self, run_id: str, store: Store, cassette: Cassette | None = None) -> None:
        self.run_id = run_id
        self.store = store
        self.cassette = cassette
        self.seq = 0
        self.listeners: list[Listener] = []
        self.committed = RunTally()
        self.run_unit = Unit("run")  # events of no step in particular (budget warnings)
        self._units: list[Unit] = [self.run_unit]
        self._calls: set[str] = set()
        self._keys: set[str] = set()  # the call keys given out, and those of the calls logged

    # ------------------------------------------------------------------ units
    def open(self, name: str, *, deferred: bool = False) -> Unit:
        unit = Unit(name, first_seq=self.seq + 1, deferred=deferred)
        self._units.append(unit)
        return unit

    def open_units(self) -> list[Unit]:
        """The units still waiting (not the run's own)."""
        return [u for u in self._units if u is not self.run_unit]

    def pending(self) -> list[ev.EventBase]:
        return [e for u in self._units for e in u.events]

    # ------------------------------------------------------------------ making events
    def emit(
        self,
        unit: Unit,
        world: World | None,
        cls: type[ev.EventBase],
        *,
        sim_time: datetime | None = None,
        branch_id: str | None = None,
        **fields: Any,
    ) -> ev.EventBase:
        """Make one event on ``world``'s branch (or ``branch_id``'s, or the main branch's when
        neither is given), fold it into the World, hold it in ``unit`` and tell the listeners."""
        if unit.deferred and not cls.PERSIST:
            return cls(run_id=self.run_id, branch_id=branch_id or MAIN_BRANCH, seq=0, **fields)
        if cls.PERSIST and not unit.deferred:
            self.seq += 1
        when = sim_time if sim_time is not None else (world.sim_time if world else None)
        if branch_id is None:
            branch_id = world.branch_id if world is not None else MAIN_BRANCH
        event = cls(
            run_id=self.run_id,
            branch_id=branch_id,
            seq=0 if unit.deferred else self.seq,
            sim_time=when,
            **fields,
        )
        if event.PERSIST:
            if world is not None:
                world.apply(event)
            unit.events.append(event)
        if not unit.deferred:
            self._tell(event)
        return event

    def _tell(self, event: ev.EventBase) -> None:
        for listener in self.listeners:
            listener(event)

    def _number(self, events: list[ev.EventBase]) -> list[ev.EventBase]:
        """Give a deferred unit's events their seqs, in the order they were made."""
        numbered = []
        for event in events:
            self.seq += 1
            numbered.append(event.model_copy(update={"seq": self.seq}))
        return numbered

    def calls(
        self,
        unit: Unit,
        world: World | None,
        records: list[CallRecord],
        branch_id: str | None = None,
    ) -> None:
        """One ``LLMCallFinished`` per attempt not reported yet."""
        for r in records:
            if r.call_id in self._calls:
                continue
            self._calls.add(r.call_id)
            self.emit(
                unit,
                world,
                ev.LLMCallFinished,
                branch_id=branch_id,
                call_id=r.call_id,
                action=r.action,
                provider=r.provider,
                model=r.model,
                status=r.status,
                prompt_tokens=r.prompt_tokens,
                completion_tokens=r.completion_tokens,
                cost_usd=r.cost_usd,
                latency_ms=round(r.latency_ms, 3),
                request_hash=r.request_hash,
                timepoint_id=r.timepoint_id,
                error=r.error,
                cached=r.cached,
                entity_id=r.entity_id,
            )

    def reported(self, call_id: str) -> bool:
        return call_id in self._calls

    def fresh_key(self, key: str) -> str:
        """``key`` for a new call, or, when a call of the run already had it (a set-up or a
        mode's call made again after a failure or a stop, in a resumed run), its next attempt's
        (``setup~2/population``): no two calls of a run share an id, so every attempt is a row
        of its own. Depends only on the log and the calls made, never on timing."""
        fresh = key
        scope, sep, rest = key.partition("/")
        n = 1
        while fresh in self._keys:
            n += 1
            fresh = f"{scope.split('~', 1)[0]}~{n}{sep}{rest}" if sep else f"{key}~{n}"
        self._keys.add(fresh)
        return fresh

    # ------------------------------------------------------------------ committing
    async def commit(self, unit: Unit) -> None:
        """Write the unit (and the run's loose events) in one transaction."""
        batch = list(self.run_unit.events)
        told: list[ev.EventBase] = []
        if unit.deferred:
            told = self._number(unit.events)
            batch.extend(told)
        elif unit is not self.run_unit:
            batch.extend(unit.events)
        self.run_unit.events = []
        unit.events = []
        if unit is not self.run_unit and unit in self._units:
            self._units.remove(unit)
        cassette = self.cassette.drain() if self.cassette is not None else ()
        # A cancellation (a stop, a signal) that comes while the transaction is under way waits
        # for it to end: what it wrote is then counted and told before the cancellation goes
        # on, so the run's end records counts that agree with its log.
        write = asyncio.ensure_future(self.store.append(batch, cassette))
        cancelled = False
        while not write.done():
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                cancelled = True
        write.result()  # a failed write raises here, whether or not it was cancelled
        self.committed.add_all(batch)
        for event in told:
            self._tell(event)
        if cancelled:
            raise asyncio.CancelledError

    def discard(self, unit: Unit, world: World | None) -> tuple[ev.EventBase, ...]:
        """Drop a unit's events but its model calls and budget warnings (which move to the
        run's loose events, to be committed next); tell live listeners what was dropped."""
        kept = [e for e in unit.events if isinstance(e, _KEPT)]
        dropped = tuple(e for e in unit.events if not isinstance(e, _KEPT))
        unit.events = []
        if unit is not self.run_unit and unit in self._units:
            self._units.remove(unit)
        if unit.deferred:  # never told: its kept calls are numbered now, the rest vanish
            kept = self._number(kept)
            for event in kept:
                self._tell(event)
            self.run_unit.events.extend(kept)
            if dropped and world is not None:
                world.stale = True
            return dropped
        self.run_unit.events.extend(kept)
        if dropped:
            if world is not None:
                world.stale = True
            self.emit(self.run_unit, None, ev.EventsDiscarded, events=dropped)
        return dropped

    def restore(self, events: list[ev.EventBase]) -> None:
        """Continue a stored run: its counts, its last seq and the calls it has reported."""
        for event in events:
            self.committed.add(event)
            self.seq = max(self.seq, event.seq)
            if isinstance(event, ev.LLMCallFinished):
                self._calls.add(event.call_id)
                self._keys.add(event.call_id.split("#", 1)[0])

    def tally(self) -> RunTally:
        """The counts of everything made so far, committed or not."""
        return self.committed.copy().add_all(self.pending())
