"""The causal graph of a run (M7): timepoints linked to the timepoints that caused them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.timepoint import Timepoint

if TYPE_CHECKING:
    import networkx as nx


class CausalGraph:
    def __init__(self) -> None:
        import networkx as nx  # imported when first needed: it is slow to import

        self._nx = nx
        self.graph: nx.DiGraph = nx.DiGraph()

    def add(self, timepoint: Timepoint) -> None:
        if timepoint.causal_parent is not None and timepoint.causal_parent not in self.graph:
            raise ValueError(f"unknown causal parent {timepoint.causal_parent!r}")
        self.graph.add_node(timepoint.timepoint_id, timestamp=timepoint.timestamp)
        if timepoint.causal_parent is not None:
            self.graph.add_edge(timepoint.causal_parent, timepoint.timepoint_id, kind="temporal")

    def ancestors(self, timepoint_id: str) -> set[str]:
        return set(self._nx.ancestors(self.graph, timepoint_id))

    def can_know(self, source_timepoint: str | None, at_timepoint: str) -> bool:
        """Information from ``source_timepoint`` is accessible at ``at_timepoint`` only when a
        causal path leads from one to the other. Initial knowledge (None) is always accessible."""
        if source_timepoint is None or source_timepoint == at_timepoint:
            return True
        return source_timepoint in self.ancestors(at_timepoint)
