"""The backward search of PORTAL (M17): from the endpoint to the origin side, slot by slot.

A *chain* is one history being built: a state for some of the slots 0 (the endpoint) to
``steps`` (the origin side). A *beam* is a set of chains with the same slots filled, of which it
keeps at most ``width``. Each round, every unfinished beam picks its next slot (the strategy's
order, :func:`next_slot`), every chain in it asks for antecedents of its nearest state on the
endpoint side (told the nearest state on the origin side when one is already fixed), every
proposal is scored, and the beam keeps its best extensions. All calls of a round run at once;
what they produced is recorded afterwards in a fixed order, so the record does not depend on
which call answered first.

A finished chain is read forwards and judged link by link (:mod:`.coherence`); a chain whose
coherence falls short goes back to its weakest link: the states from there to the origin side
are proposed again (the rejected ones to be avoided) in a beam of its own, and judged again,
up to ``max_backtrack_depth`` times.

The search makes no call and records nothing itself: a :class:`Host` (the PORTAL mode) does,
in two halves, an ``async`` call with no side effect and a synchronous recording of its result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .beam import select
from .coherence import Verdict, coherence, verdict, weakest_link
from .graph import Candidate
from .order import adaptive, neighbour_spread

ADAPTIVE_SWITCH = 0.3  # a score spread this wide at the last slot pins the origin side next

Chain = dict[int, Candidate]


class SearchFailed(Exception):
    """No antecedent could be found for any chain at a slot; the failures are recorded."""

    def __init__(self, slot: int) -> None:
        super().__init__(f"no antecedent could be proposed or scored at step {slot} back")
        self.slot = slot


@dataclass(frozen=True)
class Request:
    """One call for antecedents: of ``later``, at ``slot``, following from ``earlier``."""

    slot: int
    later: Candidate
    earlier: Candidate | None
    avoid: tuple[str, ...]
    attempt: int
    toward: tuple[Candidate, ...] = ()  # the states after ``later``, to the endpoint
    lane: int = 0  # which path a backtrack's request is for (two may share a later state)


@dataclass(frozen=True)
class Judged:
    """A finished path (origin first) with its links, coherence and the last verdict."""

    path_id: str
    path: tuple[Candidate, ...]
    links: tuple[float | None, ...]
    coherence: float | None
    verdict: Verdict
    backtracks: int


class Host(Protocol):
    async def gate(self) -> None: ...
    async def propose(self, request: Request) -> Any: ...
    def proposed(self, request: Request, result: Any) -> list[Candidate]: ...
    async def score(self, candidate: Candidate, later: Candidate) -> Any: ...
    def scored(self, candidate: Candidate, result: Any) -> Candidate: ...
    def kept(self, slot: int, kept: Sequence[Candidate], aside: Sequence[Candidate]) -> None: ...
    async def judge(self, path: Sequence[Candidate]) -> Any: ...
    def judged(self, path: Sequence[Candidate], result: Any) -> list[float | None] | None: ...
    def decided(self, judged: Judged) -> None: ...
    async def commit(self) -> None: ...


@dataclass
class Beam:
    chains: list[Chain]
    width: int
    remaining: list[int]
    attempt: int = 0
    avoid: dict[int, list[str]] = field(default_factory=dict)
    turn: int = 0  # how many slots it has filled (the oscillating order alternates on it)
    failed_at: int | None = None
    lane: int = 0
    last: int | None = None  # the slot it filled last (adaptive reads how its scores spread)


def later_of(chain: Chain, slot: int) -> Candidate:
    return chain[max(s for s in chain if s < slot)]


def earlier_of(chain: Chain, slot: int) -> Candidate | None:
    further = [s for s in chain if s > slot]
    return chain[min(further)] if further else None


def next_slot(strategy: str, beam: Beam, steps: int, scores: dict[int, list[float | None]]) -> int:
    """The slot a beam fills next. Reverse chronological: the nearest the endpoint.
    Oscillating: alternately the nearest the endpoint and the nearest the origin side.
    Adaptive: the most uncertain (the spread of the scores beside it, :func:`neighbour_spread`);
    when the proposals of the slot the beam filled last disagreed by more than
    :data:`ADAPTIVE_SWITCH`, the origin side is pinned next, since the history is open and its
    start should constrain it."""
    left = sorted(beam.remaining)
    if strategy == "oscillating":
        return left[0] if beam.turn % 2 == 0 else left[-1]
    if strategy == "adaptive":
        last = beam.last
        known = [v for v in scores.get(last, []) if v is not None] if last is not None else []
        if len(known) >= 2 and max(known) - min(known) > ADAPTIVE_SWITCH and len(left) > 1:
            return left[-1]
        spread = {s: v for s, v in neighbour_spread(scores, steps).items() if s in left}
        order = adaptive(steps, spread)
        return next(s for s in order if s in left)
    return left[0]


class Search:
    """One backward search over ``steps`` slots from ``endpoint`` (slot 0)."""

    def __init__(
        self,
        host: Host,
        endpoint: Candidate,
        *,
        steps: int,
        width: int,
        strategy: str,
        threshold: float,
        max_backtracks: int,
    ) -> None:
        self.host = host
        self.endpoint = endpoint
        self.steps = steps
        self.width = width
        self.strategy = strategy
        self.threshold = threshold
        self.max_backtracks = max_backtracks
        self.scores: dict[int, list[float | None]] = {}  # every score proposed at a slot

    async def run(self) -> list[Judged]:
        """Every finished path, judged (backtracked where it fell short), in beam order."""
        first = Beam([{0: self.endpoint}], self.width, list(range(1, self.steps + 1)))
        await self.fill([first])
        if first.failed_at is not None or not first.chains:
            raise SearchFailed(first.failed_at or 1)
        return await self.settle(first.chains)

    async def fill(self, beams: list[Beam]) -> None:
        """Fill every beam's remaining slots, round by round, all beams' calls together."""
        while True:
            live = [b for b in beams if b.remaining and b.failed_at is None and b.chains]
            if not live:
                return
            await self.host.gate()
            slots = [next_slot(self.strategy, b, self.steps, self.scores) for b in live]
            requests = [
                [
                    Request(
                        slot,
                        later_of(chain, slot),
                        earlier_of(chain, slot),
                        tuple(b.avoid.get(slot, ())),
                        b.attempt,
                        tuple(chain[s] for s in sorted(chain) if s < slot)[::-1][1:],
                        b.lane,
                    )
                    for chain in b.chains
                ]
                for b, slot in zip(live, slots, strict=True)
            ]
            flat = [(bi, ci, r) for bi, rs in enumerate(requests) for ci, r in enumerate(rs)]
            answers = await asyncio.gather(*(self.host.propose(r) for _, _, r in flat))
            pairs = [
                (bi, ci, r, c)
                for (bi, ci, r), answer in zip(flat, answers, strict=True)
                for c in self.host.proposed(r, answer)
            ]
            results = await asyncio.gather(*(self.host.score(c, r.later) for *_, r, c in pairs))
            scored = [
                (bi, ci, self.host.scored(c, answer))
                for (bi, ci, _, c), answer in zip(pairs, results, strict=True)
            ]
            for bi, (b, slot) in enumerate(zip(live, slots, strict=True)):
                mine = [(ci, c) for j, ci, c in scored if j == bi]
                self.scores.setdefault(slot, []).extend(c.score for _, c in mine)
                b.remaining.remove(slot)
                b.turn += 1
                b.last = slot
                if not mine:
                    b.failed_at = slot
                    continue
                of = {c.candidate_id: ci for ci, c in mine}
                best = select([c for _, c in mine], b.width)
                self.host.kept(slot, best, [c for _, c in mine if c not in best])
                b.chains = [{**b.chains[of[c.candidate_id]], slot: c} for c in best]
            await self.host.commit()

    async def settle(self, chains: list[Chain]) -> list[Judged]:
        """Judge every chain; send those that fall short back to their weakest link."""
        backtracks = [0] * len(chains)
        avoid: list[dict[int, list[str]]] = [{} for _ in chains]
        final: list[Judged | None] = [None] * len(chains)
        pending = list(range(len(chains)))
        while pending:
            await self.host.gate()
            paths = [self._path(chains[i]) for i in pending]
            answers = await asyncio.gather(*(self.host.judge(p) for p in paths))
            retry: list[int] = []
            for i, path, answer in zip(pending, paths, answers, strict=True):
                links = self.host.judged(path, answer)
                judged = self._decide(i, path, links, backtracks[i])
                self.host.decided(judged)
                if judged.verdict.action == "backtrack":
                    retry.append(i)
                final[i] = judged
            await self.host.commit()
            beams = []
            for i in retry:
                cut = final[i].verdict.at_step if final[i] else None  # type: ignore[union-attr]
                assert cut is not None
                for s, c in chains[i].items():
                    if s >= cut:
                        avoid[i].setdefault(s, []).append(c.text)
                base = {s: c for s, c in chains[i].items() if s < cut}
                beams.append(
                    Beam(
                        [base],
                        1,
                        list(range(cut, self.steps + 1)),
                        backtracks[i] + 1,
                        avoid[i],
                        lane=i + 1,
                    )
                )
            await self.fill(beams)
            pending = []
            for i, beam in zip(retry, beams, strict=True):
                backtracks[i] += 1
                if beam.failed_at is None and beam.chains:
                    chains[i] = beam.chains[0]
                    pending.append(i)
                else:
                    last = final[i]
                    assert last is not None
                    kept = self._decide(
                        i, list(last.path), list(last.links), backtracks[i], regenerated=False
                    )
                    self.host.decided(kept)
                    final[i] = kept
            await self.host.commit()
        return [j for j in final if j is not None]

    def _path(self, chain: Chain) -> list[Candidate]:
        return [chain[s] for s in sorted(chain, reverse=True)]

    def _decide(
        self,
        index: int,
        path: list[Candidate],
        links: list[float | None] | None,
        backtracks: int,
        *,
        regenerated: bool = True,
    ) -> Judged:
        judged = list(links) if links is not None else [None] * (len(path) - 1)
        value = coherence(judged)
        weakest = weakest_link(judged, [c.step for c in path])
        decision = verdict(
            value,
            threshold=self.threshold,
            backtracks_used=backtracks if regenerated else self.max_backtracks,
            max_backtrack_depth=self.max_backtracks,
            weakest_link=weakest,
        )
        if not regenerated and decision.action == "keep_with_warning":
            decision = Verdict(
                decision.action,
                None,
                f"Coherence {value:.2f} is below the threshold of {self.threshold:.2f} and the "
                "states from its weakest link could not be proposed again, so the path is kept "
                "but flagged as doubtful.",
            )
        return Judged(f"path{index + 1}", tuple(path), tuple(judged), value, decision, backtracks)
