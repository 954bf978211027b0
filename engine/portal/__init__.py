"""The pure core of PORTAL (M17), reasoning back from a known endpoint to an origin.

Here are the parts a PORTAL strategy drives and that need no model, no events and no store: the
search graph of candidate states (:mod:`.graph`), their hybrid score (:mod:`.scoring`), the
beam that keeps the best of a step (:mod:`.beam`), the order the steps are explored in
(:mod:`.order`), forward coherence and what to do about a weak path (:mod:`.coherence`), where
the kept paths disagree (:mod:`.divergence`) and where each path turns (:mod:`.pivots`).
Everything is deterministic: the same inputs always give the same results.
"""

from __future__ import annotations

from .beam import select
from .coherence import Verdict, coherence, verdict, weakest_link
from .divergence import divergence, key_steps, per_path
from .graph import Candidate, SearchGraph
from .order import STRATEGIES, adaptive, neighbour_spread, oscillating, plan, reverse_chronological
from .pivots import Pivot, detect
from .scoring import COMPONENTS, DEFAULT_WEIGHTS, Scored, hybrid

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "STRATEGIES",
    "Candidate",
    "Pivot",
    "Scored",
    "SearchGraph",
    "Verdict",
    "adaptive",
    "coherence",
    "detect",
    "divergence",
    "hybrid",
    "key_steps",
    "neighbour_spread",
    "oscillating",
    "per_path",
    "plan",
    "reverse_chronological",
    "select",
    "verdict",
    "weakest_link",
]
