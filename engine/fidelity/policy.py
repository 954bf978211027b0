"""Who gets how much detail at a timepoint (M1, M2, M5, M6): a pure decision over what is known
of each entity there.

What each level does: TENSOR_ONLY is carried as tensors and a line of identity and makes no
calls; SCENE witnesses what happens in front of it; GRAPH also learns from what is said and has
an inner life; DIALOG also speaks; TRAINED speaks with everything it knows, all its
relationships and its memory.

For an entity the scenario does not pin to a level, a present one gets the template's level for
people present, the template's ``central`` level when its eigenvector centrality in the
relationship graph reaches the threshold, and the scene's leads (the most central and most
concerned people present, as many as the template says) get the template's lead level, or its
critical lead level at a critical moment. Absent, it keeps its level until nobody has looked at
it for ``idle_timepoints`` timepoints, then falls back to its compressed form (TENSOR_ONLY).
Whatever the scenario says, queries raise it: an elevation by a query holds for a while, and
enough queries raise it for good (DIALOG, then TRAINED). A pinned entity never goes below its
pin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..model.common import ResolutionLevel as Level
from .templates import Template, Thresholds


@dataclass(frozen=True, slots=True)
class Standing:
    """What the policy knows about one entity at one timepoint."""

    entity_id: str
    present: bool
    current: Level
    pinned: Level | None = None
    centrality: float = 0.0  # eigenvector centrality, normalised so the most central is 1
    concern: float = 0.0  # how much the moment is about it (named in the event, assertive)
    can_speak: bool = True
    queries: int = 0  # questions asked of it so far on this lineage
    held: Level | None = None  # raised by a query, still holding
    idle: int = 0  # timepoints in a row nobody looked at it (absent, not asked)


@dataclass(frozen=True, slots=True)
class Decision:
    level: Level
    reason: str

    @property
    def compressed(self) -> bool:
        return self.level == Level.TENSOR_ONLY


def centrality(nodes: Sequence[str], edges: Mapping[tuple[str, str], float]) -> dict[str, float]:
    """Eigenvector centrality of the relationship graph (the principal eigenvector of its
    weighted adjacency matrix), normalised so the largest is 1; all zero when nobody is
    related. ``edges`` maps a pair to its weight (how strong the tie)."""
    index = {n: i for i, n in enumerate(nodes)}
    adjacency = np.zeros((len(nodes), len(nodes)))
    for (a, b), weight in edges.items():
        if a in index and b in index and a != b and weight > 0:
            adjacency[index[a], index[b]] = adjacency[index[b], index[a]] = weight
    if not adjacency.any():
        return dict.fromkeys(nodes, 0.0)
    # A shift by the identity keeps the iteration from oscillating on bipartite graphs.
    _, vectors = np.linalg.eigh(adjacency + np.eye(len(nodes)))
    principal = np.abs(vectors[:, -1])
    top = float(principal.max())
    return {n: round(float(principal[i]) / top, 4) for n, i in index.items()}


def _query_level(s: Standing, t: Thresholds) -> tuple[Level, str] | None:
    if s.queries >= t.trained_access:
        return Level.TRAINED, f"asked {s.queries} times"
    if s.queries >= t.frequent_access:
        return Level.DIALOG, f"asked {s.queries} times"
    return None


def decide(
    standings: Sequence[Standing],
    *,
    importance: float,
    template: Template,
    thresholds: Thresholds,
    max_speakers: int,
    step_level: Level | None = None,
) -> dict[str, Decision]:
    """The level of every entity at one timepoint, with the reason for it."""
    critical = importance >= thresholds.critical_event
    lead_level = step_level or (template.critical_lead if critical else template.lead)
    count = template.lead_count(max_speakers)
    free = [s for s in standings if s.present and s.pinned is None and s.can_speak]
    free.sort(key=lambda s: (-(s.concern + s.centrality), s.entity_id))
    leads = {s.entity_id for s in (free if count is None else free[:count])}
    out: dict[str, Decision] = {}
    for s in standings:
        options: list[tuple[Level, str]] = []
        if s.pinned is not None:
            options.append((s.pinned, "set by the scenario"))
        elif s.present:
            options.append((template.present, "present"))
            if s.centrality >= thresholds.central_node:
                options.append((template.central, f"central in the relationships ({s.centrality})"))
            if critical:
                options.append((Level.SCENE, "present at a critical moment"))
            if s.entity_id in leads:
                why = "leads a critical moment" if critical else "leads the scene"
                options.append((lead_level, why))
        elif s.idle >= thresholds.idle_timepoints:
            options.append((Level.TENSOR_ONLY, f"compressed: unseen for {s.idle} timepoints"))
        else:
            options.append((s.current, "away"))
        by_queries = _query_level(s, thresholds)
        if by_queries is not None:
            options.append(by_queries)
        if s.held is not None:
            options.append((s.held, "raised by a query"))
        level, reason = options[0]
        for candidate, why in options[1:]:
            if candidate.rank > level.rank:
                level, reason = candidate, why
        out[s.entity_id] = Decision(level, reason)
    return out


def speaks(level: Level) -> bool:
    return level.rank >= Level.DIALOG.rank


def witnesses(level: Level) -> bool:
    return level.rank >= Level.SCENE.rank


def learns(level: Level) -> bool:
    """Knowledge extraction reaches it and it has an inner life."""
    return level.rank >= Level.GRAPH.rank
