"""Causal visibility (M7): what can be known at a moment is what lies on a causal path to it.

A run's timepoints form a directed acyclic graph (a chain for FORWARD, a tree once branches
fork, a search graph for PORTAL). Information that entered the world at timepoint ``A`` is
accessible at ``M`` only when ``A`` is ``M`` or one of its ancestors; knowledge held from the
start (no timepoint) is accessible everywhere. Every question of the form "what did X know at
M" (the simulation, the read model, queries) is answered through :class:`CausalGraph`, never
by comparing indexes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx


class CausalGraph:
    def __init__(self) -> None:
        import networkx as nx  # imported when first needed: it is slow to import

        self.graph: nx.DiGraph = nx.DiGraph()
        self._ancestry: dict[str, frozenset[str]] = {}
        self.version = 0  # counts changes, so readers can tell when what they derived is stale

    def __contains__(self, timepoint_id: object) -> bool:
        return timepoint_id in self.graph

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    def add(self, timepoint_id: str, parent: str | None = None, *, kind: str = "temporal") -> None:
        """A timepoint and the one it follows from (None for a root)."""
        if parent is not None and parent not in self.graph:
            raise ValueError(f"unknown causal parent {parent!r}")
        if timepoint_id in self.graph and parent is not None:
            self._ancestry.clear()  # a new edge into an existing node changes ancestries
        self.version += 1
        self.graph.add_node(timepoint_id)
        if parent is not None:
            self.graph.add_edge(parent, timepoint_id, kind=kind)

    def parents(self, timepoint_id: str) -> tuple[str, ...]:
        return tuple(self.graph.predecessors(timepoint_id))

    def ancestors(self, timepoint_id: str) -> frozenset[str]:
        """Every timepoint with a causal path to ``timepoint_id`` (itself excluded)."""
        found = self._ancestry.get(timepoint_id)
        if found is None:
            import networkx as nx

            found = frozenset(nx.ancestors(self.graph, timepoint_id))
            self._ancestry[timepoint_id] = found
        return found

    def lineage(self, timepoint_id: str | None) -> frozenset[str]:
        """``timepoint_id`` and its ancestors: the moments whose information reaches it. The
        empty set before the first timepoint (None) or for a moment the graph does not hold."""
        if timepoint_id is None or timepoint_id not in self.graph:
            return frozenset()
        return self.ancestors(timepoint_id) | {timepoint_id}

    def can_know(self, source_timepoint: str | None, at_timepoint: str | None) -> bool:
        """Whether information that entered at ``source_timepoint`` is accessible at
        ``at_timepoint``. Knowledge from the start (``None`` or ``""``) always is; nothing that
        happened at a timepoint is accessible before the first one (``at_timepoint`` None)."""
        if not source_timepoint:
            return True
        if at_timepoint is None:
            return False
        return source_timepoint == at_timepoint or source_timepoint in self.ancestors(at_timepoint)
