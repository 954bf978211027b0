"""Heterogeneous, query-driven resolution (M1, M5).

Each (entity, timepoint) has its own resolution. An entity that is merely present is rendered at
least at SCENE; one that speaks at least at DIALOG; a present entity at a critical moment at
least at GRAPH. Resolution never drops within a run here; compression after disuse (M6) comes
with query-driven elevation.
"""

from __future__ import annotations

from ..model.common import ResolutionLevel

CRITICAL_IMPORTANCE = 0.8


def resolution_for(
    current: ResolutionLevel, *, present: bool, speaks: bool, importance: float
) -> tuple[ResolutionLevel, str | None]:
    """The resolution an entity needs at a timepoint, and why it changed (None if it did not)."""
    target = current
    reason = None
    if present and target.rank < ResolutionLevel.SCENE.rank:
        target, reason = ResolutionLevel.SCENE, "present in the scene"
    if present and importance >= CRITICAL_IMPORTANCE and target.rank < ResolutionLevel.GRAPH.rank:
        target, reason = ResolutionLevel.GRAPH, "present at a critical moment"
    if speaks and target.rank < ResolutionLevel.DIALOG.rank:
        target, reason = ResolutionLevel.DIALOG, "takes part in the dialog"
    return target, reason
