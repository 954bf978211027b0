"""PORTAL mode (M17): from a known endpoint back to an origin, every plausible path kept.

The run has three parts. The search (:mod:`engine.portal.search`, its calls and record in
:mod:`.portal_host`) proposes, scores and judges states back from the endpoint. The paths it
keeps become branches ``p1``, ``p2``, ... opened before anything happened (the cast made, no
timepoint yet), each playing its states forwards, origin first, as timepoints with their
dialog: what someone knows at a state of a path is what reached them on that path before it,
so nothing from a later state or another path can be said (the knowledge of portal time).
Then the paths are compared: where they part (divergence by position) and where each turns
(pivots, from the run's own signals: divergence, scores, entity changes and dialog).
"""

from __future__ import annotations

from datetime import datetime

from ..model import events as ev
from ..model import portal_events as pe
from ..model.common import MAIN_BRANCH, RunStatus, TemporalMode
from ..model.timepoint import Phase
from ..portal import Candidate, detect, divergence, key_steps, per_path
from ..portal.search import Judged, Search, SearchFailed
from ..scenario.schema import PortalSpec, Scenario
from ..steps.timepoint import Given
from .base import Driver, Mode, ModeFailed, StepFailed
from .forward import phase, tension
from .portal_host import PortalHost

NOT_SUPPORTED = {
    "simulation_judging": "simulation judging (a short forward run from each candidate) is not "
    "supported by this version; candidates are judged by the hybrid score alone",
}


class PortalFailed(ModeFailed):
    """The backward search found no path, or no kept path could be played; the failures are
    in the record."""


def slot_times(spec: PortalSpec) -> list[datetime]:
    """The time of each slot, the endpoint's first, evenly back to the origin."""
    span = spec.endpoint_at - spec.origin_at
    n = spec.backward_steps
    return [spec.endpoint_at - span * slot / n for slot in range(n + 1)]


class Portal(Mode):
    mode = TemporalMode.PORTAL

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        assert scenario.portal is not None, "the schema requires it for portal mode"
        self.spec: PortalSpec = scenario.portal
        self._proposed: dict[str, pe.PortalCandidateProposed] = {}

    @property
    def length(self) -> int:
        """States on a path: the endpoint and one per step back."""
        return self.spec.backward_steps + 1

    def planned_timepoints(self) -> int:
        return self.spec.path_count * self.length

    def arc(self, index: int, count: int) -> tuple[Phase, float]:
        return phase(index, count), tension(index, count, self.scenario.tension)

    async def run(self, driver: Driver) -> None:
        events = await driver.events()
        kept = _kept(events)
        if kept is None:
            kept = await self.search(driver, events)
        states = {
            e.candidate_id: e for e in events if isinstance(e, pe.PortalCandidateProposed)
        } | self._proposed
        await self.play(driver, kept, states)
        events = await driver.events()
        if not any(isinstance(e, pe.PortalAnalysed) for e in events):
            self.analyse(driver, kept, states, events)
            await driver.steps.recorder.commit(driver.steps.recorder.run_unit)
        for path in kept.paths:
            world = driver.worlds.get(path.branch_id)
            if world is not None and path.branch_id not in driver.closed:
                await driver.close(world, RunStatus.COMPLETED)

    async def search(self, driver: Driver, events: list[ev.EventBase]) -> pe.PortalPathsKept:
        spec, steps = self.spec, driver.steps
        world = driver.worlds[MAIN_BRANCH]
        times = slot_times(spec)
        host = PortalHost(steps, world, spec, times, driver.gate)
        earlier = sum(1 for e in events if isinstance(e, pe.PortalSearchStarted))
        host.prefix = f"r{earlier + 1}." if earlier else ""
        normalised = sum(spec.weights.model_dump().values())
        host.emit(
            pe.PortalSearchStarted,
            endpoint=spec.endpoint,
            steps=spec.backward_steps,
            strategy=spec.strategy,
            candidates_per_step=spec.candidates_per_step,
            beam=spec.width,
            path_count=spec.path_count,
            coherence_threshold=spec.coherence_threshold,
            max_backtrack_depth=spec.max_backtrack_depth,
            weights={n: round(w / normalised, 4) for n, w in spec.weights.model_dump().items()},
            slot_times=tuple(times),
            not_supported=tuple(v for k, v in NOT_SUPPORTED.items() if getattr(spec, k)),
        )
        search = Search(
            host,
            host.endpoint(),
            steps=spec.backward_steps,
            width=spec.width,
            strategy=spec.strategy,
            threshold=spec.coherence_threshold,
            max_backtracks=spec.max_backtrack_depth,
        )
        await host.commit()
        try:
            judged = await search.run()
        except SearchFailed as exc:
            await host.commit()
            raise PortalFailed(f"the backward search stopped: {exc}") from exc
        kept = choose(judged, spec.path_count)
        if not kept:
            raise PortalFailed("every path the search found was pruned (no link could be judged)")
        ids = {j.path_id for j in kept}
        made = host.emit(
            pe.PortalPathsKept,
            paths=tuple(
                pe.KeptPath(
                    path_id=j.path_id,
                    rank=rank,
                    branch_id=f"p{rank}",
                    candidate_ids=tuple(c.candidate_id for c in j.path),
                    coherence=j.coherence,
                    score=_mean([c.score for c in j.path]),
                    cluster=cluster,
                    warning=j.verdict.reason if j.verdict.action == "keep_with_warning" else None,
                )
                for rank, (j, cluster) in enumerate(zip(kept, clusters(kept), strict=True), 1)
            ),
            not_kept=tuple(j.path_id for j in judged if j.path_id not in ids),
        )
        assert isinstance(made, pe.PortalPathsKept)
        await host.commit()
        self._proposed = {
            e.candidate_id: e
            for e in await driver.events()
            if isinstance(e, pe.PortalCandidateProposed)
        }
        return made

    async def play(
        self,
        driver: Driver,
        kept: pe.PortalPathsKept,
        states: dict[str, pe.PortalCandidateProposed],
    ) -> None:
        """Each kept path as a branch, its states forwards as timepoints, side by side."""
        main = driver.worlds[MAIN_BRANCH]
        for path in kept.paths:
            if path.branch_id not in driver.worlds:
                await driver.gate()
                label = f"path {path.rank}: {states[path.candidate_ids[0]].title}"
                await driver.fork(main, None, path.branch_id, label=label)
        running = [
            driver.worlds[p.branch_id] for p in kept.paths if p.branch_id not in driver.closed
        ]
        by_branch = {p.branch_id: p for p in kept.paths}
        for index in range(min((w.completed for w in running), default=self.length), self.length):
            due = [w for w in running if w.completed == index]
            if not due:
                continue
            await driver.gate()
            given = {}
            for world in due:
                state = states[by_branch[world.branch_id].candidate_ids[index]]
                given[world.branch_id] = Given(
                    when=state.when,
                    title=state.title,
                    description=state.description,
                    present=state.entities_present,
                    count=self.length,
                )
            failed = await driver.advance_together(due, index, given)
            for branch, failure in failed.items():
                world = driver.worlds[branch]
                running.remove(world)
                await driver.close(
                    world, RunStatus.FAILED, f"timepoint {failure.index + 1}: {failure}"
                )
                if not running:
                    raise StepFailed(failure.index, failure.cause)

    def analyse(
        self,
        driver: Driver,
        kept: pe.PortalPathsKept,
        states: dict[str, pe.PortalCandidateProposed],
        events: list[ev.EventBase],
    ) -> None:
        """Where the paths part and where each turns, recorded as one event."""
        scores = {
            e.candidate_id: e.score for e in events if isinstance(e, pe.PortalCandidateScored)
        }
        paths = [
            [_candidate(states[cid], scores.get(cid)) for cid in p.candidate_ids]
            for p in kept.paths
        ]
        div = divergence(paths)
        index = {
            e.timepoint.timepoint_id: (e.branch_id, e.timepoint.index)
            for e in events
            if isinstance(e, ev.TimepointCreated)
        }
        branch_index = {p.branch_id: i for i, p in enumerate(kept.paths)}
        dialogs = {e.dialog_id: e.timepoint_id for e in events if isinstance(e, ev.DialogStarted)}
        turns: dict[tuple[int, int], int] = {}
        for e in events:
            at = dialogs.get(e.turn.dialog_id) if isinstance(e, ev.DialogTurnFinished) else None
            if at in index:
                branch, position = index[at]
                if branch in branch_index:
                    key = (branch_index[branch], position)
                    turns[key] = turns.get(key, 0) + 1
        names = {
            e.profile.entity_id: e.profile.name for e in events if isinstance(e, ev.EntityCreated)
        }
        found = detect(paths, div, turns_at=turns, names=names, own=per_path(paths))
        last = len(paths[0]) - 1 if paths else 0
        driver.steps.recorder.emit(
            driver.steps.recorder.run_unit,
            None,
            pe.PortalAnalysed,
            divergence=tuple(div[p] for p in sorted(div)),
            key_positions=tuple(key_steps(div)),
            pivots=tuple(
                pe.PivotInfo(
                    path_id=kept.paths[p.path_index].path_id,
                    branch_id=kept.paths[p.path_index].branch_id,
                    position=p.position,
                    slot=last - p.position,
                    candidate_id=kept.paths[p.path_index].candidate_ids[p.position],
                    strength=p.strength,
                    reasons=p.reasons,
                    sentence=p.sentence,
                )
                for p in found
            ),
        )


def choose(judged: list[Judged], count: int) -> list[Judged]:
    """The paths kept: those not pruned, the coherent before the doubtful, then by coherence
    and by the mean score of their states."""
    alive = [j for j in judged if j.verdict.action in ("keep", "keep_with_warning")]
    alive.sort(
        key=lambda j: (
            j.verdict.action != "keep",
            -(j.coherence or 0.0),
            -(_mean([c.score for c in j.path]) or 0.0),
            j.path_id,
        )
    )
    return alive[:count]


def clusters(kept: list[Judged]) -> list[int]:
    """Paths that agree on the state just before the endpoint are of one cluster (numbered
    from 1 in the order the paths are kept)."""
    seen: dict[str, int] = {}
    out = []
    for j in kept:
        near = j.path[-2].candidate_id if len(j.path) >= 2 else j.path[-1].candidate_id
        out.append(seen.setdefault(near, len(seen) + 1))
    return out


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 4) if known else None


def _candidate(e: pe.PortalCandidateProposed, score: float | None) -> Candidate:
    return Candidate(
        e.candidate_id,
        e.slot,
        e.later_id,
        e.description,
        e.key_events,
        e.entities_present,
        {k: abs(v) for k, v in e.entity_changes.items()},
        score=score,
    )


def _kept(events: list[ev.EventBase]) -> pe.PortalPathsKept | None:
    return next((e for e in reversed(events) if isinstance(e, pe.PortalPathsKept)), None)
