"""How alike the causal graphs of several runs of one scenario are: pure comparison, no I/O.

Each run is a :class:`RunGraph`: its edges by content key (see :mod:`engine.export.graph`), each
with the timepoint where it happened, named by content (its position in the run and its title).

The score is the mean, over every pair of runs, of the Jaccard similarity of their edge sets
(shared edges over all the edges either has). Only the edges that record what *happened* are
scored: knowledge passing between entities and the causal edges (an entity learning something
at a timepoint, a speaker drawing on what they knew). Temporal edges (a timepoint following
another) are structural: in a scenario with a fixed timeline every run has the same ones
whatever happened, so counting them would let two runs that share nothing but their skeleton
look alike. They are still listed (consensus, contested, divergence) but never scored. A pair
of runs with no scored edge at all has nothing to agree on and scores 0, not 1.

The grade follows the score: A ≥ 0.9, B ≥ 0.8, C ≥ 0.7, D ≥ 0.5, else F.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

Key = tuple[str, str, str]  # (kind, source key, target key)

STRUCTURAL_KINDS = frozenset({"temporal"})
GRADES = ((0.9, "A"), (0.8, "B"), (0.7, "C"), (0.5, "D"))


class ConvergenceError(Exception):
    """Runs that cannot be compared, or bad input: one sentence."""


def grade(score: float) -> str:
    for floor, letter in GRADES:
        if score >= floor:
            return letter
    return "F"


def jaccard(a: frozenset[Key], b: frozenset[Key]) -> float:
    """|a ∩ b| / |a ∪ b|; two empty sets share nothing, so 0."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def scored(key: Key) -> bool:
    return key[0] not in STRUCTURAL_KINDS


@dataclass(frozen=True)
class RunGraph:
    """One run's graph: each content key with the position (1-based) of the timepoint where it
    first happened, and the title of each position."""

    run_id: str
    seed: int
    edges: Mapping[Key, int]
    titles: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, run_id: str, seed: int, edges: Iterable[tuple[Key, int]], titles: Mapping[int, str]
    ) -> RunGraph:
        found: dict[Key, int] = {}
        for key, position in edges:
            found.setdefault(tuple(key), position)  # type: ignore[arg-type]
        return cls(run_id, seed, found, dict(titles))

    @property
    def keys(self) -> frozenset[Key]:
        return frozenset(self.edges)

    @property
    def scored_keys(self) -> frozenset[Key]:
        return frozenset(k for k in self.edges if scored(k))


def describe(key: Key) -> str:
    """An edge as a sentence fragment, from its content key alone."""
    kind, source, target = key
    if kind == "temporal":
        return f"{_tp(target)} follows {_tp(source)}"
    if kind == "knowledge_flow":
        teller, _, hearer = source.partition(">")
        return f"{teller} told {hearer} “{target}…”"
    if source.startswith("knows:"):
        speaker, _, at = target.removeprefix("says:").partition("@")
        return f"{speaker} drew on “{source.removeprefix('knows:')}…” at {_tp(at)}"
    entity, _, fact = target.partition(":")
    return f"{entity} took in “{fact}…” at {_tp(source)}"


def _tp(key: str) -> str:
    return "the start" if key == "start" else f"‘{key.removeprefix('tp:')}’"


@dataclass(frozen=True)
class EdgeShare:
    """An edge and the runs (by index) that have it."""

    key: Key
    position: int
    runs: tuple[int, ...]
    total: int  # how many runs were compared

    @property
    def agreement(self) -> float:
        return len(self.runs) / self.total

    def to_json(self, graphs: Sequence[RunGraph]) -> dict[str, Any]:
        return {
            "kind": self.key[0],
            "key": list(self.key),
            "text": describe(self.key),
            "position": self.position,
            "scored": scored(self.key),
            "present_in": len(self.runs),
            "of": self.total,
            "runs": [graphs[i].run_id for i in self.runs],
        }


@dataclass(frozen=True)
class Side:
    """The runs that did the same thing at a divergence point, and what only some runs did."""

    runs: tuple[int, ...]
    edges: tuple[Key, ...]  # this side's edges at the point that not every run has


@dataclass(frozen=True)
class DivergencePoint:
    position: int
    title: str
    shared: int  # edges at the point that every run has
    total: int  # edges at the point that any run has
    sides: tuple[Side, ...]

    @property
    def agreement(self) -> float:
        return self.shared / self.total if self.total else 1.0

    def to_json(self, graphs: Sequence[RunGraph]) -> dict[str, Any]:
        return {
            "position": self.position,
            "title": self.title,
            "agreement": round(self.agreement, 6),
            "shared_edges": self.shared,
            "edges": self.total,
            "sides": [
                {
                    "runs": [graphs[i].run_id for i in side.runs],
                    "seeds": [graphs[i].seed for i in side.runs],
                    "did": [describe(k) for k in side.edges],
                }
                for side in self.sides
            ],
        }


@dataclass(frozen=True)
class Convergence:
    graphs: tuple[RunGraph, ...]
    score: float
    pairs: tuple[tuple[int, int, float], ...]
    consensus: tuple[EdgeShare, ...]
    contested: tuple[EdgeShare, ...]
    divergence: tuple[DivergencePoint, ...]

    @property
    def grade(self) -> str:
        return grade(self.score)

    def to_json(self) -> dict[str, Any]:
        g = self.graphs
        return {
            "score": self.score,
            "grade": self.grade,
            "scored_kinds": "knowledge_flow and causal (temporal edges are listed, not scored)",
            "counts": {
                "runs": len(g),
                "edges": len(self.consensus) + len(self.contested),
                "scored_edges": sum(1 for e in (*self.consensus, *self.contested) if scored(e.key)),
                "consensus": len(self.consensus),
                "contested": len(self.contested),
                "divergence_points": len(self.divergence),
            },
            "pairs": [
                {"runs": [g[i].run_id, g[j].run_id], "jaccard": round(s, 6)}
                for i, j, s in self.pairs
            ],
            "runs": [
                {
                    "run_id": r.run_id,
                    "seed": r.seed,
                    "edges": len(r.edges),
                    "scored_edges": len(r.scored_keys),
                }
                for r in g
            ],
            "consensus_edges": [e.to_json(g) for e in self.consensus],
            "contested_edges": [e.to_json(g) for e in self.contested],
            "divergence_points": [d.to_json(g) for d in self.divergence],
        }


def compare(graphs: Sequence[RunGraph]) -> Convergence:
    """Compare two or more runs' graphs."""
    graphs = tuple(graphs)
    n = len(graphs)
    if n < 2:
        raise ConvergenceError("convergence compares at least two runs")
    pairs = tuple(
        (i, j, jaccard(graphs[i].scored_keys, graphs[j].scored_keys))
        for i, j in combinations(range(n), 2)
    )
    score = sum(s for _, _, s in pairs) / len(pairs)
    if all(s == 1.0 for _, _, s in pairs):
        score = 1.0  # exactly, not a float sum's approximation
    holders: dict[Key, list[int]] = {}
    where: dict[Key, int] = {}
    for index, graph in enumerate(graphs):
        for key, position in graph.edges.items():
            holders.setdefault(key, []).append(index)
            where[key] = min(where.get(key, position), position)
    shares = [EdgeShare(k, where[k], tuple(r), n) for k, r in holders.items()]
    consensus = sorted((s for s in shares if len(s.runs) == n), key=lambda s: (s.position, s.key))
    contested = sorted(
        (s for s in shares if len(s.runs) < n),
        # most evenly split first, scored before structural, then in timeline order
        key=lambda s: (abs(2 * len(s.runs) - n), not scored(s.key), s.position, s.key),
    )
    return Convergence(
        graphs,
        score,
        pairs,
        tuple(consensus),
        tuple(contested),
        tuple(_divergence(graphs)),
    )


def _divergence(graphs: Sequence[RunGraph]) -> list[DivergencePoint]:
    """The timepoints where the runs' edges disagree, least agreement first. At each point the
    scored edges are judged (the structural ones only where a point has no other)."""
    n = len(graphs)
    by_point: dict[int, dict[int, set[Key]]] = {}
    for index, graph in enumerate(graphs):
        for key, position in graph.edges.items():
            by_point.setdefault(position, {}).setdefault(index, set()).add(key)
    points = []
    for position, per_run in by_point.items():
        every = set().union(*per_run.values())
        judged = {k for k in every if scored(k)} or every
        shared = {k for k in judged if all(k in per_run.get(i, ()) for i in range(n))}
        if len(shared) == len(judged):
            continue
        groups: dict[frozenset[Key], list[int]] = {}
        for i in range(n):
            own = frozenset(k for k in per_run.get(i, ()) if k in judged and k not in shared)
            groups.setdefault(own, []).append(i)
        sides = tuple(
            Side(tuple(runs), tuple(sorted(own)))
            for own, runs in sorted(groups.items(), key=lambda g: (-len(g[1]), g[1]))
        )
        points.append(
            DivergencePoint(position, _title(graphs, position), len(shared), len(judged), sides)
        )
    return sorted(points, key=lambda p: (p.agreement, p.position))


def _title(graphs: Sequence[RunGraph], position: int) -> str:
    titles = []
    for g in graphs:
        t = g.titles.get(position)
        if t and t not in titles:
            titles.append(t)
    return " / ".join(titles) if titles else f"timepoint {position}"
