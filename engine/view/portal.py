"""The read model of a PORTAL run: what its search proposed, scored, kept and decided, folded
from its PORTAL events (:mod:`engine.model.portal_events`), live or from the stored log.

Everything the explorer's portal view and ``timeloom show`` need: every candidate with its
scores and what it was proposed to explain, the frontier as the search goes, every judged path
and the kept ones (best first) as branches, the divergence by position and the pivots.
Positions count the way time runs (0 is the origin side); slots count back from the endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..model import portal_events as pe


@dataclass(frozen=True)
class CandidateInfo:
    candidate_id: str
    slot: int
    later_id: str | None
    earlier_id: str | None
    when: datetime
    title: str
    description: str
    key_events: tuple[str, ...]
    entity_changes: dict[str, float]
    world_context: str
    causal_link: str
    entities_present: tuple[str, ...]
    source: str
    attempt: int
    score: float | None = None
    components: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    scored: bool = False
    beam: str = "proposed"  # "kept" or "set aside" once its slot's beam is chosen


@dataclass
class PortalView:
    settings: pe.PortalSearchStarted | None = None
    candidates: dict[str, CandidateInfo] = field(default_factory=dict)
    failures: list[pe.PortalStepFailed] = field(default_factory=list)
    beams: list[pe.PortalBeamKept] = field(default_factory=list)
    judged: list[pe.PortalPathJudged] = field(default_factory=list)
    kept: tuple[pe.KeptPath, ...] = ()
    not_kept: tuple[str, ...] = ()
    divergence: tuple[float, ...] = ()
    key_positions: tuple[int, ...] = ()
    pivots: tuple[pe.PivotInfo, ...] = ()
    searches: int = 1  # more than one when a stopped search was begun again on resume

    @classmethod
    def of(cls, events: Iterable[Any]) -> PortalView:
        view = cls()
        for event in events:
            view.apply(event)
        return view

    @property
    def active(self) -> bool:
        """Whether this run has a PORTAL search at all."""
        return self.settings is not None

    # ------------------------------------------------------------------ the fold
    def apply(self, e: Any) -> bool:
        """Fold one event; whether it was a PORTAL event."""
        if isinstance(e, pe.PortalSearchStarted):
            if self.settings is not None:  # a resumed run searched again: the new search counts
                self.searches += 1
                self.candidates, self.failures, self.beams, self.judged = {}, [], [], []
            self.settings = e
        elif isinstance(e, pe.PortalCandidateProposed):
            self.candidates[e.candidate_id] = CandidateInfo(
                e.candidate_id,
                e.slot,
                e.later_id,
                e.earlier_id,
                e.when,
                e.title,
                e.description,
                e.key_events,
                dict(e.entity_changes),
                e.world_context,
                e.causal_link,
                e.entities_present,
                e.source,
                e.attempt,
            )
        elif isinstance(e, pe.PortalCandidateScored):
            known = self.candidates.get(e.candidate_id)
            if known is not None:
                self.candidates[e.candidate_id] = _replace(
                    known,
                    score=e.score,
                    components=dict(e.components),
                    missing=dict(e.missing),
                    weights=dict(e.weights),
                    reason=e.reason,
                    scored=True,
                )
        elif isinstance(e, pe.PortalStepFailed):
            self.failures.append(e)
        elif isinstance(e, pe.PortalBeamKept):
            self.beams.append(e)
            for cid, mark in [(c, "kept") for c in e.kept] + [
                (c, "set aside") for c in e.set_aside
            ]:
                if cid in self.candidates:
                    self.candidates[cid] = _replace(self.candidates[cid], beam=mark)
        elif isinstance(e, pe.PortalPathJudged):
            self.judged.append(e)
        elif isinstance(e, pe.PortalPathsKept):
            self.kept, self.not_kept = e.paths, e.not_kept
        elif isinstance(e, pe.PortalAnalysed):
            self.divergence, self.key_positions, self.pivots = (
                e.divergence,
                e.key_positions,
                e.pivots,
            )
        else:
            return False
        return True

    # ------------------------------------------------------------------ reading
    @property
    def steps(self) -> int:
        return self.settings.steps if self.settings else 0

    def at_slot(self, slot: int) -> list[CandidateInfo]:
        """The competing states of one slot, best score first (unscored last)."""
        found = [c for c in self.candidates.values() if c.slot == slot]
        return sorted(found, key=lambda c: (c.score is None, -(c.score or 0.0), c.candidate_id))

    def frontier(self) -> list[CandidateInfo]:
        """The states the search goes on from, as it stands (the last beam chosen)."""
        if not self.beams:
            return [c for c in self.candidates.values() if c.slot == 0]
        return [self.candidates[c] for c in self.beams[-1].kept if c in self.candidates]

    def path(self, branch_id: str) -> list[CandidateInfo]:
        """A kept path's states, origin first."""
        kept = next((p for p in self.kept if p.branch_id == branch_id), None)
        if kept is None:
            return []
        return [self.candidates[c] for c in kept.candidate_ids if c in self.candidates]

    def kept_path(self, branch_id: str) -> pe.KeptPath | None:
        return next((p for p in self.kept if p.branch_id == branch_id), None)

    def judgement(self, path_id: str) -> pe.PortalPathJudged | None:
        """The last verdict on a path."""
        return next((j for j in reversed(self.judged) if j.path_id == path_id), None)

    def pivots_of(self, branch_id: str) -> list[pe.PivotInfo]:
        return [p for p in self.pivots if p.branch_id == branch_id]

    def compare(
        self, a: str, b: str
    ) -> list[tuple[int, CandidateInfo | None, CandidateInfo | None]]:
        """Two kept paths side by side, position by position (origin first)."""
        left, right = self.path(a), self.path(b)
        return [
            (i, left[i] if i < len(left) else None, right[i] if i < len(right) else None)
            for i in range(max(len(left), len(right)))
        ]

    def as_json(self, timepoints: Mapping[tuple[str, int], str] | None = None) -> dict[str, Any]:
        """The search, its paths (each with its steps, scores and coherence), the divergence
        by position and the pivots, as plain JSON data. ``timepoints`` maps (branch, index)
        to the timepoint that plays a path's state."""
        tps = timepoints or {}
        steps = self.steps
        paths = []
        for kept in self.kept:
            verdict = self.judgement(kept.path_id)
            states = self.path(kept.branch_id)
            paths.append(
                {
                    "path_id": kept.path_id,
                    "rank": kept.rank,
                    "branch_id": kept.branch_id,
                    "coherence": kept.coherence,
                    "links": list(verdict.links) if verdict else [],
                    "score": kept.score,
                    "cluster": kept.cluster,
                    "warning": kept.warning,
                    "backtracks": verdict.backtracks if verdict else 0,
                    "steps": [
                        {
                            "position": i,
                            "slot": c.slot,
                            "candidate_id": c.candidate_id,
                            "timepoint_id": tps.get((kept.branch_id, i)),
                            "when": c.when.isoformat(),
                            "title": c.title,
                            "description": c.description,
                            "key_events": list(c.key_events),
                            "score": c.score,
                            "components": c.components,
                            "missing": c.missing,
                        }
                        for i, c in enumerate(states)
                    ],
                }
            )
        return {
            "search": self.settings.model_dump(
                mode="json", exclude={"run_id", "seq", "sim_time", "branch_id", "type"}
            )
            if self.settings
            else None,
            "candidates": len(self.candidates),
            "failures": [
                f.model_dump(
                    mode="json", include={"stage", "slot", "later_id", "candidate_id", "error"}
                )
                for f in self.failures
            ],
            "judged": [
                j.model_dump(
                    mode="json", exclude={"run_id", "seq", "sim_time", "branch_id", "type"}
                )
                for j in self.judged
            ],
            "paths": paths,
            "divergence": [
                {"position": p, "slot": steps - p, "value": v}
                for p, v in enumerate(self.divergence)
            ],
            "key_positions": list(self.key_positions),
            "pivots": [p.model_dump(mode="json") for p in self.pivots],
        }


def _replace(info: CandidateInfo, **changes: Any) -> CandidateInfo:
    from dataclasses import replace

    return replace(info, **changes)
