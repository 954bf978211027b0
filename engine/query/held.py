"""Queries asked while a run goes on reach its Worlds (M5, M2).

What an observer does to a live run (a question, an elevation, someone made on demand, what
those brought) is committed at once, but a World in the middle of a timepoint is not changed
under its feet: the events are held until one of the run's Worlds is about to make its next
timepoint, then folded into it when they are about a moment of its lineage, and marked there
with a ``QueriesApplied`` event. From that timepoint on, the branch's levels, attention and
knowledge include them: a person questioned twice is raised, one raised by a query holds its
level, one made on demand can be present. A replay reads the marks and asks the same queries
again at the same points, so that it makes the same timepoints."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..model import events as ev
from ..world import Recorder, World
from ..world.world import is_observer, observed
from .answer import QueryFailed
from .execute import Consent

Ask = Callable[..., Awaitable[Any]]  # Simulation.query

_QUERY_OF_EXPOSURE = re.compile(r"(?:^|\.)(q\d+)-[xc]\d+$")


def query_of(event: ev.EventBase) -> str | None:
    """The query an observer's event belongs to."""
    found = getattr(event, "query_id", None)
    if found:
        return str(found)
    if isinstance(event, ev.ExposureRecorded):
        match = _QUERY_OF_EXPOSURE.search(event.exposure.exposure_id)
        return match.group(1) if match else None
    return None


class HeldQueries:
    """The observer events a live run holds for its Worlds, and, in a replay, the points at
    which the recorded run took them in."""

    def __init__(self, recorder: Recorder, recorded: Sequence[ev.EventBase] = ()) -> None:
        self.recorder = recorder
        self.recorded = list(recorded)
        self.held: list[ev.EventBase] = []
        self.replayed: set[str] = set()  # query ids a replay has asked again
        self._due: dict[tuple[str, int], list[str]] = {}
        self._held_back: set[tuple[str, int]] = set()  # made only after the queries there
        for event in recorded:
            if isinstance(event, ev.QueriesApplied):
                due = self._due.setdefault((event.branch_id, event.index), [])
                due.extend(q for q in event.query_ids if q not in due)
                if not event.prefetched:
                    self._held_back.add((event.branch_id, event.index))

    def may_prefetch(self, branch_id: str, index: int) -> bool:
        """Whether a replay may start that timepoint's event ahead of time: not where the
        recorded run made it only once held queries were applied to the World."""
        return (branch_id, index) not in self._held_back

    @contextmanager
    def hearing(self) -> Iterator[None]:
        """Hold the observer events made while the block runs (one query)."""
        heard: list[ev.EventBase] = []

        def listen(event: ev.EventBase) -> None:
            if event.PERSIST and is_observer(event):
                heard.append(event)

        self.recorder.listeners.append(listen)
        try:
            yield
        finally:
            self.recorder.listeners.remove(listen)
            self.held.extend(heard)

    def asks(self, qid: str | None = None) -> list[tuple[str, str | None]]:
        """The recorded run's queries as they were typed, with their moments: those of ``qid``,
        or (None) all those not asked again yet."""
        answered = {e.query_id for e in self.recorded if isinstance(e, ev.QueryAnswered)}
        out: list[tuple[str, str | None]] = []
        for e in self.recorded:
            owner = getattr(e, "query_id", None)
            wanted = owner == qid if qid is not None else owner not in self.replayed
            if not wanted:
                continue
            if isinstance(e, ev.QueryAnswered):
                out.append((f"@{e.entity_id} {e.question}", e.timepoint_id))
            elif isinstance(e, ev.EntityElevated) and e.query_id not in answered:
                out.append((f"/elevate @{e.entity_id} to {e.resolution.value}", e.timepoint_id))
            elif isinstance(e, ev.RecordLookedUp):
                out.append((e.text, e.timepoint_id))
        return out

    async def ask_again(self, asks: list[tuple[str, str | None]], query: Ask) -> int:
        """Put recorded queries again, in order, at their moments, agreeing to what they
        did; return how many were put. One that fails is recorded by its call."""
        for text, at in asks:
            with contextlib.suppress(QueryFailed):
                await query(text, at=at, consent=Consent(elevate=True, create=True))
        return len(asks)

    async def replay_due(self, world: World, index: int, query: Ask) -> None:
        """In a replay, ask again the queries the recorded run took in before ``world`` made
        timepoint ``index``."""
        for qid in self.due(world, index):
            await self.ask_again(self.asks(qid), query)
            self.replayed.add(qid)

    async def before_timepoint(
        self, world: World, index: int, *, query: Ask, prefetching: Callable[[str, int], bool]
    ) -> None:
        """Before ``world`` makes timepoint ``index``: a replay asks again the queries the
        recorded run took in there; then what observers did meanwhile reaches the World."""
        await self.replay_due(world, index, query)
        self.apply(world, index, prefetching(world.branch_id, index))

    def due(self, world: World, index: int) -> list[str]:
        """The recorded queries a replay asks before ``world`` makes timepoint ``index``."""
        return [q for q in self._due.pop((world.branch_id, index), []) if q not in self.replayed]

    def apply(self, world: World, index: int, prefetched: bool = False) -> tuple[str, ...]:
        """Fold into ``world`` what it does not hold yet of the events about its lineage, and
        mark it (``prefetched``: its next event was already being made); return the queries
        it took in."""
        moments = [t.timepoint_id for t in world.timepoints]
        known = set(world.entities)
        taken: list[str] = []
        for event in self.held:
            if event.seq in world.observed_seqs or not observed(event, moments, known):
                continue
            world.apply(event)
            if isinstance(event, ev.EntityCreated):
                known.add(event.profile.entity_id)
            qid = query_of(event)
            if qid and qid not in taken:
                taken.append(qid)
        if taken:
            self.recorder.emit(
                self.recorder.run_unit,
                world,
                ev.QueriesApplied,
                index=index,
                query_ids=tuple(taken),
                prefetched=prefetched,
            )
        return tuple(taken)
