"""Convergence (after the reference design's appendix): how stable runs of one scenario are,
judged by how alike their causal graphs are. :mod:`.compare` is the pure comparison,
:mod:`.graphs` reads a stored run's graph, :mod:`.running` makes, compares and records sets."""

from .compare import (
    STRUCTURAL_KINDS,
    Convergence,
    ConvergenceError,
    DivergencePoint,
    RunGraph,
    compare,
    describe,
    grade,
    jaccard,
)
from .running import (
    MAX_RUNS,
    ConvergenceSet,
    compare_stored,
    run_convergence,
    seeds_for,
    stored_set,
    stored_sets,
)

__all__ = [
    "MAX_RUNS",
    "STRUCTURAL_KINDS",
    "Convergence",
    "ConvergenceError",
    "ConvergenceSet",
    "DivergencePoint",
    "RunGraph",
    "compare",
    "compare_stored",
    "describe",
    "grade",
    "jaccard",
    "run_convergence",
    "seeds_for",
    "stored_set",
    "stored_sets",
]
